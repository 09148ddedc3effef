"""The core extractor on real reports and on documents built from the official templates."""

from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path

import pytest
from builders import REAL, build_2019_docx, build_2021_docx, consistent_values

import extractor
from extractor import parse
from extractor.report import Report


def truth(name: str) -> dict:
    return json.loads((REAL / f"{name}.truth.json").read_text(encoding="utf-8"))


def wrong_cells(report: extractor.Report, expected: dict) -> list[tuple[str, object, object]]:
    got = report.values()
    return [(code, value, got.get(code, "MISSING")) for code, value in expected.items() if got.get(code, "MISSING") != value]


def errors(report: extractor.Report) -> list[extractor.Finding]:
    return [f for f in report.findings if f.severity == "error"]


# ------------------------------------------------------------------------------------------ PDF


@pytest.fixture(scope="module")
def hzq() -> extractor.Report:
    return parse(REAL / "hzq2023.pdf")


def test_pdf_every_truth_cell(hzq):
    assert wrong_cells(hzq, truth("hzq2023")["cells"]) == []


def test_a_report_arrives_whole_from_a_worker_process(hzq):
    """Ingest workers send their Report pickled (a Cell pickles as its constructor's arguments)."""
    back = pickle.loads(pickle.dumps(hzq))
    assert back == hzq and any(c.bbox for c in back.cells) and any(c.confidence < 1 for c in back.cells)
    assert [type(c.value) for c in back.cells] == [type(c.value) for c in hzq.cells]


def test_pdf_metadata_sections_and_pages(hzq):
    assert (hzq.agency, hzq.year, hzq.template, hzq.format, hzq.pages) == ("淮安市洪泽区人民政府", 2023, "2021", "pdf", 5)
    assert [s.found for s in hzq.sections] == [True] * 6
    cells = hzq.cell_map()
    assert cells["t3.new.total"].page == 3 and cells["t3.carried_over.total"].page == 4  # 表三 split over two pages
    assert cells["t2.fees.amount"].raw == "7730.28" and cells["t2.fees.amount"].value == pytest.approx(7730.28)


def test_pdf_only_the_two_broken_t4_totals_are_errors(hzq):
    found = errors(hzq)
    assert sorted(f.codes[0] for f in found) == ["t4.review.total", "t4.suit_after_review.total"]
    assert {f.rule for f in found} == {"t4.group_total"}
    review = next(f for f in found if f.codes[0] == "t4.review.total")
    assert (review.expected, review.actual, review.page, review.section) == (11, 0, 4, "review")
    assert "11" in review.message and "0" in review.message and "第 4 页" in review.message


def test_pdf_typo_label_is_matched_but_marked_less_certain(hzq):
    cell = hzq.cell_map()["t3.denied.law_prohibited.natural_person"]
    assert cell.value == 0 and 0.75 <= cell.confidence < 1.0
    assert "行政止公开" in cell.label


# ------------------------------------------------------------------------------------------ text


@pytest.fixture(scope="module")
def seed() -> extractor.Report:
    return parse(REAL / "seed2020.txt")


def test_text_seed_every_truth_cell(seed):
    assert wrong_cells(seed, truth("seed2020")["cells"]) == []
    assert (seed.agency, seed.year, seed.template, seed.format) == ("银川市金凤区审批服务管理局", 2020, "2019", "text")


def test_text_seed_says_what_is_missing(seed):
    missing_sections = [f.section for f in seed.findings if f.rule == "structure.missing_section"]
    assert missing_sections == ["review"]
    assert [s.code for s in seed.sections if not s.found] == ["review"]
    rows = next(f for f in seed.findings if f.rule == "structure.missing_rows")
    assert rows.severity == "error"
    assert {"t3.total.total", "t3.carried_over.total", "t3.unavailable.not_held.total", "t3.other.total"} <= set(rows.codes)
    assert "t3.denied.query.total" not in rows.codes
    assert "（七）总计" in rows.message or "(七)总计" in rows.message
    assert "表四也未找到" in next(f.message for f in seed.findings if f.rule == "structure.missing_section")
    assert not any(f.rule == "structure.missing_table" for f in seed.findings)  # reported once, with the section


