"""报告 (the list with filters) and 单份报告 (one report: page image, table, findings, decisions, revisions)."""

from __future__ import annotations

import os

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from extractor.store import catalog
from extractor.store.review import DECISIONS
from extractor.web import actions, pageimage
from extractor.web.auth import PageCorrector, PageDecider, PageReader
from extractor.web.tables import fill_labels, layouts
from extractor.web.templating import render

router = APIRouter()
PDF_FORMATS = ("pdf", "image-pdf", "image")  # formats with page images


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise HTTPException(422, f"年度须为数字，而不是「{text}」")
    return int(text)


@router.get("/reports")
def report_list(request: Request, who: PageReader, agency: str = "", year: str = "", status: str = "", severity: str = "", rule: str = ""):  # fmt: skip
    if status and status not in catalog.STATES:
        raise HTTPException(422, f"状态须为 {' / '.join(catalog.STATES)}")
    if severity and severity not in catalog.SEVERITY_LABELS:
        raise HTTPException(422, "级别须为 error / warning / info")
    with request.app.state.db.begin() as conn:
        rows = catalog.report_rows(conn, agency.strip() or None, _int(year), status or None, severity or None, rule.strip() or None)
        every = catalog.report_rows(conn)
    years = sorted({r.year for r in every if r.year}, reverse=True)
    rules = sorted(set().union(*(r.rules for r in every))) if every else []
    filters = {"agency": agency, "year": year, "status": status, "severity": severity, "rule": rule}
    return render(request, "reports.html", who, "reports", rows=rows, years=years, rules=rules, filters=filters, states=catalog.STATES)


def _detail(request: Request, report_id: int) -> catalog.ReportDetail:
    with request.app.state.db.begin() as conn:
        detail = catalog.report_detail(conn, report_id)
    if detail is None:
        raise HTTPException(404, f"没有第 {report_id} 号报告")
    fill_labels(detail.cells)
    return detail


def _default_page(detail: catalog.ReportDetail) -> int:
    flagged = detail.flagged()
    pages = [c.page for c in detail.cells if c.code in flagged and c.page and c.bbox]
    pages += [f.page for f in detail.findings if f.page and f.severity == "error"]
    pages += [f.page for f in detail.findings if f.page]
    pages += [c.page for c in detail.cells if c.page]
    return pages[0] if pages else 1


@router.get("/reports/{report_id}")
def report_page(request: Request, who: PageReader, report_id: int, page: int | None = None, cell: str = ""):
    detail = _detail(request, report_id)
    shown = page or _default_page(detail)
    if detail.pages and not 1 <= shown <= detail.pages:
        raise HTTPException(404, f"报告只有 {detail.pages} 页")
    flagged = detail.flagged()
    has_image = detail.row.ok and (detail.row.format or "") in PDF_FORMATS and pageimage.available()
    frame = pageimage.page_frame(detail.row.path, shown, detail.row.format == "image") if has_image else None
    on_page = [c for c in detail.cells if c.page == shown and c.bbox]
    tables, loose = layouts({c.code for c in detail.cells})
    selected = detail.cell(cell) if cell else None
    return render(
        request, "report.html", who, "reports", d=detail, page=shown, frame=frame, has_image=has_image and frame is not None,
        on_page=on_page, flagged=flagged, tables=tables, loose=loose, cells={c.code: c for c in detail.cells},
        selected=selected, decisions=DECISIONS,
    )  # fmt: skip


@router.get("/reports/{report_id}/pages/{page}.png")
def page_png(request: Request, who: PageReader, report_id: int, page: int):
    detail = _detail(request, report_id)
    if (detail.row.format or "") not in PDF_FORMATS or not detail.pages or not 1 <= page <= detail.pages:
        raise HTTPException(404, "这一页没有图像")
    flagged = detail.flagged()
    boxes = [c.bbox for c in detail.cells if c.page == page and c.bbox and c.code in flagged]
    png = pageimage.render(detail.row.path, page, boxes)
    if png is None:
        raise HTTPException(404, "无法生成这一页的图像（原文件不在或已损坏）")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


@router.get("/reports/{report_id}/original")
def original(request: Request, who: PageReader, report_id: int):
    """The stored original, under the name it was uploaded as (the path comes from the database)."""
    detail = _detail(request, report_id)
    if not os.path.isfile(detail.row.path):
        raise HTTPException(404, "原文件不在数据目录中（可能在压缩包内或已被移走）")
    return FileResponse(detail.row.path, filename=detail.row.name, media_type="application/octet-stream")


@router.get("/reports/{report_id}/cells/{code}")
def cell_fragment(request: Request, who: PageReader, report_id: int, code: str):
    """The panel for one cell (raw text, page, confidence, history, correction form); htmx loads it."""
    detail = _detail(request, report_id)
    cell = detail.cell(code)
    if cell is None:
        raise HTTPException(404, f"报告中没有单元格 {code}")
    return render(request, "cell.html", who, d=detail, selected=cell)


@router.post("/reports/{report_id}/cells/{code}")
def revise_cell(request: Request, who: PageCorrector, report_id: int, code: str, value: str = Form(""), note: str = Form("")):  # fmt: skip
    actions.revise(request.app, who, report_id, code, value, note)
    return RedirectResponse(f"/reports/{report_id}?cell={code}#cell-detail", status_code=303)


@router.post("/findings/{fingerprint}/decision")
def decide(request: Request, who: PageDecider, fingerprint: str, decision: str = Form(""), value: str = Form(""), note: str = Form("")):  # fmt: skip
    actions.decide(request.app, who, fingerprint, decision, value or None, note)
    with request.app.state.db.begin() as conn:
        report_id = catalog.find_report_of(conn, fingerprint)
    return RedirectResponse(f"/reports/{report_id}#f-{fingerprint}", status_code=303)
