"""The extracted tables laid out as printed: rows × columns from the cell catalogue (cells.csv)."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from importlib import resources

TABLE_NAMES = {"t2": "表二 主动公开政府信息情况", "t3": "表三 收到和处理政府信息公开申请情况", "t4": "表四 政府信息公开行政复议、行政诉讼情况"}


@dataclass
class TableLayout:
    table: str
    title: str
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[str, list[str | None]]] = field(default_factory=list)  # (row label, code per column)


@functools.lru_cache(maxsize=1)
def _catalogue() -> list[dict[str, str]]:
    text = resources.files("extractor.lexicon.data").joinpath("cells.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def layouts(codes: set[str]) -> tuple[list[TableLayout], list[str]]:
    """The tables holding `codes`, and the codes the catalogue does not place (listed apart)."""
    out: list[TableLayout] = []
    placed: set[str] = set()
    for table in ("t2", "t3", "t4"):
        entries = [e for e in _catalogue() if e["table"] == table and e["code"] in codes]
        if not entries:
            continue
        layout = TableLayout(table, TABLE_NAMES[table])
        for e in entries:
            if e["column"] not in layout.columns:
                layout.columns.append(e["column"])
        rows: dict[str, tuple[str, dict[str, str]]] = {}
        for e in entries:
            key = e["code"].rsplit(".", 1)[0]
            label = " ".join(p for p in (e["group"], e["row"]) if p)
            rows.setdefault(key, (label, {}))[1][e["column"]] = e["code"]
            placed.add(e["code"])
        layout.rows = [(label, [by_col.get(c) for c in layout.columns]) for label, by_col in rows.values()]
        out.append(layout)
    return out, sorted(codes - placed)


def catalogue_label(code: str) -> str:
    """The printed row and column of a code ('行政复议 / 总计'), for cells whose label the reader left empty."""
    entry = next((e for e in _catalogue() if e["code"] == code), None)
    if entry is None:
        return ""
    return " / ".join(p for p in (entry["group"], entry["row"], entry["column"]) if p)


def fill_labels(cells: list) -> None:
    for c in cells:
        if not c.label:
            c.label = catalogue_label(c.code)
