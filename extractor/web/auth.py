"""Who is asking: the session cookie (pages) or a Bearer token (JSON API), roles, CSRF, login throttling.

Pages: a signed, HttpOnly, SameSite=Lax cookie carries the session token; every state-changing page
request (POST) must carry the session's CSRF token as the form field `csrf` or the `X-CSRF-Token`
header (htmx sends it from the page). The login form, before any session, uses a double-submit token
(a signed cookie and the same value in the form). The JSON API takes only `Authorization: Bearer`,
never the cookie, so a page on another site cannot make the browser call it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, URLSafeSerializer

from extractor.store import accounts
from extractor.store.accounts import User

SESSION_COOKIE = "extractor_session"
LOGIN_COOKIE = "extractor_login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """No live session on a page request: the page answers with a redirect to the login form."""


@dataclass(frozen=True)
class Who:
    user: User
    csrf: str
    token: str


class LoginThrottle:
    """At most `attempts` failed logins per key (user name, client address) within `window` seconds."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def wait(self, *keys: str) -> int:
        """Seconds until another attempt is allowed for these keys (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            longest = 0.0
            for key in keys:
                q = self._failures[key]
                while q and now - q[0] > self.window:
                    q.popleft()
                if len(q) >= self.attempts:
                    longest = max(longest, self.window - (now - q[0]))
            return int(longest) + 1 if longest else 0

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._failures[key].append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


class LoginGuard:
    """Failed logins counted per user name (`attempts`) and per client address (four times as many,
    so one office behind one address is not locked out by one person's typos)."""

    def __init__(self, attempts: int, window: float) -> None:
        self.by_user = LoginThrottle(attempts, window)
        self.by_address = LoginThrottle(attempts * 4, window)

    def wait(self, request: Request, name: str) -> int:
        return max(self.by_user.wait(name.strip()), self.by_address.wait(client_address(request)))

    def failed(self, request: Request, name: str) -> None:
        self.by_user.failed(name.strip())
        self.by_address.failed(client_address(request))

    def succeeded(self, request: Request, name: str) -> None:
        self.by_user.succeeded(name.strip())


def serializer(request: Request, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.secret, salt=salt)


def cookie_token(request: Request) -> str:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return ""
    try:
        return str(serializer(request, "session").loads(raw))
    except BadSignature:
        return ""


def bearer_token(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _lookup(request: Request, token: str, kind: str) -> Who | None:
    if not token:
        return None
    with request.app.state.db.begin() as conn:
        found = accounts.session_user(conn, token, request.app.state.settings.idle_seconds, kind)
    return Who(found[0], found[1], token) if found else None


def page_session(request: Request) -> Who | None:
    return _lookup(request, cookie_token(request), "web")


def require_page(action: str = "read"):
    """Dependency for a page: a live web session whose role may do `action`; POSTs must carry the CSRF token."""

    async def dependency(request: Request) -> Who:
        who = page_session(request)
        if who is None:
            raise LoginRequired()
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            sent = request.headers.get(CSRF_HEADER) or ""
            if not sent and request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                form = await form_with_limits(request)
                sent = str(form.get(CSRF_FIELD) or "")
            if not hmac.compare_digest(sent.encode(), who.csrf.encode()):
                raise HTTPException(403, "请求缺少有效的 CSRF 令牌（请刷新页面后重试）")
        if not who.user.may(action):
            raise HTTPException(403, f"您的角色（{accounts.ROLE_LABELS[who.user.role]}）无权进行此操作")
        return who

    return dependency


def require_api(action: str = "read"):
    """Dependency for the JSON API: a Bearer token of a live API session whose role may do `action`."""

    async def dependency(request: Request) -> Who:
        who = _lookup(request, bearer_token(request), "api")
        if who is None:
            raise HTTPException(401, "需要登录：请先 POST /api/login，并在请求头中发送 Authorization: Bearer 令牌")
        if not who.user.may(action):
            raise HTTPException(403, f"角色 {who.user.role} 无权进行此操作")
        return who

    return dependency


async def form_with_limits(request: Request):
    """The request's form, parsed once, with the upload count limit (more files → 413)."""
    from starlette.exceptions import HTTPException as StarletteHTTPException

    settings = request.app.state.settings
    try:
        return await request.form(max_files=settings.max_files, max_fields=1000)
    except StarletteHTTPException as exc:  # Starlette turns a parse error into 400
        if "Too many files" in str(exc.detail):
            raise HTTPException(413, f"一次最多上传 {settings.max_files} 个文件") from None
        raise HTTPException(422, f"表单无法解析：{exc.detail}") from None


def new_login_token(request: Request) -> tuple[str, str]:
    """(value for the form, signed value for the cookie) of the login form's double-submit token."""
    value = secrets.token_urlsafe(24)
    return value, serializer(request, "login").dumps(value)


def login_token_ok(request: Request, sent: str) -> bool:
    raw = request.cookies.get(LOGIN_COOKIE) or ""
    try:
        expected = str(serializer(request, "login").loads(raw))
    except BadSignature:
        return False
    return bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())


def set_session_cookie(request: Request, response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        serializer(request, "session").dumps(token),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# the dependencies, one per role need (FastAPI's Annotated form)
PageReader = Annotated[Who, Depends(require_page("read"))]
PageUploader = Annotated[Who, Depends(require_page("upload"))]
PageDecider = Annotated[Who, Depends(require_page("decide"))]
PageCorrector = Annotated[Who, Depends(require_page("correct"))]
PageAdmin = Annotated[Who, Depends(require_page("admin"))]
ApiReader = Annotated[Who, Depends(require_api("read"))]
ApiUploader = Annotated[Who, Depends(require_api("upload"))]
ApiDecider = Annotated[Who, Depends(require_api("decide"))]
ApiCorrector = Annotated[Who, Depends(require_api("correct"))]
