"""上传: many files at once, one batch, ingested in the background; the batch page polls its progress."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from extractor.store import batches
from extractor.web.auth import PageReader, PageUploader, Who, form_with_limits
from extractor.web.templating import render

router = APIRouter()


async def accept_upload(request: Request, who: Who) -> int:
    """Store the form's `files` under the data folder by sha256 and queue them as one batch."""
    settings = request.app.state.settings
    form = await form_with_limits(request)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    uploads = [f for f in uploads if f.filename or (f.size or 0) > 0]
    if not uploads:
        raise HTTPException(422, "请选择要上传的文件（表单字段 files）")
    if len(uploads) > settings.max_files:
        raise HTTPException(413, f"一次最多上传 {settings.max_files} 个文件")
    limit = settings.max_file_mb * 2**20
    rows = []
    for f in uploads:
        name = (f.filename or "未命名文件").replace("\\", "/").rsplit("/", 1)[-1][:200] or "未命名文件"
        if f.size is not None and f.size > limit:
            raise HTTPException(413, f"{name}：超过单个文件 {settings.max_file_mb} MB 的上限")
        try:
            sha, stored, size = batches.store_original(settings.data_dir, f.file, limit)
        except batches.TooLarge:
            raise HTTPException(413, f"{name}：超过单个文件 {settings.max_file_mb} MB 的上限") from None
        rows.append((name, sha, size, stored, None if size else "空文件"))
    with request.app.state.db.begin() as conn:
        batch_id = batches.create(conn, who.user.name, rows)
    request.app.state.runner.submit(batch_id)
    return batch_id


@router.get("/upload")
def upload_form(request: Request, who: PageUploader):
    with request.app.state.db.begin() as conn:
        recent = [batches.view(conn, b) for b in batches.recent(conn, 10)]
    s = request.app.state.settings
    return render(request, "upload.html", who, "upload", recent=recent, max_files=s.max_files, max_file_mb=s.max_file_mb)


@router.post("/upload")
async def upload(request: Request, who: PageUploader):
    batch_id = await accept_upload(request, who)
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


def _batch(request: Request, batch_id: int) -> batches.BatchView:
    with request.app.state.db.begin() as conn:
        view = batches.view(conn, batch_id)
    if view is None:
        raise HTTPException(404, f"没有第 {batch_id} 批上传")
    return view


@router.get("/batches/{batch_id}")
def batch_page(request: Request, who: PageReader, batch_id: int):
    return render(request, "batch.html", who, "upload", batch=_batch(request, batch_id))


@router.get("/batches/{batch_id}/progress")
def batch_progress(request: Request, who: PageReader, batch_id: int):
    """The progress fragment htmx polls; once the batch is done it no longer asks to be polled."""
    return render(request, "batch_progress.html", who, batch=_batch(request, batch_id))
