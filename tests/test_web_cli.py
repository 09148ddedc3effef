"""`extractor users …`, idle sessions, the admin page and the request-size guard of the workspace."""

from __future__ import annotations

import re

from click.testing import CliRunner
from fastapi.testclient import TestClient
from web_helpers import PASSWORD, make_users

from extractor.cli.main import main
from extractor.web.app import create_app
from extractor.web.settings import Settings


def test_users_commands(tmp_path):
    db = str(tmp_path / "r.db")
    run = CliRunner().invoke
    r = run(main, ["users", "add", "chief", "--role", "admin", "--db", db], input="long enough 1\n")
    assert r.exit_code == 0 and "added chief (admin)" in r.output
    assert run(main, ["users", "add", "chief", "--role", "admin", "--db", db], input="long enough 1\n").exit_code != 0
    r = run(main, ["users", "add", "x", "--role", "viewer", "--db", db], input="short\n")
    assert r.exit_code != 0 and "至少 8 个字符" in r.output
    assert run(main, ["users", "add", "y", "--role", "boss", "--db", db], input="long enough 1\n").exit_code == 2
    assert run(main, ["users", "add", "ann", "--role", "viewer", "--db", db], input="long enough 2\n").exit_code == 0
    listing = run(main, ["users", "list", "--db", db]).output
    assert re.search(r"ann\s+viewer\s+active", listing) and re.search(r"chief\s+admin\s+active", listing)
    assert run(main, ["users", "passwd", "ann", "--db", db], input="a new password\n").exit_code == 0
    assert run(main, ["users", "disable", "ann", "--db", db]).exit_code == 0
    assert re.search(r"ann\s+viewer\s+disabled", run(main, ["users", "list", "--db", db]).output)
    r = run(main, ["users", "disable", "nobody", "--db", db])
    assert r.exit_code != 0 and "没有用户 nobody" in r.output and "Traceback" not in r.output
    app = create_app(Settings(db=db, data_dir=str(tmp_path / "d"), run_batches=False))
    with TestClient(app) as client:
        assert client.post("/api/login", json={"username": "ann", "password": "a new password"}).status_code == 401  # disabled
        assert client.post("/api/login", json={"username": "chief", "password": "long enough 1"}).status_code == 200


def test_serve_refuses_an_unusable_database(tmp_path):
    bad = tmp_path / "not.db"
    bad.write_bytes(b"this is not a database at all" * 100)
    r = CliRunner().invoke(main, ["serve", "--db", str(bad), "--data-dir", str(tmp_path / "d")])
    assert r.exit_code != 0 and "Traceback" not in r.output and "not.db" in r.output


def _login(client) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf": csrf, "next": "/admin/users"})
    return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)


def test_idle_sessions_expire(tmp_path):
    db = str(tmp_path / "r.db")
    make_users(db)
    app = create_app(Settings(db=db, data_dir=str(tmp_path / "d"), run_batches=False, idle_minutes=0))
    with TestClient(app) as client:
        _login(client)
        assert client.get("/", follow_redirects=False).status_code == 303  # idle limit 0: already expired
        r = client.post("/api/login", json={"username": "vera", "password": PASSWORD})
        assert client.get("/api/reports", headers={"Authorization": "Bearer " + r.json()["token"]}).status_code == 401


def test_admin_manages_users_and_rules(tmp_path):
    db = str(tmp_path / "r.db")
    make_users(db)
    app = create_app(Settings(db=db, data_dir=str(tmp_path / "d"), run_batches=False))
    with TestClient(app) as client:
        csrf = _login(client)
        r = client.post("/admin/users", data={"csrf": csrf, "name": "newbie", "role": "reviewer", "password": "newbie pass 1"})
        assert r.status_code == 200 and "已添加用户 newbie" in r.text
        r = client.post("/admin/users", data={"csrf": csrf, "name": "x y", "role": "reviewer", "password": "newbie pass 1"})
        assert r.status_code == 422 and "用户名" in r.text
        assert client.post("/admin/users/newbie", data={"csrf": csrf, "action": "disable"}).status_code == 200
        assert client.post("/api/login", json={"username": "newbie", "password": "newbie pass 1"}).status_code == 401
        assert client.post("/admin/users/admin", data={"csrf": csrf, "action": "disable"}).status_code == 422
        r = client.post("/admin/rules", data={"csrf": csrf, "rules": '[rules."no.such.rule"]\nenabled = false\n'})
        assert r.status_code == 422 and "no.such.rule" in r.text and not (tmp_path / "d" / "rules.toml").exists()
        r = client.post("/admin/rules", data={"csrf": csrf, "rules": '[rules."narrative.percentage"]\nenabled = false\n'})
        assert r.status_code == 200 and (tmp_path / "d" / "rules.toml").exists()
        assert re.search(r'<tr class="off"><td><code>narrative.percentage</code></td><td>关闭', r.text)
        assert client.post("/admin/rules", data={"rules": ""}).status_code == 403  # no CSRF token


def test_request_body_over_the_limit_is_refused_unread(tmp_path):
    db = str(tmp_path / "r.db")
    make_users(db)
    app = create_app(Settings(db=db, data_dir=str(tmp_path / "d"), run_batches=False, max_upload_mb=1))
    with TestClient(app) as client:
        token = client.post("/api/login", json={"username": "rita", "password": PASSWORD}).json()["token"]
        r = client.post("/api/uploads", files=[("files", ("a.pdf", b"0" * (2 * 2**20), "application/pdf"))], headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 413 and r.json() == {"error": "too_large", "detail": "一次上传最多 1 MB"}
        assert not (tmp_path / "d" / "originals").exists()
