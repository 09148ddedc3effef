"""The sentence table (tests/data/sentences.toml): every narrative sentence with a number in the real
fixtures, and realistic variants, with what it states about the tables and the findings it should give.

Why: a false alarm costs a supervisor's trust more than a missed finding. Real reports phrase their
numbers in many ways (combined outcomes, shares of a total stated elsewhere, rounded claims, figures
for a part or for another scope); each phrasing seen is a row here, read by the real reading code and
judged by the real rules against the fixture's truth cells.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from extractor.checks.narrative import check_narrative, check_narrative_parts, check_narrative_percentage
from extractor.lexicon.labels import cell_catalogue
from extractor.lexicon.textnorm import norm
from extractor.reading.narrative import read_statements
from extractor.report import Cell, Report, Sentence

ROOT = Path(__file__).resolve().parent.parent
TABLE = tomllib.loads((ROOT / "tests" / "data" / "sentences.toml").read_text(encoding="utf-8"))["sentence"]
REAL = ROOT / "fixtures" / "real"


def _truth(source: str) -> dict:
    return json.loads((REAL / f"{source}.truth.json").read_text(encoding="utf-8"))


def shorthand(codes: list[str]) -> str:
    """'t3.denied.*.total' for all eight 不予公开 cells, else the codes joined by '+'."""
    catalogue = cell_catalogue()
    out: list[str] = []
    rest = list(codes)
    for code in codes:
        if code not in rest:
            continue
        parts = code.split(".")
        if len(parts) == 4:
            family = [c for c in catalogue if c.startswith(f"{parts[0]}.{parts[1]}.") and c.endswith(f".{parts[3]}") and c.count(".") == 3]
            if len(family) > 1 and all(c in rest for c in family):
                out.append(f"{parts[0]}.{parts[1]}.*.{parts[3]}")
                rest = [c for c in rest if c not in family]
                continue
        out.append(code)
        rest.remove(code)
    return "+".join(out)


def _report(row: dict) -> Report:
    if "source" in row:
        truth = _truth(row["source"])
        cells = dict(truth["cells"])
        agency = row.get("agency", truth["meta"].get("agency"))
        template = truth["meta"].get("template")
    else:
        cells, agency, template = {}, row.get("agency"), row.get("template", "2021")
    cells.update(row.get("cells", {}))
    blank = set(row.get("blank", []))
    report = Report(path="t", sha256="", format="text", pages=None, agency=agency, template=template)
    report.cells = [Cell(code, value, "" if code in blank else str(value)) for code, value in cells.items()]
    report.sentences = [Sentence(text=row["text"], section="overview")]
    report.statements = [st for st, _ in read_statements(norm(row["text"]))]
    return report


def _reads(report: Report) -> list[str]:
    return [f"{shorthand(st.codes)}={st.value}" + (f"@{st.scope}" if st.scope else "") for st in report.statements]


def _findings(report: Report) -> list[str]:
    found = [*check_narrative(report), *check_narrative_percentage(report), *check_narrative_parts(report)]
    return sorted(f"{f.rule}:{f.severity}" for f in found)


@pytest.mark.parametrize("row", TABLE, ids=[f"{i:03d}-{r['text'][:18]}" for i, r in enumerate(TABLE)])
def test_sentence(row: dict) -> None:
    report = _report(row)
    assert _reads(report) == row["reads"], row["text"]
    assert _findings(report) == sorted(row.get("findings", [])), (row["text"], [f.message for f in report.findings])


def test_the_table_holds_every_numbered_sentence_of_the_real_fixtures() -> None:
    """Growing the fixtures grows the table: a real sentence with a number not in it fails here."""
    import re

    import extractor

    listed = {norm(r["text"]) for r in TABLE if "source" in r}
    missing = []
    for truth in sorted(REAL.glob("*.truth.json")):
        source = truth.name[: -len(".truth.json")]
        if source == "kewei2024":  # hard-wrapped lines: its sentences are listed joined
            continue
        document = next(p for p in sorted(REAL.glob(f"{source}.*")) if not p.name.endswith(".truth.json"))
        report = extractor.parse(str(document))
        missing += [s.text for s in report.sentences if re.search(r"\d", s.text) and norm(s.text) not in listed]
    assert not missing, missing[:5]


def test_shares_and_scope_rows_can_fail() -> None:
    """The harness is not blind: a combined phrase read as its last part gives a warning here."""
    row = {"text": "予以公开及部分公开215件。", "cells": {"t3.granted.total": 200, "t3.partial.total": 15}, "reads": []}
    report = _report(row)
    assert _reads(report) == ["t3.granted.total+t3.partial.total=215"]
    report.cells = [c for c in report.cells if c.code != "t3.granted.total"] + [Cell("t3.granted.total", 150, "150")]
    assert _findings(report) == ["narrative.table_mismatch:warning"]
