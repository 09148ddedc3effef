"""What the review workspace lists: reports with their review state, the agencies × years overview,
and one report with its cells, findings, decisions and revisions.

Review state of a report (one word per report, and per agency-year on the overview):
  unreadable — the file could not be read (failed at ingest);
  errors     — an error finding has no reviewer decision yet;
  pending    — no undecided error, but a warning has no decision yet;
  reviewed   — every error and warning has a decision (a report without any is reviewed as read);
  missing    — (overview only) no report of that agency for that year.
Info findings never hold a report back.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from extractor.store.batches import uploaded_names
from extractor.store.revisions import Revision, current, history
from extractor.store.schema import cells, cross_findings, decision_log, decisions, findings, reports

STATES = ("missing", "unreadable", "pending", "errors", "reviewed")
STATE_LABELS = {"missing": "未提交", "unreadable": "无法读取", "pending": "待审核", "errors": "有错误待处理", "reviewed": "已审核"}
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass
class ReportRow:
    id: int
    sha256: str
    name: str
    path: str
    format: str | None
    agency: str | None
    agency_key: str | None
    year: int | None
    template: str | None
    ok: bool
    error: str | None
    ingested_at: str
    canonical: bool = False  # the copy of its agency-year that exports and comparisons use (store/copies.py)
    severities: Counter = field(default_factory=Counter)
    undecided: Counter = field(default_factory=Counter)
    rules: set[str] = field(default_factory=set)

    @property
    def state(self) -> str:
        if not self.ok:
            return "unreadable"
        if self.undecided["error"]:
            return "errors"
        if self.undecided["warning"]:
            return "pending"
        return "reviewed"


def display_name(path: str) -> str:
    """The file's own name from a stored path or an 'archive.zip!member' path."""
    return os.path.basename(path.rsplit("!", 1)[-1].rstrip("/")) or path


def _all_findings(conn: Connection, report_ids: list[int] | None = None) -> list[Any]:
    f, c = findings, cross_findings
    q1 = select(f.c.id, f.c.report_id, f.c.fingerprint, f.c.rule, f.c.severity, f.c.message, f.c.codes, f.c.section,
                f.c.expected, f.c.actual, f.c.page)  # fmt: skip
    q2 = select(c.c.id, c.c.report_id, c.c.fingerprint, c.c.rule, c.c.severity, c.c.message, c.c.codes, c.c.other_report_id,
                c.c.expected, c.c.actual, c.c.other_year)  # fmt: skip
    if report_ids is not None:
        q1, q2 = q1.where(f.c.report_id.in_(report_ids)), q2.where(c.c.report_id.in_(report_ids))
    rows = [("report", r) for r in conn.execute(q1.order_by(f.c.id))]
    return rows + [("cross", r) for r in conn.execute(q2.order_by(c.c.id))]


def findings_by_report(conn: Connection, report_ids: list[int] | None = None) -> dict[int, list[FindingView]]:
    """The stored findings of these reports (all when None), each with its decision: the report's
    own findings in stored order, then its cross-report ones."""
    made = _decided(conn)
    out: dict[int, list[FindingView]] = defaultdict(list)
    for kind, f in _all_findings(conn, report_ids):
        cross = kind == "cross"
        out[f.report_id].append(
            FindingView(f.fingerprint or "", f.rule, f.severity, f.message, json.loads(f.codes or "[]"),
                        None if cross else f.section, f.expected, f.actual, None if cross else f.page, cross,
                        made.get(f.fingerprint))  # fmt: skip
        )
    return out


def _decided(conn: Connection) -> dict[str, Any]:
    return {r.fingerprint: r for r in conn.execute(select(decisions))}


def report_rows(
    conn: Connection,
    agency: str | None = None,
    year: int | None = None,
    state: str | None = None,
    severity: str | None = None,
    rule: str | None = None,
) -> list[ReportRow]:
    """Every stored file (read or not) with finding counts and review state, filtered, in a stable order."""
    rows: dict[int, ReportRow] = {}
    for r in conn.execute(select(reports)):
        rows[r.id] = ReportRow(r.id, r.sha256, display_name(r.path), r.path, r.format, r.agency, r.agency_key, r.year,
                               r.template, r.status == "ok", r.error, r.ingested_at, bool(r.canonical))  # fmt: skip
    made = _decided(conn)
    for _, f in _all_findings(conn):
        row = rows.get(f.report_id)
        if row is None:
            continue
        row.severities[f.severity] += 1
        row.rules.add(f.rule)
        if f.fingerprint not in made:
            row.undecided[f.severity] += 1
    names = uploaded_names(conn, [r.sha256 for r in rows.values()])
    for row in rows.values():
        row.name = names.get(row.sha256, row.name)
    out = []
    for row in rows.values():
        if agency and agency not in (row.agency or "") and agency not in (row.agency_key or "") and agency not in row.name:
            continue
        if year is not None and row.year != year:
            continue
        if state and row.state != state:
            continue
        if severity and not row.severities[severity]:
            continue
        if rule and not any(r == rule or r.startswith(rule.rstrip("*").rstrip(".") + ".") for r in row.rules):
            continue
        out.append(row)
    return sorted(out, key=lambda r: (not r.ok, r.agency_key or "", -(r.year or 0), r.name, r.id))


