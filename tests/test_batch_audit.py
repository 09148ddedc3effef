"""A spring's folder as a supervisor gets it: nothing vanishes, problems are counted once.

A batch with a corrupt file, the blank template and a PDF + DOCX pair of one report, ingested twice:
the corrupt file stays a failed row with its reason in the audit (「未能读取的文件」), the workbook,
compare (状态) and `review --list`; the template is not a report; a rerun still reports the corrupt
file as failed, never as skipped.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest
from builders import REAL, ROOT
from click.testing import CliRunner

from extractor.cli.main import main
from extractor.outputs.audit import collect, render_html, render_markdown
from extractor.outputs.compare import compare
from extractor.outputs.letters import letters
from extractor.store.ingest import ingest

PAIR = "c061_2019_err_narrative"  # a corpus report and its LibreOffice PDF rendering: one agency-year


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> tuple[Path, Path, object]:
    folder = tmp_path_factory.mktemp("spring")
    shutil.copy(REAL / "hzq2023.pdf", folder / "hzq2023.pdf")
    shutil.copy(REAL / "template2021_blank.docx", folder / "template2021_blank.docx")
    for ext in ("docx", "pdf"):
        shutil.copy(ROOT / "fixtures" / "corpus" / f"{PAIR}.{ext}", folder / f"{PAIR}.{ext}")
    (folder / "损坏的报告.pdf").write_bytes((REAL / "hzq2023.pdf").read_bytes()[:4000])
    db = folder.parent / "spring.db"
    summary = ingest([str(folder)], str(db), workers=1, progress="none")
    return folder, db, summary


def test_the_summary_says_what_came_in_and_what_failed(batch):
    _, _, summary = batch
    assert (summary.total, summary.ok, summary.failed) == (5, 3, 2)
    text = summary.text()
    assert text.startswith("收到 5 个文件：读取 3 个，未能读取 2 个，跳过 0 个")
    assert "损坏的报告.pdf：文件已损坏或无法解析" in text and "template2021_blank.docx：空白模板" in text


def test_the_audit_lists_the_files_it_could_not_read(batch, tmp_path):
    _, db, _ = batch
    audit = collect(str(db), images=False)
    failed = {f.path: f for f in audit.failed}
    assert set(failed) == {"损坏的报告.pdf", "template2021_blank.docx"}
    assert failed["template2021_blank.docx"].status == "不是年度报告" and "空白模板" in failed["template2021_blank.docx"].reason
    assert failed["损坏的报告.pdf"].status == "未能读取" and "文件已损坏" in failed["损坏的报告.pdf"].reason
    assert all(r.agency_found for r in audit.reports)  # the template is no report named after its file
    html = render_html(audit)
    assert "未能读取的文件（2 个）" in html and "损坏的报告.pdf" in html and "收到文件 5 个：读取 3 个（其中副本 1 个，问题只列一次），未能读取 2 个" in html
    assert "未能读取的文件（2 个）" in render_markdown(audit)
    out = tmp_path / "audit.xlsx"
    assert CliRunner().invoke(main, ["audit", "--db", str(db), "--out", str(out)]).exit_code == 0
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(out)["未能读取的文件"].iter_rows()]
    assert rows[0] == ["文件", "格式", "状态", "原因"] and {r[0] for r in rows[1:]} == set(failed)


def test_compare_and_review_list_show_the_failed_files(batch, tmp_path):
    _, db, _ = batch
    out = tmp_path / "c.csv"
    compare(str(db), str(out))
    with out.open(encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    status = lines[0].index("状态")
    by_source = {Path(line[lines[1].index("source")]).name: line[status] for line in lines[2:]}
    assert by_source["损坏的报告.pdf"].startswith("未能读取：文件已损坏")
    assert by_source["template2021_blank.docx"].startswith("不是年度报告：")
    assert by_source["hzq2023.pdf"] == "已读取"
    listing = CliRunner().invoke(main, ["review", "--db", str(db), "--list"]).output
    assert "未能读取的文件（2 个）" in listing and "损坏的报告.pdf：文件已损坏或无法解析" in listing


def test_the_pair_s_findings_are_reported_and_sent_once(batch, tmp_path):
    """The PDF and the DOCX of one report: one entry naming the other as a copy, each problem once
    (one fingerprint, no -2), one item in the letter, one row in compare."""
    _, db, _ = batch
    audit = collect(str(db), images=False)
    pair = [r for r in audit.reports if Path(r.path).stem == PAIR]
    assert len(pair) == 1 and len(pair[0].copies) == 1 and pair[0].copies[0].startswith(PAIR)
    fingerprints = [f.fingerprint for f in pair[0].findings]
    assert len(fingerprints) == len(set(fingerprints)) and not any("-" in fp for fp in fingerprints)
    mismatch = [f for f in pair[0].findings if f.rule == "narrative.table_mismatch"]
    assert len(mismatch) == 1 and mismatch[0].severity == "warning" and mismatch[0].codes == ["t3.new.total"]
    assert not [f for f in pair[0].findings if f.rule == "cross_report.duplicate_year"]  # same numbers: just copies
    [letter] = [lt for lt in letters(audit) if lt.agency == pair[0].agency]
    assert [i.title for i in letter.items].count("正文数字与表格不符") == 1
    out = tmp_path / "c.csv"
    compare(str(db), str(out))
    with out.open(encoding="utf-8-sig") as fh:
        sources = [Path(line[4]).stem for line in list(csv.reader(fh))[2:]]
    assert sources.count(PAIR) == 1


def test_a_rerun_reports_the_corrupt_file_as_failed_again(batch):
    folder, db, _ = batch
    again = ingest([str(folder)], str(db), workers=1, progress="none")
    assert (again.ok, again.failed, again.skipped) == (0, 2, 3)
    assert {Path(p).name for p, _ in again.failures} == {"损坏的报告.pdf", "template2021_blank.docx"}
    assert all("此前已读取失败" in reason for _, reason in again.failures)
    assert "损坏的报告.pdf" not in " ".join(p for p, _ in again.skips)
    assert "未能读取 2 个" in again.text() and "跳过（已入库，文件未变）" in again.text()


def test_the_summary_names_a_few_skipped_files_per_reason():
    from extractor.store.ingest import SKIPS_SHOWN, IngestSummary

    summary = IngestSummary(total=40, skipped=40, skips=[(f"data/{i:02d}.truth.json", "not a report (JSON data file)") for i in range(40)])
    text = summary.text()
    assert "data/00.truth.json" in text and f"data/{SKIPS_SHOWN - 1:02d}.truth.json" in text
    assert f"data/{SKIPS_SHOWN:02d}.truth.json" not in text and "等 40 个" in text
