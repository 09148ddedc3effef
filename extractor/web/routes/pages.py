"""Login, logout and the overview (总览)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from extractor.store import accounts, catalog
from extractor.web import auth
from extractor.web.auth import PageReader
from extractor.web.templating import render

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path on this site (no scheme, no //host): the login form must not redirect elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, message: str = "", username: str = "", next_: str = "/", status: int = 200):
    value, signed = auth.new_login_token(request)
    response = render(request, "login.html", None, login_token=value, message=message, username=username, next=_safe_next(next_), status_code=status)
    response.set_cookie(auth.LOGIN_COOKIE, signed, httponly=True, samesite="strict", secure=request.app.state.settings.secure_cookies, path="/login")
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    if auth.page_session(request):
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next_=next)


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""), csrf: str = Form(""), next: str = Form("/")):
    if not auth.login_token_ok(request, csrf):
        return _login_page(request, "登录表单已过期，请重新输入", username, next, 403)
    guard = request.app.state.login_guard
    wait = guard.wait(request, username)
    if wait:
        return _login_page(request, f"登录失败次数过多，请 {wait} 秒后再试", username, next, 429)
    with request.app.state.db.begin() as conn:
        user = accounts.authenticate(conn, username, password)
        if user is None:
            guard.failed(request, username)
            return _login_page(request, "用户名或密码不正确（或账户已停用）", username, next, 401)
        token, _ = accounts.start_session(conn, user, "web")
    guard.succeeded(request, username)
    response = RedirectResponse(_safe_next(next), status_code=303)
    auth.set_session_cookie(request, response, token)
    response.delete_cookie(auth.LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, who: PageReader):
    with request.app.state.db.begin() as conn:
        accounts.end_session(conn, who.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/")
def overview(request: Request, who: PageReader):
    with request.app.state.db.begin() as conn:
        data = catalog.overview(conn)
    return render(request, "overview.html", who, "overview", data=data, states=catalog.STATES)
