"""导出: the comparison workbook, the audit report and the 整改通知 letters for the current filter,
written by extractor.outputs (compare, audit) into a temporary folder and sent as a download."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from extractor.web.auth import PageReader
from extractor.web.routes.users import rules_config
from extractor.web.templating import render

router = APIRouter()
AUDIT_TYPES = {"html": "text/html", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "md": "text/markdown"}


def _filter(agency: str, year: str) -> tuple[str | None, int | None]:
    year = year.strip()
    if year and not year.isdigit():
        raise HTTPException(422, f"年度须为数字，而不是「{year}」")
    return agency.strip() or None, int(year) if year else None


def _suffix(agency: str | None, year: int | None) -> str:
    return "".join(f"-{p}" for p in (str(year) if year else "", "filtered" if agency else "") if p)


def _send(folder: str, path: str, filename: str, media_type: str) -> FileResponse:
    return FileResponse(path, media_type=media_type, filename=filename, background=BackgroundTask(shutil.rmtree, folder, True))


def _work_dir(request: Request) -> str:
    root = os.path.join(request.app.state.settings.data_dir, "tmp")
    os.makedirs(root, exist_ok=True)
    return tempfile.mkdtemp(prefix="export-", dir=root)


@router.get("/exports")
def exports_page(request: Request, who: PageReader, agency: str = "", year: str = ""):
    _filter(agency, year)
    return render(request, "exports.html", who, "exports", agency=agency, year=year, query=request.url.query)


@router.get("/exports/compare.xlsx")
def export_compare(request: Request, who: PageReader, agency: str = "", year: str = ""):
    from extractor.outputs.compare import CompareError, compare

    name, yr = _filter(agency, year)
    folder = _work_dir(request)
    path = os.path.join(folder, "compare.xlsx")
    try:
        compare(request.app.state.settings.db, path, year=yr, agency=name)
    except CompareError as exc:
        shutil.rmtree(folder, True)
        raise HTTPException(422, str(exc)) from None
    return _send(folder, path, f"compare{_suffix(name, yr)}.xlsx", AUDIT_TYPES["xlsx"])


@router.get("/exports/audit.{kind}")
def export_audit(request: Request, who: PageReader, kind: str, agency: str = "", year: str = ""):
    from extractor.outputs.audit import AuditError, collect, write

    if kind not in AUDIT_TYPES:
        raise HTTPException(404, "审核报告可导出为 html、xlsx 或 md")
    name, yr = _filter(agency, year)
    folder = _work_dir(request)
    path = os.path.join(folder, f"audit.{kind}")
    try:
        data = collect(request.app.state.settings.db, config=rules_config(request), agency=name, year=yr, images=kind == "html")
        write(data, path)
    except AuditError as exc:
        shutil.rmtree(folder, True)
        raise HTTPException(422, str(exc)) from None
    return _send(folder, path, f"audit{_suffix(name, yr)}.{kind}", AUDIT_TYPES[kind])


@router.get("/exports/letters.zip")
def export_letters(request: Request, who: PageReader, agency: str = "", year: str = "", sender: str = "",
                   doc_number: str = "", deadline: str = "", date: str = ""):
    from extractor.outputs.audit import AuditError, collect
    from extractor.outputs.letters import LetterError, LetterSettings, write_letters

    name, yr = _filter(agency, year)
    try:
        settings = LetterSettings.make(sender[:80], doc_number[:80], deadline or None, date or None)
    except LetterError as exc:
        raise HTTPException(422, str(exc)) from None
    folder = _work_dir(request)
    try:
        data = collect(request.app.state.settings.db, config=rules_config(request), agency=name, year=yr, images=False)
        written = write_letters(data, os.path.join(folder, "letters"), settings)
    except AuditError as exc:
        shutil.rmtree(folder, True)
        raise HTTPException(422, str(exc)) from None
    if not written:
        shutil.rmtree(folder, True)
        raise HTTPException(404, "当前筛选范围内没有需要整改的机构")
    path = os.path.join(folder, "letters.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in written:
            zf.write(item, os.path.basename(item))
    return _send(folder, path, f"letters{_suffix(name, yr)}.zip", "application/zip")