def test_markdown_conversion_with_garbled_table(tmp_path):
    report = parse(REAL / "kewei2024.md")
    assert wrong_cells(report, truth("kewei2024")["cells"]) == []
    cells = report.cell_map()
    # value rows whose labels were pulled out of the table are placed by the template order, and say so
    assert cells["t3.partial.total"].confidence < 1.0 and cells["t3.unavailable.not_held.total"].value == 4
    assert cells["t3.other.total"].derived and cells["t3.other.total"].value == 14
    assert not errors(report) or {f.rule for f in errors(report)} <= {"structure.missing_section"}
    blank = [f for f in report.findings if f.rule == "t3.row_sum"]
    assert blank and blank[0].severity == "warning" and "留空" in blank[0].message


# ------------------------------------------------------------------------------------------ DOCX


def test_blank_official_template_parses_and_says_tables_are_empty():
    report = parse(REAL / "template2021_blank.docx")
    assert all(c.value == 0 and c.raw == "" for c in report.cells)
    empty = [(f.section, f.severity) for f in report.findings if f.rule == "structure.empty_table"]
    assert empty == [("active", "error"), ("requests", "error"), ("review", "error")]
    assert [s.found for s in report.sections] == [True] * 6


@pytest.mark.parametrize("template", ["2021", "2019"])
def test_docx_both_templates_every_cell_and_no_findings(tmp_path, template):
    values = consistent_values(template)
    build = build_2021_docx if template == "2021" else build_2019_docx
    report = parse(build(tmp_path / f"r{template}.docx", values))
    assert report.template == template
    assert wrong_cells(report, values) == []
    assert [f for f in report.findings if f.severity in ("error", "warning")] == []
    assert report.year == (2022 if template == "2021" else 2020)


def test_docx_2021_single_other_row_is_read_as_t3_other(tmp_path):
    """A 2021-format report may still print （六）其他处理 as one row (hzq2023 does)."""
    values = consistent_values("2021")
    report = parse(build_2021_docx(tmp_path / "r.docx", values))
    assert report.cell_map()["t3.other.total"].derived


def test_docx_blank_dash_and_fullwidth_cells(tmp_path):
    values = consistent_values("2021")
    printed = dict(values)
    printed["t3.granted.research"] = "—"
    printed["t3.granted.nonprofit"] = ""
    printed["t3.new.research"] = "无"
    printed["t2.licensing.decisions"] = "１,２３４"
    printed["t2.fees.amount"] = "12.50"
    report = parse(build_2021_docx(tmp_path / "r.docx", printed))
    cells = report.cell_map()
    assert (cells["t3.granted.research"].value, cells["t3.granted.research"].raw) == (0, "—")
    assert cells["t3.granted.nonprofit"].value == 0 and cells["t3.new.research"].value == 0
    assert cells["t2.licensing.decisions"].value == 1234
    assert cells["t2.fees.amount"].value == pytest.approx(12.5)


# ------------------------------------------------------------------------------------------ rules


def _fired(report: extractor.Report, rule: str) -> list[extractor.Finding]:
    return [f for f in report.findings if f.rule == rule]


