"""Comparison tables across agencies and years, from an ingested database, as CSV or Excel.

Two header rows: readable Chinese labels built from cells.csv (表三 / 一、本年新收… / 自然人), then
the cell codes, so a person can read the sheet and a program can key on it. CSV is written in UTF-8
with a BOM because Excel and WPS otherwise guess GBK and garble it.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from extractor.lexicon.labels import cell_catalogue as cells_csv
from extractor.lexicon.labels import failure_text, file_status_label, rule_title, severity_label
from extractor.store import database as storage

TABLE_NAMES = {"t2": "表二", "t3": "表三", "t4": "表四"}
FIXED = [
    ("agency", "机构"),
    ("agency_key", "机构键"),
    ("year", "年度"),
    ("template", "模板"),
    ("source", "来源文件"),
    ("status", "状态"),
    ("errors", "错误数"),
    ("warnings", "警告数"),
]
BY_YEAR_FIXED = [("agency", "机构"), ("agency_key", "机构键")]


class CompareError(Exception):
    """Bad arguments or an unusable database; one-line message."""


@lru_cache(maxsize=1)
def cell_catalogue() -> tuple[list[str], dict[str, str]]:
    """(codes in cells.csv order, {code: readable label})."""
    codes, labels = [], {}
    for row in cells_csv().values():
        parts = [TABLE_NAMES.get(row["table"], row["table"])]
        parts += [p for p in (row["group"], row["row"], row["column"]) if p]
        codes.append(row["code"])
        labels[row["code"]] = " / ".join(parts)
    return codes, labels


@dataclass
class _Row:
    id: int
    agency: str | None
    agency_key: str | None
    year: int | None
    template: str | None
    source: str
    values: dict[str, Any] = field(default_factory=dict)
    marks: dict[str, list[str]] = field(default_factory=dict)  # code -> error notes (rule: message)
    errors: int = 0
    warnings: int = 0
    status: str = ""  # in words: 已读取 / 未识别机构 / 未能读取：reason

    def __post_init__(self) -> None:
        if not self.status:
            self.status = file_status_label("ok" if self.agency else "no_agency")


def _select(conn: Connection, year: int | None, agency: str | None) -> list[_Row]:
    """The canonical copy of each agency-year (store/copies.py), filtered."""
    sql = "SELECT id, agency, agency_key, year, template, path FROM reports WHERE status = 'ok' AND canonical = TRUE"
    params: dict[str, Any] = {}
    if year is not None:
        sql += " AND year = :year"
        params["year"] = year
    rows = [_Row(*r) for r in conn.execute(text(sql + " ORDER BY agency_key, year, path"), params)]
    if agency:
        needle = agency.casefold()
        key = storage.agency_key(agency) or ""
        rows = [r for r in rows if needle in (r.agency or "").casefold() or (key and key in (r.agency_key or ""))]
    elif year is None:  # a file that could not be read has no agency or year: listed when nothing is filtered
        failed = "SELECT id, path, error, error_kind FROM reports WHERE status = 'failed' ORDER BY path"
        rows += [
            _Row(rid, None, None, None, None, path, status=f"{file_status_label('not_a_report' if kind == 'not_a_report' else 'failed')}：{failure_text(error or '', kind)}")
            for rid, path, error, kind in conn.execute(text(failed))
        ]
    return rows


def _load(conn: Connection, rows: list[_Row]) -> list[dict[str, Any]]:
    """Fill values and error marks of the selected rows; return their findings (report and cross)."""
    by_id = {r.id: r for r in rows}
    for rid, code, value in conn.execute(text("SELECT report_id, code, value FROM cells")):
        if rid in by_id:
            by_id[rid].values[code] = value
    findings: list[dict[str, Any]] = []
    queries = [
        (
            "report",
            "SELECT report_id, rule, severity, message, codes, expected, actual, page FROM findings ORDER BY id",
        ),
        (
            "cross",
            "SELECT report_id, rule, severity, message, codes, expected, actual, NULL FROM cross_findings ORDER BY id",
        ),
    ]
    for kind, sql in queries:
        for rid, rule, sev, msg, codes, exp, act, page in conn.execute(text(sql)):
            row = by_id.get(rid)
            if row is None:
                continue
            code_list = json.loads(codes)
            if sev == "error":
                row.errors += 1
                for code in code_list:
                    row.marks.setdefault(code, []).append(f"{rule_title(rule)}：{msg}")
            elif sev == "warning":
                row.warnings += 1
            findings.append(
                {
                    "agency": row.agency,
                    "year": row.year,
                    "source": row.source,
                    "kind": "跨报告" if kind == "cross" else "本报告",
                    "title": rule_title(rule),
                    "rule": rule,
                    "severity": severity_label(sev),
                    "level": sev,
                    "message": msg,
                    "codes": ", ".join(code_list),
                    "expected": exp,
                    "actual": act,
                    "page": page,
                }
            )
    return findings


def _codes(rows: list[_Row], pattern: str | None) -> list[str]:
    """Codes to show: cells.csv order, those present in the selection, filtered by glob pattern(s)."""
    order, _ = cell_catalogue()
    present = set().union(*(r.values.keys() for r in rows)) if rows else set()
    codes = [c for c in order if c in present] + sorted(present - set(order))
    if pattern:
        pats = [p.strip() for p in pattern.split(",") if p.strip()]
        codes = [c for c in codes if any(fnmatch.fnmatchcase(c, p) for p in pats)]
    return codes


def compare(
    db_path: str,
    out_path: str,
    year: int | None = None,
    agency: str | None = None,
    codes: str | None = None,
    by_year: bool = False,
) -> int:
    """Write the comparison table to `out_path` (.csv or .xlsx); returns the number of data rows."""
    ext = os.path.splitext(out_path)[1].lower()
    if ext not in (".csv", ".xlsx"):
        raise CompareError(f"output must end in .csv or .xlsx, not {out_path!r}")
    if not storage.is_database_url(db_path) and not os.path.exists(db_path):
        raise CompareError(f"database not found: {db_path}")
    try:
        db = storage.connect(db_path)
    except storage.StorageError as exc:
        raise CompareError(str(exc)) from None
    try:
        with db.read() as conn:
            rows = _select(conn, year, agency)
            findings = _load(conn, rows)
    finally:
        db.close()
    code_list = _codes(rows, codes)
    if codes and not code_list and rows:
        raise CompareError(f"no cell code matches {codes!r}")
    table = _by_year_table(rows, code_list) if by_year else _wide_table(rows, code_list)
    if ext == ".csv":
        _write_csv(out_path, table)
    else:
        _write_xlsx(out_path, table, findings)
    return len(table.data)


@dataclass
class _Table:
    labels: list[str]
    codes: list[str]
    data: list[list[Any]]
    marks: list[dict[int, list[str]]]  # per data row: column index -> error notes
    n_fixed: int


def _wide_table(rows: list[_Row], codes: list[str]) -> _Table:
    _, labels = cell_catalogue()
    head_codes = [c for c, _ in FIXED] + codes
    head_labels = [lab for _, lab in FIXED] + [labels.get(c, c) for c in codes]
    data, marks = [], []
    for r in rows:
        data.append(
            [r.agency, r.agency_key, r.year, r.template, r.source, r.status, r.errors, r.warnings]
            + [r.values.get(c) for c in codes]
        )
        marks.append({len(FIXED) + i: r.marks[c] for i, c in enumerate(codes) if c in r.marks})
    return _Table(head_labels, head_codes, data, marks, len(FIXED))


def _by_year_table(rows: list[_Row], codes: list[str]) -> _Table:
    """One row per agency key; per code, each year's value then the change from the year before."""
    _, labels = cell_catalogue()
    years = sorted({r.year for r in rows if r.year is not None})
    agencies: dict[str, dict[int, _Row]] = defaultdict(dict)
    names: dict[str, str] = {}
    for r in rows:
        if r.year is None:
            continue
        key = r.agency_key or r.agency or r.source
        agencies[key][r.year] = r  # one per agency-year: the canonical copy
        names[key] = r.agency or key
    head_codes = [c for c, _ in BY_YEAR_FIXED]
    head_labels = [lab for _, lab in BY_YEAR_FIXED]
    columns: list[tuple[str, int, int | None]] = []  # (code, year, previous year for a change column)
    for code in codes:
        for i, y in enumerate(years):
            columns.append((code, y, None))
            head_codes.append(f"{code}[{y}]")
            head_labels.append(f"{labels.get(code, code)} · {y}")
            if i:
                columns.append((code, y, years[i - 1]))
                head_codes.append(f"{code}[{y}-{years[i - 1]}]")
                head_labels.append(f"{labels.get(code, code)} · 变化 {years[i - 1]}→{y}")
    data, marks = [], []
    for key in sorted(agencies, key=lambda k: (names[k], k)):
        per_year = agencies[key]
        line: list[Any] = [names[key], key]
        mark: dict[int, list[str]] = {}
        for code, y, prev in columns:
            cur = per_year.get(y)
            value = cur.values.get(code) if cur else None
            if prev is None:
                if cur and code in cur.marks:
                    mark[len(line)] = cur.marks[code]
                line.append(value)
            else:
                before = per_year.get(prev)
                old = before.values.get(code) if before else None
                line.append(value - old if isinstance(value, int | float) and isinstance(old, int | float) else None)
        data.append(line)
        marks.append(mark)
    return _Table(head_labels, head_codes, data, marks, len(BY_YEAR_FIXED))


