"""用户与规则 (admin only): accounts and the office's rules file (data dir `rules.toml`), which the
exports apply (rules switched off, severities changed) and uploaded batches are checked with."""

from __future__ import annotations

import os
import tempfile

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from extractor.checks import settings as rules_settings
from extractor.store import accounts
from extractor.web.auth import PageAdmin, Who
from extractor.web.templating import render

router = APIRouter(prefix="/admin")


def rules_path(request: Request) -> str:
    return os.path.join(request.app.state.settings.data_dir, "rules.toml")


def rules_config(request: Request) -> rules_settings.RulesConfig | None:
    path = rules_path(request)
    if not os.path.exists(path):
        return None
    try:
        return rules_settings.load(path)
    except rules_settings.RulesConfigError:
        return None  # refused at saving; a file edited by hand badly is ignored, not fatal


def _page(request: Request, who: Who, message: str = "", bad: bool = False, rules_text: str | None = None, status: int = 200):
    from extractor.checks.cross import CROSS_RULES
    from extractor.checks.rules import RULES

    with request.app.state.db.begin() as conn:
        users = accounts.list_users(conn)
    path = rules_path(request)
    if rules_text is None:
        rules_text = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    config = rules_config(request)
    rules = [
        {"id": r.id, "severity": config.severity(r.id, r.severity) if config else r.severity,
         "enabled": config.enabled(r.id) if config else True, "description": r.description}
        for r in [*RULES, *CROSS_RULES]
    ]  # fmt: skip
    return render(request, "admin.html", who, "admin", users=users, roles=accounts.ROLES, rules=rules, rules_text=rules_text,
                  message=message, bad=bad, status_code=status)  # fmt: skip


@router.get("/users")
def admin_page(request: Request, who: PageAdmin):
    return _page(request, who)


@router.post("/users")
def add_user(request: Request, who: PageAdmin, name: str = Form(""), role: str = Form(""), password: str = Form("")):
    try:
        with request.app.state.db.begin() as conn:
            accounts.add_user(conn, name, role, password)
    except accounts.AccountError as exc:
        return _page(request, who, str(exc), True, status=422)
    return _page(request, who, f"已添加用户 {name.strip()}")


@router.post("/users/{name}")
def change_user(request: Request, who: PageAdmin, name: str, action: str = Form(""), role: str = Form(""), password: str = Form("")):  # fmt: skip
    if name == who.user.name and action in ("disable", "role"):
        return _page(request, who, "不能停用自己或修改自己的角色", True, status=422)
    try:
        with request.app.state.db.begin() as conn:
            if action == "disable":
                accounts.set_active(conn, name, False)
            elif action == "enable":
                accounts.set_active(conn, name, True)
            elif action == "role":
                accounts.set_role(conn, name, role)
            elif action == "password":
                accounts.set_password(conn, name, password)
            else:
                raise HTTPException(422, "未知操作")
    except accounts.AccountError as exc:
        return _page(request, who, str(exc), True, status=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/rules")
def save_rules(request: Request, who: PageAdmin, rules: str = Form("")):
    """Validate the rules file with the checks' own loader, then put it in place."""
    folder = request.app.state.settings.data_dir
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".toml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(rules)
    try:
        rules_settings.load(tmp)
    except rules_settings.RulesConfigError as exc:
        os.unlink(tmp)
        return _page(request, who, "规则设置有误：" + str(exc).replace(tmp, "rules.toml"), True, rules, 422)
    os.replace(tmp, rules_path(request))
    return _page(request, who, "规则设置已保存：导出和之后上传的报告按此检查")