@pytest.mark.parametrize(
    ("rule", "change", "codes_expected"),
    [
        ("t3.row_sum", {"t3.granted.total": "+5"}, "t3.granted.total"),
        ("t3.column_sum", {"t3.total.business": "+1", "t3.new.business": "+1", "t3.total.total": "+1", "t3.new.total": "+1"}, "t3.total.business"),
        ("t3.balance", {"t3.carried_over.natural_person": "+2", "t3.carried_over.total": "+2"}, "t3.carried_over.natural_person"),
        ("t4.group_total", {"t4.suit_direct.total": "+1"}, "t4.suit_direct.total"),
        ("value.negative", {"t3.denied.query.business": "-1", "t3.denied.query.natural_person": "+1"}, "t3.denied.query.business"),
        ("value.non_integer", {"t2.penalty.decisions": "2.5"}, "t2.penalty.decisions"),
    ],
)
def test_each_rule_fires_on_a_broken_report_and_stays_silent_on_a_sound_one(tmp_path, rule, change, codes_expected):
    values = consistent_values("2021")
    sound = parse(build_2021_docx(tmp_path / "sound.docx", values))
    assert _fired(sound, rule) == []
    broken = dict(values)
    for code, delta in change.items():
        if delta.startswith("+"):
            broken[code] = values[code] + int(delta[1:])
        elif delta.startswith("-") and delta[1:].isdigit():
            broken[code] = -int(delta[1:])
        else:
            broken[code] = delta
    report = parse(build_2021_docx(tmp_path / "broken.docx", broken))
    fired = _fired(report, rule)
    assert fired, f"{rule} did not fire"
    assert all(f.severity == "error" for f in fired)
    assert any(codes_expected in f.codes for f in fired)
    assert all(f.message for f in fired)


def test_blank_total_gives_a_left_blank_warning_not_an_error(tmp_path):
    values = consistent_values("2021")
    printed = dict(values)
    printed["t3.granted.total"] = ""
    report = parse(build_2021_docx(tmp_path / "r.docx", printed))
    fired = _fired(report, "t3.row_sum")
    assert [f.severity for f in fired] == ["warning"] and "留空" in fired[0].message
    assert not errors(report) or all(f.rule != "t3.row_sum" for f in errors(report))


def test_one_blank_table_is_zeros_with_a_warning(tmp_path):
    """A blank 表二 may be a table left unfilled (warning); a blank 表四 is how most agencies say they had
    no review or court cases (info: not an alarm)."""
    values = consistent_values("2021")
    printed = {k: ("" if k.startswith("t4.") else v) for k, v in values.items()}
    report = parse(build_2021_docx(tmp_path / "r.docx", printed))
    assert all(report.values()[k] == 0 for k in values if k.startswith("t4."))
    assert [(f.section, f.severity) for f in _fired(report, "structure.empty_table")] == [("review", "info")]
    assert errors(report) == []
    printed = {k: ("" if k.startswith("t2.") else v) for k, v in values.items()}
    report = parse(build_2021_docx(tmp_path / "r2.docx", printed))
    assert [(f.section, f.severity) for f in _fired(report, "structure.empty_table")] == [("active", "warning")]


def test_missing_section_and_missing_row(tmp_path):
    import docx

    values = consistent_values("2021")
    path = build_2021_docx(tmp_path / "r.docx", values, drop_sections=("五、",))
    document = docx.Document(str(path))
    t3 = document.tables[1]
    process_row = t3._tbl.tr_lst[3 + 9]  # 6.属于四类过程性信息
    assert "过程性信息" in "".join(process_row.itertext())
    process_row.getparent().remove(process_row)
    document.save(str(path))
    report = parse(path)
    assert [f.section for f in _fired(report, "structure.missing_section")] == ["problems"]
    missing = _fired(report, "structure.missing_rows")
    assert len(missing) == 1 and "6.属于四类过程性信息" in missing[0].message
    assert set(missing[0].codes) == {f"t3.denied.process.{c}" for c in ("natural_person", "business", "research", "nonprofit", "legal_services", "other_org", "total")}
    # the neighbours keep their own values, and identities over the missing row are not reported twice
    assert wrong_cells(report, {k: v for k, v in values.items() if ".denied.process." not in k}) == []
    assert _fired(report, "t3.column_sum") == []


