"""Audit reports: self-contained HTML (checked in headless Chromium), Excel, Markdown, return letters."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import docx
import pytest
from builders import REAL, ROOT
from click.testing import CliRunner

from extractor.cli.main import main
from extractor.outputs.audit import collect, render_html
from extractor.outputs.letters import LetterError, chinese_date, letters, parse_date
from extractor.store import database as storage
from extractor.store import review
from extractor.store.ingest import ingest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "out" / "artifacts"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("in")
    for name in ("hzq2023.pdf", "seed2020.txt", "pingtan2020.html", "pingtan2021.html", "kewei2024.md"):
        shutil.copy(REAL / name, folder / name)
    path = folder.parent / "audit.db"
    ingest([str(folder)], str(path), workers=1, progress="none")
    conn = storage.connect(str(path))
    fp = conn.execute("SELECT fingerprint FROM findings WHERE rule = 't4.group_total' ORDER BY id").fetchone()[0]
    review.record(conn, fp, "corrected", "张三", note="复议总计应为 11", value=11)
    fp = conn.execute("SELECT fingerprint FROM findings WHERE rule = 'narrative.percentage'").fetchone()[0]
    review.record(conn, fp, "dismissed", "李四", note="约数")
    conn.close()
    return path


@pytest.fixture(scope="module")
def html_file(db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "audit.html"
    result = CliRunner().invoke(main, ["audit", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_html_is_self_contained_and_chinese(html_file):
    text = html_file.read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text
    assert not re.search(r"""(?:src|href)=['"](?:https?:)?//""", text)
    for words in ("审核报告", "汇总：各机构发现数", "淮安市洪泽区人民政府", "错误", "警告", "提示", "未审核"):
        assert words in text
    assert "已更正：更正值 11（张三" in text and "不成立（李四" in text


def test_pdf_findings_show_a_cropped_table_image(db):
    audit = collect(str(db))
    hzq = next(r for r in audit.reports if r.path.endswith("hzq2023.pdf"))
    t4 = [f for f in hzq.findings if f.rule == "t4.group_total"]
    # the crop of 表四 on page 4, with the finding's cells outlined (their boxes are stored): an id per set of cells
    assert t4 and all(f.image and f.image.startswith(f"r{hzq.id}-t4-p4-") for f in t4)
    caption, data = hzq.images[t4[0].image]
    assert caption == "表四（第 4 页），框出 5 个单元格" and len(data) > 1000
    html = render_html(audit)
    assert f"id='{t4[0].image}'" in html and "data:image/png;base64," in html


def test_markdown_and_excel(db, tmp_path):
    import openpyxl

    runner = CliRunner()
    md, xlsx = tmp_path / "a.md", tmp_path / "a.xlsx"
    assert runner.invoke(main, ["audit", "--db", str(db), "--out", str(md)]).exit_code == 0
    assert "| 淮安市洪泽区人民政府 | 2 |" in md.read_text(encoding="utf-8")
    assert runner.invoke(main, ["audit", "--db", str(db), "--out", str(xlsx)]).exit_code == 0
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["汇总", "发现", "未能读取的文件"]
    header = [c.value for c in book["发现"][1]]
    assert header[:6] == ["指纹", "机构", "年度", "级别", "问题", "说明"] and "决定" in header and header[-1] == "规则编号"
    rows = [[c.value for c in row] for row in book["发现"].iter_rows(min_row=2)]
    hzq = [r for r in rows if r[1] == "淮安市洪泽区人民政府"]
    assert hzq and all(r[3] == "错误" and r[4] == "表四总计不符" and r[-1] == "t4.group_total" for r in hzq)
    assert all("/" not in (r[10] or "") for r in rows)  # the file's own name, no server folder
    text = md.read_text(encoding="utf-8")
    assert "| 错误 | 表四总计不符 |" in text and "`t4.group_total`" in text
    bad = runner.invoke(main, ["audit", "--db", str(db), "--out", str(tmp_path / "a.pdf")])
    assert bad.exit_code != 0 and "不支持" in bad.output


def test_rules_file_applies_to_the_audit(db, tmp_path):
    rules = tmp_path / "r.toml"
    rules.write_text('[rules."t3.column_sum"]\nseverity = "warning"\n[rules."structure.section_numbering"]\nenabled = false\n', encoding="utf-8")
    out = tmp_path / "a.md"
    assert CliRunner().invoke(main, ["audit", "--db", str(db), "--out", str(out), "--rules", str(rules)]).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "structure.section_numbering" not in text
    assert re.search(r"\| 警告 \| 表三列合计不符", text) and not re.search(r"\| 错误 \| 表三列合计不符", text)


def test_letters_are_ready_to_send(db, tmp_path):
    """The given sender, 文号, deadline and date; dates written 2026年12月1日; each item with its place
    and what to correct; no path of the server anywhere; info and dismissed findings not sent."""
    out = tmp_path / "letters"
    args = ["audit", "--db", str(db), "--out", str(tmp_path / "a.md"), "--return-letters", str(out), "--sender", "某某市人民政府办公室",
            "--doc-number", "某政办函〔2026〕12号", "--deadline", "2026-12-15", "--date", "2026-12-01"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert "整改通知_淮安市洪泽区人民政府.md" in names and "整改通知_淮安市洪泽区人民政府.docx" in names
    text = (out / "整改通知_淮安市洪泽区人民政府.md").read_text(encoding="utf-8")
    assert "某政办函〔2026〕12号" in text and "淮安市洪泽区人民政府：" in text
    assert "请于2026年12月15日前逐项核实更正" in text and "报送某某市人民政府办公室" in text
    assert text.rstrip().endswith("<p align='right'>2026年12月1日</p>") and "<p align='right'>某某市人民政府办公室</p>" in text
    assert "位置：报告第 4 页" in text and "整改要求：请核对表四该组各栏" in text and "正确数值应为 11" in text
    assert "《hzq2023.pdf》" in text and str(tmp_path) not in text and "/" not in text.replace("</p>", "")
    assert "2026-12" not in text
    seed = (out / "整改通知_银川市金凤区审批服务管理局.md").read_text(encoding="utf-8")
    assert "网办率" not in seed and "（提示）" not in seed  # dismissed; info findings are notes, not sent
    doc = docx.Document(str(out / "整改通知_淮安市洪泽区人民政府.docx"))
    paras = [p for p in doc.paragraphs if p.text.strip()]
    assert [p.text for p in paras[:4]] == ["某某市人民政府办公室", "某政办函〔2026〕12号", "关于政府信息公开工作年度报告问题的整改通知", "淮安市洪泽区人民政府："]
    assert [p.text for p in paras[-2:]] == ["某某市人民政府办公室", "2026年12月1日"]
    assert all(p.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT for p in paras[-2:])
    assert "行政复议" in "\n".join(p.text for p in paras) and str(tmp_path) not in "\n".join(p.text for p in paras)


def test_bad_letter_date_is_one_line(db, tmp_path):
    result = CliRunner().invoke(main, ["audit", "--db", str(db), "--out", str(tmp_path / "a.md"), "--return-letters", str(tmp_path / "l"), "--deadline", "下周"])
    assert result.exit_code != 0 and "日期「下周」无法识别" in result.output and "Traceback" not in result.output


def test_no_letter_to_a_file_without_an_agency(db):
    """A report named after its file (no agency found, a blank template) is no one to write to."""
    audit = collect(str(db), images=False)
    hzq = next(r for r in audit.reports if r.agency == "淮安市洪泽区人民政府")
    assert [lt.agency for lt in letters(audit)].count("淮安市洪泽区人民政府") == 1
    hzq.agency_found = False
    assert "淮安市洪泽区人民政府" not in [lt.agency for lt in letters(audit)]


def test_letter_dates():
    assert chinese_date(parse_date("2026-12-01")) == "2026年12月1日"
    assert parse_date("2026年3月9日") == parse_date("2026/03/09")
    with pytest.raises(LetterError):
        parse_date("2026-02-30")


def _browser_or_skip():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (scripts/setup-system.sh installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    return sync_playwright


def test_html_in_headless_chromium(html_file, db):
    sync_playwright = _browser_or_skip()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(html_file.as_uri())
            assert page.locator("h1").text_content() == "政府信息公开工作年度报告审核报告"
            summary = page.locator("#summary tbody tr")
            assert summary.count() == 4 and "淮安市洪泽区人民政府" in page.locator("#summary").text_content()
            total = page.locator("tr.finding:visible").count()
            errors = page.locator("tr.finding[data-severity='error']").count()
            assert total > errors > 0
            page.select_option("#f-severity", "error")
            assert page.locator("tr.finding:visible").count() == errors
            assert page.locator("tr.finding[data-severity='info']:visible").count() == 0
            assert f"显示 {errors} 条发现" in page.locator("#count").text_content()
            page.select_option("#f-severity", "")
            page.select_option("#f-agency", label="淮安市洪泽区人民政府")
            visible = page.locator("section.report:visible")
            assert visible.count() == 1 and "淮安市洪泽区人民政府" in visible.text_content()
            hzq = next(r for r in collect(str(db)).reports if r.path.endswith("hzq2023.pdf"))
            assert page.locator("section.report:visible img").count() == len(hzq.images) > 0  # one per set of cells
            page.select_option("#f-agency", "")
            page.select_option("#f-rule", "t3.column_sum")
            assert page.locator("tr.finding:visible").count() == 2
            page.select_option("#f-rule", "")
            page.locator("#summary th", has_text="错误").click()  # sort by error count
            column = [int(t) for t in page.locator("#summary tbody tr td:nth-child(3)").all_text_contents()]
            assert column == sorted(column) and column[0] < column[-1]
            page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)
            assert all(u.startswith(("file:", "data:")) for u in requests), requests
        finally:
            browser.close()
    assert (ARTIFACTS / "audit.png").stat().st_size > 10000
