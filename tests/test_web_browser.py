"""The review workspace in a real browser: `extractor serve` on 127.0.0.1 (a free port) driven by
Playwright with the system Chromium. Screenshots go to out/screenshots/ (printed at the end).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import REAL, ROOT
from web_helpers import CORRUPT, PASSWORD, make_users, xss_report

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "out" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (scripts/setup-system.sh installs it)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (pip install -e '.[dev]')")
    root = tmp_path_factory.mktemp("serve")
    db = str(root / "reports.db")
    make_users(db)
    port = _free_port()
    log = open(root / "server.log", "w")
    exe = Path(sys.executable).with_name("extractor")
    proc = subprocess.Popen(
        [str(exe), "serve", "--db", db, "--data-dir", str(root / "data"), "--port", str(port), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):  # up to ~20 s for the server to listen
            if proc.poll() is not None:
                pytest.fail(f"extractor serve exited: {(root / 'server.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("extractor serve did not start listening")
        yield f"http://127.0.0.1:{port}", root
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    assert "Traceback" not in (root / "server.log").read_text(), (root / "server.log").read_text()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()
    print(f"\nscreenshots: {SHOTS}")


def _page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, dialogs, errors


def _login(page, base: str, name: str) -> None:
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def reviewed(server, browser):
    """A reviewer logs in, uploads three real reports, a corrupt file and one with a script in its text,
    and watches the batch finish; returns the report ids by file name."""
    base, root = server
    context, page, dialogs, errors = _page(browser)
    page.goto(base + "/reports")
    assert "/login" in page.url and "年度报告审核工作台" in page.content()
    _shot(page, "01-login")
    _login(page, base, "rita")
    page.goto(base + "/upload")
    corrupt = root / "broken.pdf"
    corrupt.write_bytes(CORRUPT)
    files = [str(REAL / "hzq2023.pdf"), str(REAL / "pingtan2021.html"), str(REAL / "kewei2024.md"), str(corrupt), str(xss_report(root)),
             str(REAL / "pingtan2020.html")]  # fmt: skip
    page.set_input_files("#files", files)
    assert page.locator("#chosen").text_content() == "已选择 6 个文件"
    _shot(page, "02-upload")
    page.click("#upload-button")
    page.wait_for_url(re.compile(r".*/batches/\d+$"))
    page.wait_for_selector("#batch[data-state=done]", timeout=240000)  # htmx polls the progress fragment
    _shot(page, "03-batch-done")
    rows = page.locator("table.files tbody tr")
    outcome = {rows.nth(i).locator("td").nth(0).text_content().strip(): rows.nth(i).locator("td.status").text_content() for i in range(rows.count())}
    assert outcome == {"hzq2023.pdf": "已读取", "pingtan2021.html": "已读取", "kewei2024.md": "已读取", "broken.pdf": "读取失败", "xss2024.md": "已读取",
                       "pingtan2020.html": "已读取"}  # fmt: skip
    assert page.locator("#batch-bar").get_attribute("value") == "6"
    ids = {}
    for i in range(rows.count()):
        link = rows.nth(i).locator("a")
        if link.count():
            ids[link.text_content().strip()] = int(link.get_attribute("href").rsplit("/", 1)[1])
    page.goto(base + "/reports?status=unreadable")
    listing = page.locator("#report-list tbody")
    assert listing.locator("tr").count() == 1 and "broken.pdf" in listing.text_content() and "无法读取" in listing.text_content()
    ids["broken.pdf"] = int(listing.locator("a").get_attribute("href").rsplit("/", 1)[1])
    page.goto(base + "/")
    assert "无法读取的文件（1）" in page.content()
    _shot(page, "04-overview")
    yield base, ids, context, page
    assert not dialogs, dialogs
    context.close()


def test_upload_batch_and_overview(reviewed):
    base, ids, _, page = reviewed
    page.goto(base + "/")
    grid = page.locator("#grid")
    assert "淮安市洪泽区人民政府" in grid.text_content() and "有错误待处理" in grid.text_content()
    assert page.locator("#counts .state-unreadable b").text_content() == "1"


def test_report_shows_the_error_cell_and_takes_decisions(reviewed):
    base, ids, _, page = reviewed
    page.goto(f"{base}/reports/{ids['hzq2023.pdf']}")
    flagged = page.locator("table.extracted td.flag.sev-error[data-code='t4.review.total']")
    assert flagged.count() == 1 and flagged.text_content().strip() == "0"
    findings = page.locator("article.finding[data-rule='t4.group_total']")
    assert findings.count() == 2
    _shot(page, "05-report")
    # click a cell: its raw text, page and confidence appear (htmx swaps the panel)
    flagged.locator("a").click()
    panel = page.locator("#cell-detail[data-code='t4.review.total']")
    panel.wait_for()
    assert "第 4 页" in panel.text_content() and "置信度" in panel.text_content() and "1.00" in panel.text_content()
    # dismiss one finding, correct the other
    first, second = findings.nth(0), findings.nth(1)
    fp_first, fp_second = first.get_attribute("data-fingerprint"), second.get_attribute("data-fingerprint")
    first.locator("button.dismiss").click()
    page.wait_for_load_state()
    dismissed = page.locator(f"#f-{fp_first}")
    assert "不成立（rita" in dismissed.locator(".decision").text_content()
    corrected = page.locator(f"#f-{fp_second}")
    corrected.locator("input[name=value]").fill("5")
    corrected.locator("input[name=note]").fill("复议后起诉总计应为 5")
    corrected.locator("button.correct").click()
    page.wait_for_load_state()
    decision = page.locator(f"#f-{fp_second} .decision").text_content()
    assert "已更正 5（rita" in decision
    # correct a cell directly: a revision, the extracted value kept
    page.locator("table.extracted td[data-code='t4.review.total'] a").click()
    page.locator("#cell-detail form.correct-cell").wait_for()
    page.fill("#cell-detail input[name=value]", "11")
    page.fill("#cell-detail input[name=note]", "各项之和为 11")
    page.click("#cell-detail button[type=submit]")
    page.wait_for_load_state()
    cell = page.locator("table.extracted td[data-code='t4.review.total']")
    assert cell.locator("a").text_content().strip() == "11" and cell.locator("s").text_content() == "0"
    history = page.locator("#revision-list").text_content()
    assert "rita" in history and "0 → 11" in re.sub(r"\s+", " ", history) and "各项之和为 11" in history
    _shot(page, "06-report-decided")


def test_page_image_highlights_the_error_cell(reviewed):
    from extractor.web import pageimage

    base, ids, _, page = reviewed
    if not pageimage.available():
        pytest.skip("extractor.outputs.pages (page images) has not landed yet")
    page.goto(f"{base}/reports/{ids['hzq2023.pdf']}?page=4")
    if page.locator("#page-svg rect.box").count() == 0:
        pytest.skip("the database does not keep cell boxes yet (storage port pending)")
    image = page.locator("#page-image")
    assert image.count() == 1
    # the corrected finding's cells stay highlighted; the dismissed one's no longer are
    box = page.locator("#page-svg rect.flag.sev-error[data-code='t4.suit_after_review.total']")
    assert box.count() == 1 and float(box.get_attribute("width")) > 0
    assert page.locator("#page-svg rect.box[data-code='t4.review.total']").count() == 1
    assert page.locator("#page-svg rect.flag[data-code='t4.review.total']").count() == 0
    box.click()  # clicking the box on the image opens the cell's panel
    page.locator("#cell-detail[data-code='t4.suit_after_review.total']").wait_for()
    response = page.request.get(f"{base}/reports/{ids['hzq2023.pdf']}/pages/4.png")
    assert response.status == 200 and response.body()[:4] == b"\x89PNG"
    _shot(page, "07-page-image")


def test_report_text_renders_as_text(reviewed):
    base, ids, _, page = reviewed
    page.goto(f"{base}/reports/{ids['xss2024.md']}")
    page.locator("table.extracted td[data-code='t3.new.natural_person'] a").click()
    label = page.locator("#cell-detail dd").first
    label.wait_for()
    assert "<script>alert(1)</script>" in label.text_content()
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    _shot(page, "08-xss-as-text")


def test_year_over_year(reviewed):
    base, _, _, page = reviewed
    page.goto(base + "/yoy")
    page.click("form.filters button[type=submit]")  # the only agency with two years
    page.wait_for_selector("#yoy-summary")
    assert "2020 → 2021" in page.content() and "语句与上年雷同" in page.locator("#reuse").text_content()
    _shot(page, "10-yoy")


def test_logout_ends_the_session(reviewed):
    base, _, context, page = reviewed
    page.goto(base + "/")
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/login.*"))
    page.goto(base + "/reports")
    assert "/login" in page.url


def test_viewer_may_not_decide_and_posts_need_session_and_csrf(reviewed, browser):
    base, ids, _, _ = reviewed
    context, page, _, _ = _page(browser)
    try:
        # no session: pages send you to the login form, posts are refused
        r = page.request.post(f"{base}/findings/0123456789abcdef/decision", form={"decision": "dismissed"}, max_redirects=0)
        assert r.status == 303 and "/login" in r.headers["location"]
        _login(page, base, "vera")
        page.goto(f"{base}/reports/{ids['hzq2023.pdf']}")
        assert page.locator("button.dismiss").count() == 0  # no buttons for a viewer …
        fp = page.locator("article.finding").first.get_attribute("data-fingerprint")
        csrf = page.locator("form.logout input[name=csrf]").get_attribute("value")
        r = page.request.post(f"{base}/findings/{fp}/decision", form={"decision": "dismissed", "csrf": csrf})
        assert r.status == 403 and "无权" in r.text()  # … and the server refuses the post
        page.goto(base + "/upload")
        assert "403" in page.content()
        _shot(page, "09-viewer-403")
        page.click("#logout")
        _login(page, base, "rolf")
        page.goto(f"{base}/reports/{ids['hzq2023.pdf']}")
        r = page.request.post(f"{base}/findings/{fp}/decision", form={"decision": "dismissed"})
        assert r.status == 403 and "CSRF" in r.text()  # a reviewer's form post without the token
    finally:
        context.close()
