"""逐年对比: two reports of one agency side by side, through extractor.outputs.yoy."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from extractor.store import catalog
from extractor.web.auth import PageReader
from extractor.web.templating import render

router = APIRouter()


def _yoy_module():
    try:
        from extractor.outputs import yoy
    except ImportError:
        return None
    return yoy


@router.get("/yoy")
def yoy_page(request: Request, who: PageReader, agency: str = "", year: int | None = None):
    with request.app.state.db.begin() as conn:
        rows = [r for r in catalog.report_rows(conn) if r.ok and r.agency_key and r.year]
    agencies: dict[str, tuple[str, list[int]]] = {}
    for r in sorted(rows, key=lambda r: (r.year or 0, r.id)):
        name, years = agencies.setdefault(r.agency_key or "", (r.agency or "", []))
        if r.year not in years:
            years.append(r.year)  # type: ignore[arg-type]
    pairs = {k: v for k, v in agencies.items() if len(v[1]) >= 2}
    newer = older = None
    if agency:
        if agency not in agencies:
            raise HTTPException(404, "没有这个机构的报告")
        years = agencies[agency][1]
        year = year or years[-1]
        if year not in years:
            raise HTTPException(404, f"没有该机构 {year} 年度的报告")
        best = {r.year: r for r in sorted(rows, key=lambda r: r.id) if r.agency_key == agency}
        newer = best[year]
        earlier = [y for y in years if y < year]
        older = best[earlier[-1]] if earlier else None
    yoy = _yoy_module()
    result = None
    if yoy is not None and newer is not None and older is not None:
        result = _compare(request, yoy, older, newer)
    return render(request, "yoy.html", who, "yoy", pairs=pairs, agency=agency, newer=newer, older=older,
                  available=yoy is not None, result=result)  # fmt: skip


def _compare(request: Request, yoy, older: catalog.ReportRow, newer: catalog.ReportRow):
    """outputs.yoy over the two stored reports (it reads them through store.database.load_reports)."""
    try:
        return yoy.compare_stored(request.app.state.db, older.id, newer.id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
