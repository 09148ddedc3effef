"""The review workspace's JSON API and its guards, through FastAPI's TestClient, on SQLite and on a
real PostgreSQL server (the same code).

One workspace per database: real reports and a corrupt file uploaded through the API and ingested by
the real background runner (a separate process, real parsing).
"""

from __future__ import annotations

import re

import pytest
from builders import REAL
from fastapi.testclient import TestClient
from web_helpers import CORRUPT, PASSWORD, make_users, wait_done, xss_report

from extractor.web.app import create_app
from extractor.web.settings import Settings


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ws(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    db = str(root / "reports.db") if request.param == "sqlite" else request.getfixturevalue("pg_server").create_database()
    make_users(db)
    app = create_app(Settings(db=db, data_dir=str(root / "data"), workers=1, max_files=6, max_file_mb=5))
    with TestClient(app) as client:
        yield client, root


def token(client, name: str) -> dict[str, str]:
    r = client.post("/api/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def upload_and_wait(client, files: list, uploader: dict[str, str], reader: dict[str, str] | None = None) -> dict:
    """Upload `files` as `uploader`, wait until the batch is done, and return it as `reader` sees it."""
    r = client.post("/api/uploads", files=files, headers=uploader)
    assert r.status_code == 202, r.text
    batch_id = r.json()["batch"]
    reader = reader or uploader
    wait_done(lambda: client.get(f"/api/batches/{batch_id}", headers=reader).json()["state"])
    return client.get(f"/api/batches/{batch_id}", headers=reader).json()


@pytest.fixture(scope="module")
def batch(ws):
    client, root = ws
    files = [
        ("files", ("hzq2023.pdf", (REAL / "hzq2023.pdf").read_bytes(), "application/pdf")),
        ("files", ("pingtan2021.html", (REAL / "pingtan2021.html").read_bytes(), "text/html")),
        ("files", ("xss2024.md", xss_report(root).read_bytes(), "text/markdown")),
        ("files", ("broken.pdf", CORRUPT, "application/pdf")),
        ("files", ("hzq-copy.pdf", (REAL / "hzq2023.pdf").read_bytes(), "application/pdf")),
    ]
    return upload_and_wait(client, files, token(client, "rita"), token(client, "vera"))


def report_id(client, name: str) -> int:
    rows = client.get("/api/reports", headers=token(client, "vera")).json()
    return next(r["id"] for r in rows if r["name"] == name)


def test_login_gives_a_token_and_bad_logins_are_refused(ws):
    client, _ = ws
    r = client.post("/api/login", json={"username": "rita", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["role"] == "reviewer" and len(r.json()["token"]) > 30
    bad = client.post("/api/login", json={"username": "rita", "password": "wrong password"})
    assert bad.status_code == 401 and bad.json()["error"] == "unauthorized"
    assert client.post("/api/login", json={"username": "rita"}).status_code == 422
    assert client.post("/api/login", content=b"not json", headers={"content-type": "application/json"}).status_code == 422


def test_login_attempts_are_rate_limited(tmp_path):
    db = str(tmp_path / "r.db")
    make_users(db)
    app = create_app(Settings(db=db, data_dir=str(tmp_path / "d"), run_batches=False, login_attempts=3))
    with TestClient(app) as client:
        codes = [client.post("/api/login", json={"username": "vera", "password": "nope"}).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        r = client.post("/api/login", json={"username": "vera", "password": PASSWORD})
        assert r.status_code == 429 and r.json()["error"] == "rate_limited"  # even the right password waits
        assert client.post("/api/login", json={"username": "rita", "password": PASSWORD}).status_code == 200


def test_batch_reports_every_file_outcome(batch):
    assert batch["state"] == "done"
    files = {f["name"]: f for f in batch["files"]}
    assert [f["status"] for f in batch["files"]] == ["ok", "ok", "ok", "failed", "duplicate"]
    assert files["hzq2023.pdf"]["report_id"] and files["hzq-copy.pdf"]["report_id"] == files["hzq2023.pdf"]["report_id"]
    assert "PDF" in files["broken.pdf"]["reason"]
    assert "hzq2023.pdf" in files["hzq-copy.pdf"]["reason"]


def test_uploaded_originals_are_kept_by_sha256(ws, batch):
    _, root = ws
    stored = sorted(p.name for p in (root / "data" / "originals").rglob("*") if p.is_file())
    assert len(stored) == 4 and all(re.fullmatch(r"[0-9a-f]{64}\.(pdf|html|txt)", n) for n in stored), stored


def test_a_copy_uploaded_later_is_a_duplicate(ws, batch):
    client, _ = ws
    auth = token(client, "rolf")
    (only,) = upload_and_wait(client, [("files", ("again.html", (REAL / "pingtan2021.html").read_bytes(), "text/html"))], auth)["files"]
    assert only["status"] == "duplicate" and only["report_id"] == report_id(client, "pingtan2021.html")


def test_zip_members_are_ingested_under_their_content(ws, tmp_path):
    import io
    import zipfile

    client, root = ws
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../evil/seed2020.txt", (REAL / "seed2020.txt").read_bytes())
        zf.writestr("notes.json", b'{"a": 1}')
    auth = token(client, "rita")
    done = upload_and_wait(client, [("files", ("pack.zip", buf.getvalue(), "application/zip"))], auth)
    files = {f["name"]: f for f in done["files"]}
    assert files["pack.zip/../../evil/seed2020.txt"]["status"] == "ok"
    assert files["pack.zip/notes.json"]["status"] == "skipped"
    assert not (root / "evil").exists() and not (root / "data" / "evil").exists()


def test_every_endpoint_needs_a_token(ws):
    client, _ = ws
    for method, path in [("get", "/api/reports"), ("get", "/api/reports/1"), ("get", "/api/batches/1"), ("post", "/api/uploads"),
                         ("post", "/api/findings/abc/decision"), ("post", "/api/reports/1/cells/t3.new.total")]:  # fmt: skip
        r = getattr(client, method)(path)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized", (path, r.text)
        r = getattr(client, method)(path, headers={"Authorization": "Bearer forged-token"})
        assert r.status_code == 401, path


def test_the_page_cookie_is_no_api_token(ws):
    """The API takes only Bearer tokens, so another site cannot make a logged-in browser call it."""
    client, _ = ws
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"username": "rita", "password": PASSWORD, "csrf": csrf, "next": "/"})
    assert client.cookies.get("extractor_session")
    assert client.get("/api/reports").status_code == 401
    client.cookies.clear()


def test_reports_list_and_filters(ws, batch):
    client, _ = ws
    auth = token(client, "vera")
    rows = client.get("/api/reports", headers=auth).json()
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) >= {"hzq2023.pdf", "pingtan2021.html", "xss2024.md", "broken.pdf"}
    assert by_name["broken.pdf"]["status"] == "unreadable" and not by_name["broken.pdf"]["readable"]
    assert by_name["hzq2023.pdf"]["status"] == "errors" and by_name["hzq2023.pdf"]["findings"]["error"] >= 2
    assert [r["name"] for r in client.get("/api/reports", params={"agency": "洪泽"}, headers=auth).json()] == ["hzq2023.pdf"]
    assert {r["year"] for r in client.get("/api/reports", params={"year": 2021}, headers=auth).json()} == {2021}
    unreadable = client.get("/api/reports", params={"status": "unreadable"}, headers=auth).json()
    assert [r["name"] for r in unreadable] == ["broken.pdf"]
    r = client.get("/api/reports", params={"status": "bogus"}, headers=auth)
    assert r.status_code == 422 and r.json()["error"] == "invalid"
    assert client.get("/api/reports", params={"year": "two"}, headers=auth).status_code == 422


def test_report_detail_is_the_parse_contract_plus_review(ws, batch):
    client, _ = ws
    auth = token(client, "vera")
    rid = report_id(client, "hzq2023.pdf")
    d = client.get(f"/api/reports/{rid}", headers=auth).json()
    assert d["report"]["agency"] == "淮安市洪泽区人民政府" and d["report"]["year"] == 2023
    assert d["source"]["format"] == "pdf" and len(d["sections"]) >= 5
    cells = {c["code"]: c for c in d["cells"]}
    assert cells["t3.new.total"]["value"] == 21 and cells["t3.new.total"]["current"] == 21
    t4 = [f for f in d["findings"] if f["rule"] == "t4.group_total"]
    assert len(t4) == 2 and all(re.fullmatch(r"[0-9a-f]{16}", f["fingerprint"]) for f in t4)
    assert d["decisions"] == [] and d["revisions"] == []
    assert client.get("/api/reports/99999", headers=auth).status_code == 404
    assert client.get("/api/reports/99999", headers=auth).json()["error"] == "not_found"
    broken = client.get(f"/api/reports/{report_id(client, 'broken.pdf')}", headers=auth).json()
    assert broken["readable"] is False and broken["cells"] == [] and broken["error"]


def test_decisions_roles_and_concurrent_reviewers(ws, batch):
    client, _ = ws
    rid = report_id(client, "hzq2023.pdf")
    fps = [f["fingerprint"] for f in client.get(f"/api/reports/{rid}", headers=token(client, "vera")).json()["findings"] if f["rule"] == "t4.group_total"]
    rita, rolf, vera = token(client, "rita"), token(client, "rolf"), token(client, "vera")
    r = client.post(f"/api/findings/{fps[0]}/decision", json={"decision": "dismissed"}, headers=vera)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = client.post(f"/api/findings/{fps[0]}/decision", json={"decision": "confirmed", "note": "总计漏填"}, headers=rita)
    assert r.status_code == 200 and r.json()["decision"] == "confirmed" and r.json()["by"] == "rita"
    r = client.post(f"/api/findings/{fps[0]}/decision", json={"decision": "corrected", "value": "11", "note": "应为 11"}, headers=rolf)
    assert r.status_code == 200 and r.json()["value"] == 11
    d = client.get(f"/api/reports/{rid}", headers=vera).json()
    finding = next(f for f in d["findings"] if f["fingerprint"] == fps[0])
    assert finding["decision"]["decision"] == "corrected" and finding["decision"]["by"] == "rolf"  # the later one wins
    history = [(h["by"], h["decision"]) for h in d["decisions"] if h["fingerprint"] == fps[0]]
    assert history == [("rita", "confirmed"), ("rolf", "corrected")]  # both kept
    assert client.post(f"/api/findings/{fps[1]}/decision", json={"decision": "corrected"}, headers=rita).status_code == 422
    assert client.post(f"/api/findings/{fps[1]}/decision", json={"decision": "maybe"}, headers=rita).status_code == 422
    r = client.post("/api/findings/0123456789abcdef/decision", json={"decision": "confirmed"}, headers=rita)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_cell_revisions_keep_the_extracted_value(ws, batch):
    client, _ = ws
    rid = report_id(client, "hzq2023.pdf")
    rita, vera = token(client, "rita"), token(client, "vera")
    assert client.post(f"/api/reports/{rid}/cells/t4.review.total", json={"value": 11, "note": "x"}, headers=vera).status_code == 403
    r = client.post(f"/api/reports/{rid}/cells/t4.review.total", json={"value": "10", "note": "先填 10"}, headers=rita)
    assert r.status_code == 200 and (r.json()["old_value"], r.json()["new_value"]) == (0, 10)
    r = client.post(f"/api/reports/{rid}/cells/t4.review.total", json={"value": 11, "note": "复核后为 11"}, headers=rita)
    assert (r.json()["old_value"], r.json()["new_value"], r.json()["revised_by"]) == (10, 11, "rita")
    d = client.get(f"/api/reports/{rid}", headers=vera).json()
    cell = next(c for c in d["cells"] if c["code"] == "t4.review.total")
    assert cell["value"] == 0 and cell["current"] == 11
    assert [(v["old_value"], v["new_value"], v["note"]) for v in d["revisions"]] == [(0, 10, "先填 10"), (10, 11, "复核后为 11")]
    assert client.post(f"/api/reports/{rid}/cells/t9.nothing", json={"value": 1}, headers=rita).status_code == 404
    assert client.post(f"/api/reports/{rid}/cells/t4.review.total", json={"value": ""}, headers=rita).status_code == 422
    assert client.post(f"/api/reports/{rid}/cells/t4.review.total", json={}, headers=rita).status_code == 422
    assert client.post("/api/reports/99999/cells/t4.review.total", json={"value": 1}, headers=rita).status_code == 404


def test_upload_limits_and_roles(ws):
    client, _ = ws
    rita, vera = token(client, "rita"), token(client, "vera")
    one = ("files", ("a.txt", b"x", "text/plain"))
    assert client.post("/api/uploads", files=[one], headers=vera).status_code == 403
    r = client.post("/api/uploads", files=[one] * 7, headers=rita)  # max_files=6
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = client.post("/api/uploads", files=[("files", ("big.pdf", b"%PDF-" + b"0" * (5 * 2**20), "application/pdf"))], headers=rita)
    assert r.status_code == 413 and "5 MB" in r.json()["detail"]
    r = client.post("/api/uploads", data={"x": "1"}, headers=rita)
    assert r.status_code == 422
    assert client.get("/api/batches/424242", headers=vera).status_code == 404


def test_openapi_documents_the_api(ws):
    client, _ = ws
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/login", "/api/uploads", "/api/batches/{batch_id}", "/api/reports", "/api/reports/{report_id}",
                 "/api/findings/{fingerprint}/decision", "/api/reports/{report_id}/cells/{code}"):  # fmt: skip
        assert path in paths, path


# --------------------------------------------------------------------------------------------------
# the page side: sessions, CSRF, roles, escaping


def login_page(client, name: str) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": csrf, "next": "/"})
    assert r.status_code == 200 and str(r.url).endswith("/"), r.text[:300]
    return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)


