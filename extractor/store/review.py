"""Reviewer decisions on findings: confirmed, dismissed or corrected, by whom, when, with a note.

A decision is keyed by the finding's fingerprint (storage.fingerprint: rule + agency key + year +
cells), not by a row id, and lives in its own table: re-parsing a file, re-ingesting it after a
parser upgrade or recomputing the cross-report checks never loses it. A corrected value is stored
beside the extracted one; the extracted cell is never overwritten. Every decision is also appended
to `decision_log`, so the history stays auditable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from extractor.store import schema as s
from extractor.store.database import Database

DECISIONS = ("confirmed", "dismissed", "corrected")
DECISION_LABELS = {"confirmed": "确认", "dismissed": "不成立", "corrected": "已更正"}
# words a reviewer may type into the workbook's 决定 column
_DECISION_WORDS = {
    "confirmed": "confirmed", "确认": "confirmed", "属实": "confirmed", "成立": "confirmed",
    "dismissed": "dismissed", "不成立": "dismissed", "驳回": "dismissed", "排除": "dismissed", "误报": "dismissed",
    "corrected": "corrected", "已更正": "corrected", "更正": "corrected", "修正": "corrected",
}  # fmt: skip


class ReviewError(ValueError):
    """A decision that cannot be recorded; one-line message."""


@dataclass
class Decision:
    fingerprint: str
    decision: str
    value: Any
    decided_by: str
    note: str | None
    decided_at: str


def find(db: Database, fingerprint: str) -> dict[str, Any] | None:
    """The stored finding (report or cross-report) with this fingerprint, or None."""
    r, f, x = s.reports.c, s.findings.c, s.cross_findings.c
    with db.read() as conn:
        row = conn.execute(
            sa.select(f.rule, f.codes, r.agency_key, r.year, r.agency)
            .join_from(s.findings, s.reports, r.id == f.report_id)
            .where(f.fingerprint == fingerprint)
        ).first()
        if row is None:
            row = conn.execute(
                sa.select(x.rule, x.codes, x.agency_key, x.year, r.agency)
                .join_from(s.cross_findings, s.reports, r.id == x.report_id)
                .where(x.fingerprint == fingerprint)
            ).first()
    if row is None:
        return None
    rule, codes, key, year, agency = row
    return {"rule": rule, "codes": json.loads(codes), "agency_key": key, "year": year, "agency": agency}


def record(
    db: Database,
    fingerprint: str,
    decision: str,
    by: str,
    note: str | None = None,
    value: Any = None,
    when: str | None = None,
) -> Decision:
    """Record (or replace) the decision on one finding; the previous one stays in decision_log."""
    decision = _DECISION_WORDS.get((decision or "").strip().lower(), _DECISION_WORDS.get((decision or "").strip(), ""))
    if decision not in DECISIONS:
        raise ReviewError(f"决定必须是 {' / '.join(DECISIONS)}（或 确认 / 不成立 / 已更正）")
    if not (by or "").strip():
        raise ReviewError("请用 --by 写明审核人")
    if decision == "corrected" and value in (None, ""):
        raise ReviewError("决定为 corrected（已更正）时须用 --value 给出更正后的数值")
    finding = find(db, fingerprint)
    if finding is None:
        raise ReviewError(f"数据库中没有指纹为 {fingerprint} 的发现（用 `extractor review --db … --list` 查看）")
    value = _number(value)
    when = when or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    row = {"fingerprint": fingerprint, "decision": decision, "value": value, "decided_by": by.strip(), "note": note,
           "decided_at": when}  # fmt: skip
    with db.begin() as conn:
        s.upsert(
            conn,
            s.decisions,
            {**row, "rule": finding["rule"], "agency_key": finding["agency_key"], "year": finding["year"],
             "codes": json.dumps(finding["codes"], ensure_ascii=False)},
        )  # fmt: skip
        conn.execute(s.decision_log.insert(), row)
    return Decision(fingerprint, decision, value, by.strip(), note, when)


def _number(value: Any) -> Any:
    """A corrected value as a number where it is one ('20' → 20, '12.5' → 12.5), else the text."""
    if value is None or isinstance(value, int | float):
        return value
    text = str(value).strip().replace(",", "")
    try:
        number = float(text)
    except ValueError:
        return text or None
    return int(number) if number.is_integer() else number


_DECISION_COLUMNS = ("fingerprint", "decision", "value", "decided_by", "note", "decided_at")


def decisions(db: Database) -> dict[str, Decision]:
    d = s.decisions.c
    with db.read() as conn:
        return {row[0]: Decision(*row) for row in conn.execute(sa.select(*(d[n] for n in _DECISION_COLUMNS)))}


def history(db: Database, fingerprint: str) -> list[Decision]:
    g = s.decision_log.c
    with db.read() as conn:
        found = conn.execute(
            sa.select(*(g[n] for n in _DECISION_COLUMNS)).where(g.fingerprint == fingerprint).order_by(g.id)
        )
        return [Decision(*row) for row in found]


def list_findings(
    db: Database,
    agency: str | None = None,
    year: int | None = None,
    rule: str | None = None,
    undecided: bool = False,
) -> list[dict[str, Any]]:
    """Every stored finding (report and cross-report) with its fingerprint and decision, for listing."""
    made = decisions(db)
    r, f, x = s.reports.c, s.findings.c, s.cross_findings.c
    query = sa.union_all(
        sa.select(f.fingerprint, r.agency, r.agency_key, r.year, f.rule, f.severity, f.message)
        .join_from(s.findings, s.reports, r.id == f.report_id)
        .where(r.status == "ok"),
        sa.select(x.fingerprint, r.agency, r.agency_key, r.year, x.rule, x.severity, x.message)
        .join_from(s.cross_findings, s.reports, r.id == x.report_id),
    )
    with db.read() as conn:
        rows = conn.execute(query).all()
    out = []
    for fp, name, key, yr, rl, severity, message in sorted(rows, key=lambda r: (r[2] or "", r[3] or 0, r[4], r[0] or "")):
        if agency and agency not in (name or "") and agency not in (key or ""):
            continue
        if year is not None and yr != year:
            continue
        if rule and not (rl == rule or rl.startswith(rule.rstrip("*").rstrip(".") + ".")):
            continue
        if undecided and fp in made:
            continue
        d = made.get(fp)
        out.append(
            {
                "fingerprint": fp,
                "agency": name,
                "year": yr,
                "rule": rl,
                "severity": severity,
                "message": message,
                "decision": d.decision if d else None,
                "value": d.value if d else None,
                "by": d.decided_by if d else None,
            }
        )
    return out


WORKBOOK_COLUMNS = {"fingerprint": "指纹", "decision": "决定", "value": "更正值", "by": "审核人", "note": "备注"}


def import_workbook(db: Database, path: str, by: str | None = None) -> tuple[int, list[str]]:
    """Read the decision columns of an audit workbook (sheet 发现) back into the database.

    Returns (decisions recorded, problems). Rows without a decision, or with the decision already
    stored, are left alone; a row without 审核人 takes `by`.
    """
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ReviewError(f"{path}: 无法读取为 Excel 工作簿（{exc.__class__.__name__}）") from None
    sheet = book["发现"] if "发现" in book.sheetnames else book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, [])]
    where = {name: header.index(label) for name, label in WORKBOOK_COLUMNS.items() if label in header}
    if "fingerprint" not in where or "decision" not in where:
        raise ReviewError(f"{path}: 工作表缺少「指纹」或「决定」列")
    existing = decisions(db)
    count, problems = 0, []
    for n, row in enumerate(rows, start=2):
        def get(name: str, row: tuple = row) -> Any:
            i = where.get(name)
            return row[i] if i is not None and i < len(row) else None

        fp, word = get("fingerprint"), get("decision")
        if not fp or word in (None, ""):
            continue
        fp = str(fp).strip()
        who = str(get("by") or by or "").strip()
        note = get("note")
        value = get("value")
        old = existing.get(fp)
        code = _DECISION_WORDS.get(str(word).strip().lower(), _DECISION_WORDS.get(str(word).strip(), str(word)))
        if old and old.decision == code and _number(value) == old.value and (note or None) == old.note:
            continue
        try:
            record(db, fp, str(word), who, None if note is None else str(note), value)
        except ReviewError as exc:
            problems.append(f"第 {n} 行：{exc}")
            continue
        count += 1
    book.close()
    return count, problems


def failed_files(db: Database) -> list[dict[str, Any]]:
    """Files that came in and could not be read (path, format, reason, kind), for `review --list`:
    nothing that came in vanishes from what a reviewer sees."""
    r = s.reports.c
    with db.read() as conn:
        rows = conn.execute(sa.select(r.path, r.format, r.error, r.error_kind).where(r.status == "failed").order_by(r.path))
        return [{"path": p, "format": f, "error": e or "", "kind": k} for p, f, e, k in rows]
