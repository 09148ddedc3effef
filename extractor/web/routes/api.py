"""The JSON API: the same actions as the pages, for scripts. Errors are `{"error", "detail"}`.

POST /api/login → a token; every other call sends `Authorization: Bearer TOKEN`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from extractor.store import accounts, batches, catalog
from extractor.store import database as storage
from extractor.web import actions
from extractor.web.auth import ApiCorrector, ApiDecider, ApiReader, ApiUploader, PageReader
from extractor.web.routes.upload import accept_upload
from extractor.web.templating import render

router = APIRouter(prefix="/api", tags=["api"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class DecisionIn(BaseModel):
    decision: Literal["confirmed", "dismissed", "corrected"]
    value: float | int | str | None = None
    note: str | None = Field(default=None, max_length=2000)


class RevisionIn(BaseModel):
    value: float | int | str
    note: str | None = Field(default=None, max_length=2000)


@router.post("/login", summary="登录，取得 API 令牌")
def api_login(request: Request, body: Login) -> dict[str, Any]:
    guard = request.app.state.login_guard
    wait = guard.wait(request, body.username)
    if wait:
        raise HTTPException(429, f"登录失败次数过多，请 {wait} 秒后再试")
    with request.app.state.db.begin() as conn:
        user = accounts.authenticate(conn, body.username, body.password)
        if user is None:
            guard.failed(request, body.username)
            raise HTTPException(401, "用户名或密码不正确（或账户已停用）")
        token, _ = accounts.start_session(conn, user, "api")
    guard.succeeded(request, body.username)
    return {"token": token, "user": user.name, "role": user.role}


@router.post("/logout", summary="使令牌失效")
def api_logout(request: Request, who: ApiReader) -> dict[str, bool]:
    with request.app.state.db.begin() as conn:
        accounts.end_session(conn, who.token)
    return {"ok": True}


@router.post("/uploads", status_code=202, summary="上传文件（multipart，字段 files，可多个），返回批次号")
async def api_upload(request: Request, who: ApiUploader) -> dict[str, int]:
    return {"batch": await accept_upload(request, who)}


@router.get("/batches/{batch_id}", summary="批次进度与每个文件的结果")
def api_batch(request: Request, who: ApiReader, batch_id: int) -> dict[str, Any]:
    with request.app.state.db.begin() as conn:
        view = batches.view(conn, batch_id)
    if view is None:
        raise HTTPException(404, f"没有第 {batch_id} 批上传")
    return {
        "id": view.id, "state": view.state, "created_by": view.created_by, "created_at": view.created_at, "error": view.error,
        "files": [{"name": f.name, "status": f.status, "reason": f.reason, "report_id": f.report_id} for f in view.files],
    }  # fmt: skip


def _row(r: catalog.ReportRow) -> dict[str, Any]:
    return {
        "id": r.id, "name": r.name, "agency": r.agency, "agency_key": r.agency_key, "year": r.year, "template": r.template,
        "format": r.format, "status": r.state, "readable": r.ok, "error": r.error, "sha256": r.sha256,
        "findings": dict(r.severities), "undecided": dict(r.undecided),
    }  # fmt: skip


@router.get("/reports", summary="报告列表（可按机构、年度、状态、级别、规则筛选）")
def api_reports(request: Request, who: ApiReader, agency: str | None = None, year: int | None = None,
                status: Literal["unreadable", "pending", "errors", "reviewed"] | None = None,
                severity: Literal["error", "warning", "info"] | None = None, rule: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    with request.app.state.db.begin() as conn:
        return [_row(r) for r in catalog.report_rows(conn, agency, year, status, severity, rule)]


def _decision(d: Any) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"decision": d.decision, "value": d.value, "by": d.decided_by, "note": d.note, "at": d.decided_at}


@router.get("/reports/{report_id}", summary="一份报告：解析结果（单元格、带指纹的发现）、审核决定和修改记录")
def api_report(request: Request, who: ApiReader, report_id: int) -> dict[str, Any]:
    with request.app.state.db.begin() as conn:
        detail = catalog.report_detail(conn, report_id)
    if detail is None:
        raise HTTPException(404, f"没有第 {report_id} 号报告")
    out: dict[str, Any] = {"id": report_id, **_row(detail.row)}
    if detail.row.ok:
        loaded = storage.load_reports(request.app.state.db, [report_id], with_details=True)
        if loaded:
            out.update({k: v for k, v in loaded[0][2].to_dict().items() if k not in ("findings", "cells")})
    out["cells"] = [
        {"code": c.code, "value": c.value, "raw": c.raw, "page": c.page, "confidence": c.confidence, "label": c.label,
         "derived": c.derived, "bbox": c.bbox, "current": c.current}
        for c in detail.cells
    ]  # fmt: skip
    out["findings"] = [
        {"fingerprint": f.fingerprint, "rule": f.rule, "severity": f.severity, "message": f.message, "codes": f.codes,
         "section": f.section, "expected": f.expected, "actual": f.actual, "page": f.page, "cross_report": f.cross,
         "decision": _decision(f.decision)}
        for f in detail.findings
    ]  # fmt: skip
    out["decisions"] = [
        {"fingerprint": f.fingerprint, **_decision(h)} for f in detail.findings for h in f.history  # type: ignore[dict-item]
    ]
    out["revisions"] = [dataclasses.asdict(r) for r in detail.revisions]
    return out


@router.post("/findings/{fingerprint}/decision", summary="对一条发现作出审核决定（确认 / 不成立 / 更正）")
def api_decide(request: Request, who: ApiDecider, fingerprint: str, body: DecisionIn) -> dict[str, Any]:
    d = actions.decide(request.app, who, fingerprint, body.decision, body.value, body.note)
    return {"fingerprint": d.fingerprint, **_decision(d)}  # type: ignore[dict-item]


@router.post("/reports/{report_id}/cells/{code}", summary="更正一个单元格（作为一条修改记录保存，原值保留）")
def api_revise(request: Request, who: ApiCorrector, report_id: int, code: str, body: RevisionIn) -> dict[str, Any]:
    return dataclasses.asdict(actions.revise(request.app, who, report_id, code, body.value, body.note))


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
def api_docs(request: Request, who: PageReader):
    """The OpenAPI description as a page (no CDN, no script): every operation, its parameters and body."""
    schema = request.app.openapi()
    operations = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {})
            operations.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                               "params": op.get("parameters", []), "body": ", ".join(body)})  # fmt: skip
    return render(request, "api_docs.html", who, "api", operations=operations, schemas=schema.get("components", {}).get("schemas", {}))
