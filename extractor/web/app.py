"""The application factory: `create_app(Settings)` → a FastAPI app (pages, JSON API, static files).

Security that holds for every route lives here: the request-size guard (413), the security headers
(a CSP without inline script), and the error handlers (JSON `{"error", "detail"}` under /api, a
Chinese page elsewhere; no session on a page → the login form).
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from extractor.store import accounts
from extractor.store import database as storage
from extractor.web.auth import LoginGuard, LoginRequired
from extractor.web.jobs import BatchRunner
from extractor.web.settings import Settings
from extractor.web.templating import render

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
ERROR_WORDS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               411: "length_required", 413: "too_large", 422: "invalid", 429: "rate_limited"}  # fmt: skip
ERROR_TITLES = {401: "需要登录", 403: "无权访问", 404: "未找到", 413: "上传内容过大", 422: "输入有误", 429: "尝试次数过多"}


class BodyLimit:
    """Refuse a request body over the upload limit (413) before anything reads it; a body without
    a declared length is refused too (411), so the limit cannot be walked around."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            status = None
            if length is None and b"chunked" in headers.get(b"transfer-encoding", b""):
                status, detail = 411, "请求须声明 Content-Length"
            elif length is not None and (not length.isdigit() or int(length) > self.limit):
                status, detail = 413, f"一次上传最多 {self.limit // 2**20} MB"
            if status:
                response = _error_response(scope["path"], status, detail)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _error_response(path: str, status: int, detail: object, request: Request | None = None):
    if _is_api(path) or request is None:
        return JSONResponse({"error": ERROR_WORDS.get(status, "error"), "detail": detail}, status_code=status)
    from extractor.web.auth import page_session

    try:
        who = page_session(request)
    except Exception:  # the error page must render even when the database is what failed
        who = None
    return render(request, "error.html", who, status=status, title=ERROR_TITLES.get(status, "出错了"), detail=detail, status_code=status)


def create_app(settings: Settings) -> FastAPI:
    os.makedirs(settings.data_dir, exist_ok=True)
    db = storage.connect(settings.db)  # created or upgraded to the current schema
    runner = BatchRunner(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        with db.begin() as conn:
            accounts.purge_sessions(conn, settings.idle_seconds)
        if settings.run_batches:
            runner.start(db)
        yield
        runner.stop()
        db.close()

    app = FastAPI(
        title="extractor 审核工作台 API",
        version="1",
        description="政府信息公开工作年度报告审核工作台的 JSON API。先 POST /api/login 取得令牌，之后每个请求带 `Authorization: Bearer 令牌`。",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.secret = settings.secret_key()
    app.state.login_guard = LoginGuard(settings.login_attempts, settings.login_window_s)
    app.state.runner = runner

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_middleware(BodyLimit, limit=settings.max_upload_mb * 2**20)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if request.headers.get("hx-request"):
            return JSONResponse({"error": "unauthorized"}, status_code=401, headers={"HX-Redirect": "/login"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)  # FastAPI's HTTPException is one too
    async def starlette_error(request: Request, exc: StarletteHTTPException):
        detail = {404: "没有这个页面或对象", 405: "不支持此请求方法"}.get(exc.status_code, exc.detail)
        return _error_response(request.url.path, exc.status_code, detail, request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return _error_response(request.url.path, 422, detail, request)

    app.mount("/static", StaticFiles(directory=str(files("extractor.web") / "static")), name="static")

    from extractor.web.routes import api, exports, pages, reports, upload, users, yoy

    for module in (pages, upload, reports, yoy, exports, users, api):
        app.include_router(module.router)
    return app
