"""The result of parsing one report: plain data that serialises to the contract of spec/OUTPUT.md."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(slots=True)  # millions of cells are held at once by the cross-report checks of a national database
class Cell:
    code: str
    value: int | float | None
    raw: str
    page: int | None = None
    confidence: float = 1.0
    label: str = ""  # the row label as printed, for people reading the output
    derived: bool = False  # computed by us (e.g. t3.other.* as the sum of its sub-rows), not printed
    bbox: tuple[float, float, float, float] | None = None  # on `page`, PDF points, top-left origin

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as the constructor's arguments. The default of a slotted dataclass is a Python loop
        over `fields()` per cell both ways, which made a report's ≈ 200 cells most of the cost of
        sending it from an ingest worker to the parent (0.56 → 0.31 ms a corpus report, both sides)."""
        return (Cell, (self.code, self.value, self.raw, self.page, self.confidence, self.label, self.derived, self.bbox))


@dataclass
class Finding:
    rule: str
    severity: str  # error | warning | info
    message: str
    codes: list[str] = field(default_factory=list)
    section: str | None = None
    expected: int | float | None = None
    actual: int | float | None = None
    page: int | None = None


@dataclass
class Statement:
    """A number the narrative states about the tables ('全年共受理政府信息公开申请21件')."""

    codes: list[str]  # the cell, or the cells whose sum the sentence states
    value: int | float
    text: str  # the words around the number (normalised)
    page: int | None = None
    section: str | None = None
    # whose numbers the sentence states, when the words say so (lexicon [narrative_scope]): part,
    # on_behalf, aggregate, area, own, includes_carried_in; '' for the agency's own whole figures
    scope: str = ""


@dataclass
class Sentence:
    """One sentence of the narrative (outside the tables), for the text rules and for spotting
    text reused from last year. `key` is a hash of the text with digits masked (the cross-report
    checks compare keys; `storage.load_reports` fills `text` only where a rule needs it)."""

    text: str
    page: int | None = None
    section: str | None = None
    key: str = ""
    chars: int = 0  # Chinese characters in the sentence (short ones say little when repeated)


@dataclass
class TableBox:
    """Where a statistics table was printed on a PDF page (pdfplumber points, top-left origin),
    so an audit report can show a cropped image of it."""

    table: str  # t2 | t3 | t4
    page: int
    bbox: tuple[float, float, float, float]


@dataclass
class Section:
    code: str
    heading: str
    page: int | None
    found: bool


@dataclass
class Report:
    path: str
    sha256: str
    format: str
    pages: int | None
    agency: str | None = None
    year: int | None = None
    template: str | None = None
    sections: list[Section] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    parser_version: str = ""
    # additions for the audit (not part of the JSON contract): narrative sentences and table positions
    sentences: list[Sentence] = field(default_factory=list)
    table_boxes: list[TableBox] = field(default_factory=list)

    def cell_map(self) -> dict[str, Cell]:
        return {c.code: c for c in self.cells}

    def values(self) -> dict[str, int | float | None]:
        return {c.code: c.value for c in self.cells}

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": {"path": self.path, "sha256": self.sha256, "format": self.format, "pages": self.pages},
            "report": {
                "agency": self.agency,
                "year": self.year,
                "template": self.template,
                "parser_version": self.parser_version,
            },
            "sections": _records(self.sections),
            "cells": _records(self.cells),
            "findings": _records(self.findings),
            "statements": _records(self.statements),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        src, rep = data["source"], data["report"]
        return cls(
            path=src["path"],
            sha256=src.get("sha256", ""),
            format=src.get("format", ""),
            pages=src.get("pages"),
            agency=rep.get("agency"),
            year=rep.get("year"),
            template=rep.get("template"),
            parser_version=rep.get("parser_version", ""),
            sections=[Section(**s) for s in data.get("sections", [])],
            cells=[Cell(**c) for c in data.get("cells", [])],
            findings=[Finding(**f) for f in data.get("findings", [])],
            statements=[Statement(**s) for s in data.get("statements", [])],
        )


def _records(items: list[Any]) -> list[dict[str, Any]]:
    """`dataclasses.asdict` of each of these flat records (their fields hold scalars, tuples of
    numbers and lists of strings), without its recursive deep copy, which was half the time of
    rendering a report as JSON. Lists are copied: the dicts share nothing mutable with the report."""
    if not items:
        return []
    names = [f.name for f in fields(items[0])]
    return [{name: list(v) if isinstance(v := getattr(item, name), list) else v for name in names} for item in items]
