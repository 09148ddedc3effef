"""The state-changing actions shared by the pages and the JSON API (decide a finding, revise a cell),
as thin calls into the store; both surfaces answer the same errors the same way."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from extractor.store import catalog, review, revisions
from extractor.web.auth import Who


def decide(app: Any, who: Who, fingerprint: str, decision: str, value: Any = None, note: str | None = None) -> review.Decision:
    """Record a decision on a finding (the later of two wins; both stay in the history)."""
    if decision not in review.DECISIONS:
        raise HTTPException(422, f"decision 须为 {' / '.join(review.DECISIONS)}")
    with app.state.db.begin() as conn:
        if catalog.find_report_of(conn, fingerprint) is None:
            raise HTTPException(404, f"没有指纹为 {fingerprint} 的发现")
    try:
        return review.record(app.state.db, fingerprint, decision, who.user.name, (note or "").strip() or None, value)
    except review.ReviewError as exc:
        raise HTTPException(422, str(exc)) from None


def revise(app: Any, who: Who, report_id: int, code: str, value: Any, note: str | None = None) -> revisions.Revision:
    """A reviewer's new value for one cell, kept as a revision beside the extracted value."""
    with app.state.db.begin() as conn:
        detail = catalog.report_detail(conn, report_id)
        if detail is None:
            raise HTTPException(404, f"没有第 {report_id} 号报告")
        cell = detail.cell(code)
        if cell is None:
            raise HTTPException(404, f"报告中没有单元格 {code}")
        try:
            return revisions.revise(conn, detail.row.sha256, code, cell.value, value, who.user.name, note)
        except review.ReviewError as exc:
            raise HTTPException(422, str(exc)) from None