def _write_csv(path: str, table: _Table) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(table.labels)
        w.writerow(table.codes)
        for line in table.data:
            w.writerow(["" if v is None else v for v in line])


def _display_width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _write_xlsx(path: str, table: _Table, findings: list[dict[str, Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    red = PatternFill(start_color="FFFF9999", end_color="FFFF9999", fill_type="solid")
    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(table.labels)
    ws.append(table.codes)
    for cell in ws[1]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in ws[2]:
        cell.font = Font(color="FF666666", size=9)
    for r, (line, mark) in enumerate(zip(table.data, table.marks, strict=True), start=3):
        ws.append(line)
        for col, notes in mark.items():
            cell = ws.cell(row=r, column=col + 1)
            cell.fill = red
            text = "\n".join(dict.fromkeys(notes))
            cell.comment = Comment(text[:2000], "extractor", width=360, height=140)
    for i, code in enumerate(table.codes):
        values = [line[i] for line in table.data[:2000]]
        if i < table.n_fixed:
            width = max([_display_width(table.labels[i]), _display_width(code)] + [_display_width(v) for v in values])
        else:  # labels wrap; fit the code and the numbers
            width = max([_display_width(code), 8] + [_display_width(v) for v in values])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(width + 2, 60)
    ws.row_dimensions[1].height = 75
    ws.freeze_panes = ws.cell(row=3, column=table.n_fixed + 1)
    if table.data:
        ws.auto_filter.ref = f"A2:{get_column_letter(len(table.codes))}{len(table.data) + 2}"

    fs = wb.create_sheet("发现")
    head = [
        ("agency", "机构"),
        ("year", "年度"),
        ("source", "来源文件"),
        ("kind", "类别"),
        ("title", "问题"),
        ("severity", "级别"),
        ("message", "说明"),
        ("codes", "单元格"),
        ("expected", "应为"),
        ("actual", "实为"),
        ("page", "页"),
        ("rule", "规则编号"),
    ]
    fs.append([lab for _, lab in head])
    for cell in fs[1]:
        cell.font = bold
    order = {"error": 0, "warning": 1, "info": 2}
    for f in sorted(findings, key=lambda f: (order.get(f["level"], 3), f["agency"] or "", f["year"] or 0)):
        fs.append([f[k] for k, _ in head])
    widths = {"agency": 24, "source": 30, "title": 22, "rule": 28, "message": 80, "codes": 40}
    for i, (key, _) in enumerate(head, start=1):
        fs.column_dimensions[get_column_letter(i)].width = widths.get(key, 10)
    fs.freeze_panes = "A2"
    wb.save(path)
