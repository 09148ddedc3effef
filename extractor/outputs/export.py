"""Tidy exports of a database for researchers: pandas, R, DuckDB or a spreadsheet in two lines.

    extractor export --db reports.db --out panel/            # Parquet (typed columns)
    extractor export --db reports.db --out panel/ --format csv

    import pandas as pd
    wide = pd.read_parquet("panel/reports_wide.parquet")    # one row per agency-year

Four tables, each one file (`NAME.parquet` or `NAME.csv`):

- `cells_long`: one row per extracted cell of the canonical copy of each agency-year, with the
  reviewer's corrected value where there is one (`corrected_value`, see `corrected_values`).
- `reports_wide`: one row per agency-year (canonical copy), one numeric column per cell code.
- `findings`: the findings (report and cross-report) of those copies, with the reviewer's decision.
- `codebook`: what each code means: Chinese label, table, group, row, column, unit, templates.

CSV is single-header UTF-8 with a BOM (Excel and WPS read it; `pd.read_csv` gives numbers);
Parquet keeps integer columns as nullable int64 and the rest as float64 or text.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from extractor.lexicon.agency import agency_level, parent_keys
from extractor.lexicon.labels import cell_catalogue as cell_rows
from extractor.outputs.compare import cell_catalogue
from extractor.store import database as storage
from extractor.store import schema as s

FORMATS = ("parquet", "csv")
TABLES = ("cells_long", "reports_wide", "findings", "codebook")
TEMPLATES = {"2019": "2019", "2021": "2021", "both": "2019,2021"}
REPORT_COLUMNS = ["agency", "agency_key", "level", "parent", "year", "template"]


class ExportError(Exception):
    """An export that cannot be written (no database, unknown format); one-line message."""


def corrected_values(conn: Connection) -> dict[tuple[str | None, int | None, str], Any]:
    """The reviewer's value for a cell, by (agency key, year, code).

    Today this is a decision `corrected` on a finding: its value replaces the finding's first cell
    (the one whose printed value the finding disputes: a total that does not add up, a number the
    text contradicts). This is the one place that decides a corrected value; when reviewers can edit
    cells directly, their revisions go here too (the latest wins).
    """
    d = s.decisions.c
    out: dict[tuple[str | None, int | None, str], Any] = {}
    found = conn.execute(
        sa.select(d.agency_key, d.year, d.codes, d.value).where(d.decision == "corrected").order_by(d.decided_at)
    )
    for key, year, codes, value in found:
        code_list = json.loads(codes or "[]")
        if code_list and value is not None:
            out[(key, year, code_list[0])] = value
    return out


def _canonical(conn: Connection) -> pd.DataFrame:
    r = s.reports.c
    rows = conn.execute(
        sa.select(r.id, r.agency, r.agency_key, r.year, r.template, r.path, r.format)
        .where(r.status == "ok", r.canonical.is_(True))
        .order_by(r.agency_key, r.year, r.path)
    ).all()
    frame = pd.DataFrame(rows, columns=["report_id", "agency", "agency_key", "year", "template", "source", "format"])
    frame["level"] = [agency_level(row.agency) for row in rows]  # area government or department
    # the people's government an agency comes under, when the database holds that government's reports
    parents = parent_keys({(row.agency_key, row.agency) for row in rows if row.agency_key})
    frame["parent"] = [parents.get(row.agency_key) for row in rows]
    return frame


def _number_series(values: list[Any]) -> pd.Series:
    """Nullable int64 when every value is a whole number, float64 otherwise; text stays text."""
    series = pd.Series(values, dtype="object")
    present = series.dropna()
    if present.empty:
        return series.astype("Int64")
    if all(isinstance(v, bool | int) or (isinstance(v, float) and v.is_integer()) for v in present):
        return series.astype("float64").astype("Int64")
    if all(isinstance(v, int | float) for v in present):
        return series.astype("float64")
    return series.astype("string")


def frames(db: storage.Database) -> dict[str, pd.DataFrame]:
    """The four export tables as DataFrames."""
    with db.read() as conn:
        reports = _canonical(conn)
        ids = set(reports["report_id"])
        info = reports.set_index("report_id")
        c = s.cells.c
        cells = [
            row
            for row in conn.execute(
                sa.select(c.report_id, c.code, c.value, c.raw, c.page, c.confidence, c.label).order_by(c.report_id, c.id)
            )
            if row[0] in ids
        ]
        corrected = corrected_values(conn)
        findings = _findings(conn, ids)
    catalogue = cell_rows()

    long = pd.DataFrame(cells, columns=["report_id", "code", "value", "raw", "page", "confidence", "label"])
    for column in (*REPORT_COLUMNS, "source"):
        long[column] = long["report_id"].map(info[column]) if len(long) else pd.Series(dtype="object")
    long["table"] = [catalogue.get(code, {}).get("table") or code.split(".")[0] for code in long["code"]]
    long["corrected_value"] = [
        corrected.get((key, year, code)) for key, year, code in zip(long["agency_key"], long["year"], long["code"], strict=True)
    ]
    long["value"] = _number_series(list(long["value"]))
    long["corrected_value"] = _number_series(list(long["corrected_value"]))
    long = long[[*REPORT_COLUMNS, "table", "code", "value", "raw", "page", "confidence", "corrected_value", "label", "source"]]

    wide = _wide(reports, cells)
    book = codebook(sorted({code for _, code, *_ in cells}))
    return {
        "cells_long": _typed(long, ints=("year", "page"), floats=("confidence",)),
        "reports_wide": wide,
        "findings": _typed(findings, ints=("year", "page")),
        "codebook": book,
    }


def _wide(reports: pd.DataFrame, cells: list[Any]) -> pd.DataFrame:
    order, _ = cell_catalogue()
    values: dict[int, dict[str, Any]] = defaultdict(dict)
    for rid, code, value, *_ in cells:
        values[rid][code] = value
    present = {code for row in values.values() for code in row}
    codes = [c for c in order if c in present] + sorted(present - set(order))
    base = reports[[*REPORT_COLUMNS, "source", "format"]].reset_index(drop=True)
    columns = {code: _number_series([values[rid].get(code) for rid in reports["report_id"]]) for code in codes}
    wide = pd.concat([base, pd.DataFrame(columns, index=base.index)], axis=1)
    return _typed(wide, ints=("year",))


def _findings(conn: Connection, ids: set[int]) -> pd.DataFrame:
    r, f, x, d = s.reports.c, s.findings.c, s.cross_findings.c, s.decisions.c
    report_part = sa.select(
        sa.literal("report").label("kind"), f.fingerprint, f.report_id, f.rule, f.severity, f.message, f.codes,
        f.section, f.expected, f.actual, f.page,
    )  # fmt: skip
    cross_part = sa.select(
        sa.literal("cross").label("kind"), x.fingerprint, x.report_id, x.rule, x.severity, x.message, x.codes,
        sa.null().label("section"), x.expected, x.actual, sa.null().label("page"),
    )  # fmt: skip
    made = {fp: (dec, by, value) for fp, dec, by, value in conn.execute(sa.select(d.fingerprint, d.decision, d.decided_by, d.value))}
    meta = {
        rid: (agency, key, year, path)
        for rid, agency, key, year, path in conn.execute(sa.select(r.id, r.agency, r.agency_key, r.year, r.path))
        if rid in ids
    }
    rows = []
    for part in (report_part, cross_part):
        for kind, fp, rid, rule, severity, message, codes, section, expected, actual, page in conn.execute(part):
            if rid not in meta:
                continue
            agency, key, year, path = meta[rid]
            decision, by, value = made.get(fp, (None, None, None))
            rows.append(
                {"kind": kind, "fingerprint": fp, "agency": agency, "agency_key": key, "year": year, "source": path,
                 "rule": rule, "severity": severity, "message": message, "codes": ", ".join(json.loads(codes)),
                 "section": section, "expected": expected, "actual": actual, "page": page, "decision": decision,
                 "decided_by": by, "decided_value": value}
            )  # fmt: skip
    columns = ["kind", "fingerprint", "agency", "agency_key", "year", "source", "rule", "severity", "message", "codes",
               "section", "expected", "actual", "page", "decision", "decided_by", "decided_value"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("expected", "actual"):
        frame[column] = _number_series(list(frame[column]))
    frame["decided_value"] = frame["decided_value"].map(lambda v: None if v is None else str(v)).astype("string")
    return frame


def codebook(present: list[str] | None = None) -> pd.DataFrame:
    """Every code of cells.csv (and any other code found in the data) with its meaning."""
    _, labels = cell_catalogue()
    rows = [
        {"code": code, "label": labels.get(code, code), "table": row["table"], "group": row["group"], "row": row["row"],
         "column": row["column"], "unit": row["unit"], "templates": TEMPLATES.get(row["template"], row["template"])}
        for code, row in cell_rows().items()
    ]  # fmt: skip
    known = {r["code"] for r in rows}
    rows += [{"code": code, "label": code, "table": code.split(".")[0]} for code in present or [] if code not in known]
    return pd.DataFrame(rows, columns=["code", "label", "table", "group", "row", "column", "unit", "templates"]).astype("string")


def _typed(frame: pd.DataFrame, ints: tuple[str, ...] = (), floats: tuple[str, ...] = ()) -> pd.DataFrame:
    """Integers as nullable int64, the named floats as float64, every other object column as text."""
    for column in frame.columns:
        if column in ints:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
        elif column in floats:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        elif frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: None if v is None or v != v else str(v)).astype("string")
    return frame


def export(db_path: str, out_dir: str, fmt: str = "parquet") -> dict[str, int]:
    """Write the four tables into `out_dir`; returns {table: rows}."""
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if not storage.is_database_url(db_path) and not os.path.exists(db_path):
        raise ExportError(f"database not found: {db_path}")
    db = storage.connect(db_path)
    try:
        tables = frames(db)
    finally:
        db.close()
    os.makedirs(out_dir, exist_ok=True)
    for name, frame in tables.items():
        path = os.path.join(out_dir, f"{name}.{fmt}")
        if fmt == "parquet":
            frame.to_parquet(path, index=False, engine="pyarrow")
        else:
            frame.to_csv(path, index=False, encoding="utf-8-sig")
    return {name: len(frame) for name, frame in tables.items()}