@dataclass
class Overview:
    years: list[int]
    agencies: list[tuple[str, str]]  # (key, name)
    grid: dict[tuple[str, int], tuple[str, int | None]]  # (key, year) → (state, report id)
    counts: Counter
    unreadable: list[ReportRow]
    total_reports: int


def overview(conn: Connection) -> Overview:
    """Agencies × years, one state per cell from the canonical copy of that agency-year (else the newest)."""
    rows = report_rows(conn)
    readable = [r for r in rows if r.ok and r.agency_key and r.year]
    years = sorted({r.year for r in readable if r.year is not None})
    names: dict[str, str] = {}
    best: dict[tuple[str, int], ReportRow] = {}
    for r in sorted(readable, key=lambda r: (r.canonical, r.id)):  # the canonical copy last, so it wins
        assert r.agency_key and r.year
        names[r.agency_key] = r.agency or r.agency_key
        best[(r.agency_key, r.year)] = r
    agencies = sorted(names.items(), key=lambda kv: kv[1])
    grid: dict[tuple[str, int], tuple[str, int | None]] = {}
    counts: Counter = Counter()
    for key, _ in agencies:
        for y in years:
            rep = best.get((key, y))
            grid[(key, y)] = (rep.state, rep.id) if rep else ("missing", None)
            counts[grid[(key, y)][0]] += 1
    unreadable = [r for r in rows if not r.ok]
    counts["unreadable"] = len(unreadable)
    return Overview(years, agencies, grid, counts, unreadable, len(rows))


# --------------------------------------------------------------------------------------------------
# one report


@dataclass
class FindingView:
    fingerprint: str
    rule: str
    severity: str
    message: str
    codes: list[str]
    section: str | None
    expected: Any
    actual: Any
    page: int | None
    cross: bool = False
    decision: Any = None  # the decisions row, or None
    history: list[Any] = field(default_factory=list)  # decision_log rows, oldest first
    image: str | None = None  # the audit report's id of the page image it points at


@dataclass
class CellView:
    code: str
    value: Any
    raw: str
    page: int | None
    confidence: float
    label: str
    derived: bool
    bbox: tuple[float, float, float, float] | None
    revision: Revision | None = None

    @property
    def current(self) -> Any:
        return self.revision.new_value if self.revision else self.value


@dataclass
class ReportDetail:
    row: ReportRow
    pages: int | None
    cells: list[CellView]
    findings: list[FindingView]
    revisions: list[Revision]

    def cell(self, code: str) -> CellView | None:
        return next((c for c in self.cells if c.code == code), None)

    def flagged(self) -> dict[str, str]:
        """Cell code → the worst severity of an undecided-or-confirmed finding about it (to highlight)."""
        out: dict[str, str] = {}
        for f in self.findings:
            if f.decision is not None and f.decision.decision == "dismissed":
                continue
            for code in f.codes:
                if code not in out or SEVERITY_ORDER.get(f.severity, 3) < SEVERITY_ORDER.get(out[code], 3):
                    out[code] = f.severity
        return out


def report_detail(conn: Connection, report_id: int) -> ReportDetail | None:
    rep = conn.execute(select(reports).where(reports.c.id == report_id)).first()
    if rep is None:
        return None
    row = next((r for r in report_rows(conn) if r.id == report_id), None)
    assert row is not None
    revised = current(conn, rep.sha256)
    cell_views = []
    seen = set()
    for c in conn.execute(select(cells).where(cells.c.report_id == report_id)):
        if c.code in seen:
            continue
        seen.add(c.code)
        bbox = (c.x0, c.y0, c.x1, c.y1) if None not in (c.x0, c.y0, c.x1, c.y1) else None
        cell_views.append(CellView(c.code, c.value, c.raw or "", c.page, c.confidence if c.confidence is not None else 1.0,
                                   c.label or "", bool(c.derived), bbox, revised.get(c.code)))  # fmt: skip
    found = findings_by_report(conn, [report_id]).get(report_id, [])
    prints = [f.fingerprint for f in found]
    logs: dict[str, list[Any]] = defaultdict(list)
    if prints:
        for entry in conn.execute(select(decision_log).where(decision_log.c.fingerprint.in_(prints)).order_by(decision_log.c.id)):
            logs[entry.fingerprint].append(entry)
    for f in found:
        f.history = logs.get(f.fingerprint, [])
    found.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.rule, f.page or 0))
    return ReportDetail(row, rep.pages, cell_views, found, history(conn, rep.sha256))


def find_report_of(conn: Connection, fingerprint: str) -> int | None:
    """The report a finding (by fingerprint) belongs to."""
    for table in (findings, cross_findings):
        row = conn.execute(select(table.c.report_id).where(table.c.fingerprint == fingerprint)).first()
        if row:
            return int(row.report_id)
    return None