def test_row_out_of_order_keeps_its_values(tmp_path):
    values = consistent_values("2019")
    path = build_2019_docx(tmp_path / "r.docx", values)
    import docx

    document = docx.Document(str(path))
    t3 = document.tables[1]
    rows = t3._tbl.tr_lst
    a, b = rows[3 + 15], rows[3 + 16]  # （五）1.信访 and 2.重复申请 rows, swapped
    a.addprevious(b)
    document.save(str(path))
    report = parse(path)
    assert wrong_cells(report, values) == []


# ------------------------------------------------------------------------------------------ JSON contract


def test_json_contract_fields(hzq):
    data = hzq.to_dict()
    assert set(data) >= {"source", "report", "sections", "cells", "findings"}
    assert set(data["source"]) >= {"path", "sha256", "format", "pages"} and len(data["source"]["sha256"]) == 64
    assert set(data["report"]) >= {"agency", "year", "template"}
    assert [s["code"] for s in data["sections"]] == ["overview", "active", "requests", "review", "problems", "other"]
    assert all(set(c) >= {"code", "value", "raw", "page", "confidence"} for c in data["cells"])
    assert all(set(f) >= {"rule", "severity", "message", "codes", "section", "expected", "actual", "page"} for f in data["findings"])
    catalogue = Path(extractor.__file__).parent / "lexicon" / "data" / "cells.csv"
    codes = {line.split(",")[0] for line in catalogue.read_text(encoding="utf-8").splitlines()[1:]}
    assert {c["code"] for c in data["cells"]} <= codes


def test_json_records_are_asdicts_that_share_nothing_mutable_with_the_report(hzq):
    data = hzq.to_dict()
    for key in ("sections", "cells", "findings", "statements"):
        assert data[key] == [dataclasses.asdict(item) for item in getattr(hzq, key)], key
    finding = next(f for f in data["findings"] if f["codes"])
    finding["codes"].append("changed")
    assert "changed" not in [code for f in hzq.findings for code in f.codes]
    as_json = json.loads(json.dumps(hzq.to_dict()))
    assert json.loads(json.dumps(Report.from_dict(as_json).to_dict())) == as_json


# ------------------------------------------------------------------------------------------ HTML


@pytest.mark.parametrize("year", [2019, 2020, 2021, 2022])
def test_html_portal_pages_every_truth_cell(year):
    report = parse(REAL / f"pingtan{year}.html")
    assert wrong_cells(report, truth(f"pingtan{year}")["cells"]) == []
    assert (report.agency, report.year, report.format) == ("平潭综合实验区", year, "html")
    assert report.template == ("2019" if year < 2021 else "2021")
    assert [s.found for s in report.sections] == [True] * 6
    if year != 2020:
        assert errors(report) == []


def test_html_real_error_in_published_total_is_found():
    report = parse(REAL / "pingtan2020.html")
    found = errors(report)
    assert {(f.rule, f.expected, f.actual) for f in found} == {("t3.column_sum", 26, 20), ("t3.column_sum", 27, 21)}
    natural = next(f for f in found if f.actual == 20)
    assert {"t3.total.natural_person", "t3.granted.natural_person", "t3.other.natural_person"} <= set(natural.codes)


# ------------------------------------------------------------------------------------------ metadata, old reports


@pytest.mark.parametrize(
    ("title", "agency", "year"),
    [
        ("某某市财政局2023年政府信息公开工作年度报告", "某某市财政局", 2023),
        ("2021年度某某县人民政府政府信息公开工作年度报告", "某某县人民政府", 2021),
        ("某某区教育局政府信息公开工作年度报告（2022年度）", "某某区教育局", 2022),
        ("某某镇人民政府\n2020 年政务公开工作年度报告", "某某镇人民政府", 2020),
    ],
)
def test_agency_and_year_from_title_forms(tmp_path, title, agency, year):
    path = tmp_path / "report.txt"
    path.write_text(title + "\n一、总体情况\n本年度工作有序开展。\n", encoding="utf-8")
    report = parse(path)
    assert (report.agency, report.year) == (agency, year)