def test_pages_need_a_session(ws):
    client, _ = ws
    client.cookies.clear()
    for path in ("/", "/upload", "/reports", "/reports/1", "/yoy", "/exports", "/admin/users", "/api/docs", "/batches/1"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    r = client.get("/reports", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 401 and r.headers["HX-Redirect"] == "/login"
    assert client.get("/static/htmx.min.js").status_code == 200
    r = client.get("/login")
    assert "登录" in r.text and "default-src 'none'" in r.headers["content-security-policy"]
    assert "script-src 'self'" in r.headers["content-security-policy"] and "unsafe-inline" not in r.headers["content-security-policy"]


def test_session_cookie_flags_and_logout(ws):
    client, _ = ws
    client.cookies.clear()
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": "vera", "password": PASSWORD, "csrf": csrf, "next": "//evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    token_page = client.get("/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', token_page.text).group(1)
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303
    client.cookies.clear()


def test_login_form_needs_its_token(ws):
    client, _ = ws
    client.cookies.clear()
    r = client.post("/login", data={"username": "vera", "password": PASSWORD, "next": "/"})
    assert r.status_code == 403 and "extractor_session" not in client.cookies


def test_form_posts_need_the_csrf_token(ws, batch):
    client, _ = ws
    client.cookies.clear()
    csrf = login_page(client, "rita")
    rid = report_id(client, "hzq2023.pdf")
    fp = next(f["fingerprint"] for f in client.get(f"/api/reports/{rid}", headers=token(client, "vera")).json()["findings"])
    r = client.post(f"/findings/{fp}/decision", data={"decision": "dismissed"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post(f"/findings/{fp}/decision", data={"decision": "dismissed", "csrf": "wrong"})
    assert r.status_code == 403
    r = client.post(f"/findings/{fp}/decision", data={"decision": "dismissed", "csrf": csrf, "note": "页面测试"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/reports/{rid}#f-{fp}"
    r = client.post(f"/findings/{fp}/decision", data={"decision": "confirmed"}, headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    assert r.status_code == 303  # htmx sends the token as a header
    client.cookies.clear()


def test_a_viewer_may_read_but_not_decide(ws, batch):
    client, _ = ws
    client.cookies.clear()
    csrf = login_page(client, "vera")
    rid = report_id(client, "hzq2023.pdf")
    page = client.get(f"/reports/{rid}")
    assert page.status_code == 200 and "淮安市洪泽区人民政府" in page.text and "不成立</button>" not in page.text
    fp = re.search(r'data-fingerprint="([0-9a-f]{16})"', page.text).group(1)
    r = client.post(f"/findings/{fp}/decision", data={"decision": "dismissed", "csrf": csrf})
    assert r.status_code == 403 and "无权" in r.text
    assert client.post(f"/reports/{rid}/cells/t3.new.total", data={"value": "1", "note": "x", "csrf": csrf}).status_code == 403
    assert client.get("/upload").status_code == 403 and client.get("/admin/users").status_code == 403
    client.cookies.clear()


def test_report_text_is_escaped(ws, batch):
    client, _ = ws
    client.cookies.clear()
    login_page(client, "vera")
    rid = report_id(client, "xss2024.md")
    html = client.get(f"/reports/{rid}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    cell = client.get(f"/reports/{rid}/cells/t3.new.natural_person").text
    assert "&lt;script&gt;" in cell and "<script>alert" not in cell
    client.cookies.clear()


def test_pages_render_for_a_reviewer(ws, batch):
    client, _ = ws
    client.cookies.clear()
    login_page(client, "admin")
    overview = client.get("/").text
    assert "淮安市洪泽区人民政府" in overview and "无法读取的文件（1）" in overview and "broken.pdf" in overview
    listing = client.get("/reports", params={"status": "unreadable"}).text
    assert "broken.pdf" in listing and "hzq2023.pdf" not in listing
    assert client.get("/reports", params={"status": "nope"}).status_code == 422
    for path in ("/upload", "/yoy", "/exports", "/admin/users", "/api/docs", "/batches/1"):
        assert client.get(path).status_code == 200, path
    assert client.get("/reports/99999").status_code == 404 and "未找到" in client.get("/reports/99999").text
    hzq = client.get(f"/reports/{report_id(client, 'hzq2023.pdf')}/original")
    assert hzq.status_code == 200 and hzq.content == (REAL / "hzq2023.pdf").read_bytes()
    assert "hzq2023.pdf" in hzq.headers["content-disposition"]
    client.cookies.clear()


def test_exports_download(ws, batch):
    import io
    import zipfile

    import openpyxl

    client, _ = ws
    client.cookies.clear()
    login_page(client, "vera")
    r = client.get("/exports/compare.xlsx", params={"agency": "洪泽"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert "淮安市洪泽区人民政府" in str([c.value for row in book.worksheets[0].iter_rows() for c in row])
    audit = client.get("/exports/audit.html").text
    assert "审核报告" in audit and "淮安市洪泽区人民政府" in audit
    letters = zipfile.ZipFile(io.BytesIO(client.get("/exports/letters.zip", params={"year": "2023"}).content))
    assert "整改通知_淮安市洪泽区人民政府.md" in letters.namelist()
    assert client.get("/exports/audit.pdf").status_code == 404
    assert client.get("/exports/compare.xlsx", params={"year": "x"}).status_code == 422
    client.cookies.clear()


def test_year_over_year_page(ws, batch):
    client, _ = ws
    auth = token(client, "rita")
    upload_and_wait(client, [("files", ("pingtan2020.html", (REAL / "pingtan2020.html").read_bytes(), "text/html"))], auth)
    key = next(r["agency_key"] for r in client.get("/api/reports", headers=auth).json() if r["name"] == "pingtan2020.html")
    client.cookies.clear()
    login_page(client, "vera")
    page = client.get("/yoy", params={"agency": key, "year": 2021})
    assert page.status_code == 200, page.text[:500]
    text = page.text
    assert "2020 → 2021" in text and 'id="yoy-checks"' in text and 'id="yoy-cells"' in text and 'id="yoy-text"' in text
    assert re.search(r"<b>\d+%</b> 语句与上年雷同", text)
    assert client.get("/yoy", params={"agency": "no-such-agency"}).status_code == 404
    client.cookies.clear()
