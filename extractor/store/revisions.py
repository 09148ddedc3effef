"""Reviewer corrections of single cells, kept as revisions beside the extracted value.

A revision says who changed which cell of which report, when, from what to what and why. Revisions
are keyed by the report's content (sha256) and the cell code, so they survive re-ingesting the file;
the extracted value in `cells` is never overwritten. The current value of a cell is the newest
revision's, else the extracted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from extractor.store.review import ReviewError, _number
from extractor.store.schema import cell_revisions as revisions


@dataclass(frozen=True)
class Revision:
    id: int
    sha256: str
    code: str
    old_value: Any
    new_value: Any
    note: str | None
    revised_by: str
    revised_at: str


def _row(r) -> Revision:
    return Revision(r.id, r.sha256, r.code, r.old_value, r.new_value, r.note, r.revised_by, r.revised_at)


def history(conn: Connection, sha256: str, code: str | None = None) -> list[Revision]:
    """Every revision of a report (or of one of its cells), oldest first."""
    q = select(revisions).where(revisions.c.sha256 == sha256)
    if code is not None:
        q = q.where(revisions.c.code == code)
    return [_row(r) for r in conn.execute(q.order_by(revisions.c.id))]


def current(conn: Connection, sha256: str) -> dict[str, Revision]:
    """The newest revision of each revised cell of a report."""
    return {r.code: r for r in history(conn, sha256)}


def revise(conn: Connection, sha256: str, code: str, extracted: Any, value: Any, by: str, note: str | None = None) -> Revision:
    """Record a new value for one cell; `extracted` is the parsed value (the first 'old' value)."""
    if not (by or "").strip():
        raise ReviewError("缺少修改人")
    new = _number(value)
    if new is None:
        raise ReviewError("请填写更正后的数值")
    latest = [r for r in history(conn, sha256, code)]
    old = latest[-1].new_value if latest else extracted
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    note = (note or "").strip() or None
    rid = conn.execute(
        insert(revisions).values(sha256=sha256, code=code, old_value=old, new_value=new, note=note, revised_by=by.strip(), revised_at=when)
    ).inserted_primary_key[0]
    return Revision(int(rid), sha256, code, old, new, note, by.strip(), when)