def test_pre2019_report_is_classified_not_flooded_with_errors(tmp_path):
    path = tmp_path / "old.txt"
    path.write_text(
        "某某市人民政府2012年政府信息公开工作年度报告\n一、概述\n2012年，我市认真贯彻《条例》。\n"
        "二、主动公开政府信息情况\n全年主动公开政府信息1200条。\n三、依申请公开政府信息情况\n共受理申请35件。\n"
        "四、咨询处理情况\n五、复议、诉讼情况\n六、主要问题和改进措施\n",
        encoding="gb18030",
    )
    report = parse(path)
    assert (report.template, report.year) == ("pre2019", 2012)
    assert errors(report) == [] and [f.rule for f in report.findings] == ["structure.pre2019"]


def test_docx_table_inside_a_content_control(tmp_path):
    """Some agency templates wrap the tables in content controls (w:sdt); they must still be read."""
    import docx
    from docx.oxml import OxmlElement

    values = consistent_values("2021")
    path = build_2021_docx(tmp_path / "r.docx", values)
    document = docx.Document(str(path))
    table = document.tables[1]._tbl
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    table.addprevious(sdt)
    sdt.append(content)
    content.append(table)
    document.save(str(path))
    assert len(docx.Document(str(path)).tables) == 2  # python-docx itself no longer sees it
    assert wrong_cells(parse(path), values) == []


def _t3_html_with_subtotal(values: dict) -> str:
    """表三 as a web page that adds an unofficial 法人或其他组织小计 column (seen in home-made layouts)."""
    from builders import T3_SEQUENCE

    orgs = ["business", "research", "nonprofit", "legal_services", "other_org"]
    head = (
        "<tr><td rowspan=3>（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td><td colspan=8>申请人情况</td></tr>"
        "<tr><td rowspan=2>自然人</td><td colspan=6>法人或其他组织</td><td rowspan=2>总计</td></tr>"
        "<tr><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td><td>小计</td></tr>"
    )
    labels = {"new": "一、本年新收政府信息公开申请数量", "carried_in": "二、上年结转政府信息公开申请数量", "total": "（七）总计", "carried_over": "四、结转下年度继续办理"}
    from extractor.lexicon.labels import t3_row_label

    body = ""
    for row in T3_SEQUENCE["2019"]:
        cells = [values[f"t3.{row}.natural_person"], *(values[f"t3.{row}.{c}"] for c in orgs)]
        subtotal = sum(values[f"t3.{row}.{c}"] for c in orgs)
        cells += [subtotal, values[f"t3.{row}.total"]]
        label = labels.get(row, t3_row_label(row))
        body += f"<tr><td>{label}</td>" + "".join(f"<td>{v}</td>" for v in cells) + "</tr>"
    return (
        "<html><head><meta charset='utf-8'></head><body><h1>某某县某局2020年政府信息公开工作年度报告</h1>"
        "<p>三、收到和处理政府信息公开申请情况</p><table>" + head + body + "</table></body></html>"
    )


def test_extra_subtotal_column_is_mapped_by_header(tmp_path):
    values = consistent_values("2019")
    path = tmp_path / "page.html"
    path.write_text(_t3_html_with_subtotal(values), encoding="utf-8")
    report = parse(path)
    expected = {k: v for k, v in values.items() if k.startswith("t3.")}
    assert wrong_cells(report, expected) == []
    assert not any(f.rule.startswith("t3.") for f in report.findings)


def test_agency_from_the_page_title_when_the_body_has_none(tmp_path):
    path = tmp_path / "article.html"
    path.write_text(
        "<html><head><meta charset='utf-8'><title>某某市2025年政府信息公开工作年度报告_某某市人民政府门户网站</title></head>"
        "<body><div class='article'><p>根据《中华人民共和国政府信息公开条例》规定编制本报告。</p><p>一、总体情况</p>"
        "<p>2025年，全市扎实推进政务公开工作。</p></div></body></html>",
        encoding="utf-8",
    )
    report = parse(path)
    assert (report.agency, report.year) == ("某某市", 2025)


def test_row_printed_as_its_label_alone_is_read_as_blank_with_a_warning(tmp_path):
    """A table without ruling lines and with zeros left blank shows a row of zeros as its label alone."""
    from builders import T3_SEQUENCE

    from extractor.lexicon.labels import t3_row_label

    values = consistent_values("2019")
    for col in ("natural_person", "business", "research", "nonprofit", "legal_services", "other_org", "total"):
        values[f"t3.denied.state_secret.{col}"] = 0
    lines = ["某某县某局2020年政府信息公开工作年度报告", "三、收到和处理政府信息公开申请情况"]
    names = {"new": "一、本年新收政府信息公开申请数量", "carried_in": "二、上年结转政府信息公开申请数量", "total": "（七）总计", "carried_over": "四、结转下年度继续办理"}
    for row in T3_SEQUENCE["2019"]:
        label = names.get(row, t3_row_label(row))
        cells = [values[f"t3.{row}.{c}"] for c in ("natural_person", "business", "research", "nonprofit", "legal_services", "other_org", "total")]
        if not any(cells):
            lines.append(label)  # nothing but the label
        else:
            lines.append("\t".join([label, *("" if v == 0 else str(v) for v in cells)]))
    lines.append("四、政府信息公开行政复议、行政诉讼情况")
    path = tmp_path / "report.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = parse(path)
    assert wrong_cells(report, {k: v for k, v in values.items() if k.startswith("t3.")}) == []
    cell = report.cell_map()["t3.denied.state_secret.total"]
    assert (cell.raw, cell.confidence) == ("", 0.7)
    zero_rows = [row for row in T3_SEQUENCE["2019"] if not any(values[f"t3.{row}.{c}"] for c in ("natural_person", "total"))]
    blank = _fired(report, "structure.blank_row")
    assert "denied.state_secret" in zero_rows and len(blank) == len(zero_rows)
    assert all(f.severity == "warning" for f in blank) and "1.属于国家秘密" in blank[0].message
    assert _fired(report, "structure.missing_rows") == []


def test_unofficial_group_subtotal_rows_are_left_out(tmp_path):
    """Some agencies add a subtotal row per group (（三）不予公开 with numbers); the official rows keep their values."""
    from builders import T3_COLUMNS, T3_SEQUENCE

    from extractor.lexicon.labels import t3_row_label

    values = consistent_values("2019")
    names = {"new": "一、本年新收政府信息公开申请数量", "carried_in": "二、上年结转政府信息公开申请数量", "total": "（七）总计", "carried_over": "四、结转下年度继续办理"}
    groups = {"denied.state_secret": ("（三）不予公开", "denied."), "unavailable.not_held": ("（四）无法提供", "unavailable."), "not_processed.petition": ("（五）不予处理", "not_processed.")}
    body = ""
    for row in T3_SEQUENCE["2019"]:
        if row in groups:
            label, prefix = groups[row]
            sums = [sum(values[f"t3.{r}.{c}"] for r in T3_SEQUENCE["2019"] if r.startswith(prefix)) for c in T3_COLUMNS]
            body += f"<tr><td>{label}</td>" + "".join(f"<td>{v}</td>" for v in sums) + "</tr>"
        body += f"<tr><td>{names.get(row, t3_row_label(row))}</td>" + "".join(f"<td>{values[f't3.{row}.{c}']}</td>" for c in T3_COLUMNS) + "</tr>"
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><meta charset='utf-8'></head><body><p>某某县某局2020年政府信息公开工作年度报告</p>"
        "<p>三、收到和处理政府信息公开申请情况</p><table>" + body + "</table></body></html>",
        encoding="utf-8",
    )
    report = parse(path)
    assert wrong_cells(report, {k: v for k, v in values.items() if k.startswith("t3.")}) == []
    assert len(_fired(report, "structure.subtotal_row")) == 3
    assert not any(f.rule.startswith("t3.") or f.rule == "structure.unplaced_rows" for f in report.findings)
