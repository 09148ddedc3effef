"""Audit rules across years and agencies (extractor.checks.cross): each fires and stays silent."""

from __future__ import annotations

import copy

from builders import REAL, build_2021_docx, consistent_values

from extractor import parse
from extractor.checks.cross import cross_report, explained_by_history
from extractor.lexicon.agency import agency_key, parent_keys
from extractor.reading.sentences import sentence_key
from extractor.report import Sentence


def of(findings, rule: str) -> list:
    return [f for f in findings if f.rule == rule]


def pingtan() -> list:
    return [parse(REAL / f"pingtan{y}.html") for y in (2019, 2020, 2021, 2022)]


def report_2021(tmp_path, name: str, title: str, **changes):
    values = consistent_values("2021")
    values.update(changes)
    return parse(build_2021_docx(tmp_path / name, values, title=title))


def with_text(report, sentences: list[str], agency: str | None = None, year: int | None = None):
    rep = copy.deepcopy(report)
    rep.agency, rep.year = agency or rep.agency, year or rep.year
    rep.sha256 = f"{rep.sha256}-{rep.agency}-{rep.year}"
    rep.sentences = [Sentence(text=t, section="overview", key=sentence_key(t), chars=len(t)) for t in sentences]
    return rep


PROSE = [f"本机关第{i}项工作围绕政务公开重点领域持续推进并完善制度建设，落实专人负责审核发布。" for i in range(12)]


def test_year_on_year_jump_is_info(tmp_path):
    prev = report_2021(tmp_path, "a.docx", "某某市某某区人民政府2022年政府信息公开工作年度报告")
    cur = report_2021(tmp_path, "b.docx", "某某市某某区人民政府2023年政府信息公开工作年度报告", **{"t2.penalty.decisions": 560})
    [finding] = of(cross_report([prev, cur]), "cross_year.jump")
    assert finding.severity == "info" and finding.codes == ["t2.penalty.decisions"] and (finding.expected, finding.actual) == (56, 560)


def test_a_jump_back_to_the_agency_s_usual_level_is_not_reported(tmp_path):
    """560 → 56 → 560: the odd year is the middle one (reported against 2021), not 2023's return."""
    title = "某某市某某区人民政府{}年政府信息公开工作年度报告"
    reports = [
        report_2021(tmp_path, "a.docx", title.format(2021), **{"t2.penalty.decisions": 560}),
        report_2021(tmp_path, "b.docx", title.format(2022)),
        report_2021(tmp_path, "c.docx", title.format(2023), **{"t2.penalty.decisions": 560}),
    ]
    jumps = of(cross_report(reports), "cross_year.jump")
    assert [(f.year, f.other_year) for f in jumps] == [(2022, 2021)]


def test_a_fee_in_line_with_the_agency_s_other_years_is_explained(tmp_path):
    """t2.fee_unit guesses 元 for 元 when a department's fee is ≥ 10000 万元; the same agency printing
    the same order of magnitude every year is a large collector, not a unit slip."""
    title = "某某市某某区财政局{}年政府信息公开工作年度报告"
    fees = {2021: "25100", 2022: "251000"}
    reports = [report_2021(tmp_path, f"{y}.docx", title.format(y), **{"t2.fees.amount": fee}) for y, fee in fees.items()]
    assert [f.severity for r in reports for f in of(r.findings, "t2.fee_unit")] == ["warning", "warning"]
    assert explained_by_history(reports) == []  # ×10 apart: neither explains the other
    reports.append(report_2021(tmp_path, "2023.docx", title.format(2023), **{"t2.fees.amount": "240000"}))
    notes = explained_by_history(reports)
    assert sorted(n.sha256 for n in notes) == sorted(r.sha256 for r in reports[1:])
    assert all(n.rule == "t2.fee_unit" and "2023年 240000" in n.note or "2022年 251000" in n.note for n in notes)


def test_real_series_has_no_jump_within_one_format():
    # 2020 → 2021 行政许可 278 → 2293 crosses the format change and is not compared
    assert of(cross_report(pingtan()), "cross_year.jump") == []


def test_text_reused_from_last_year(tmp_path):
    prev = report_2021(tmp_path, "a.docx", "某某市某某区人民政府2022年政府信息公开工作年度报告")
    cur = report_2021(tmp_path, "b.docx", "某某市某某区人民政府2023年政府信息公开工作年度报告")
    # numbers differ, words the same: still the same sentence
    a = with_text(prev, PROSE)
    b = with_text(cur, [s.replace("第", "第1") for s in PROSE[:10]] + ["今年新增的一句话，内容与上年完全不同，专门说明本年度特色工作。"] * 2)
    [finding] = of(cross_report([a, b]), "cross_year.reused_text")
    assert finding.severity == "warning" and finding.actual >= 0.8 and "照搬" in finding.message


def test_real_series_does_not_reuse_text():
    assert of(cross_report(pingtan()), "cross_year.reused_text") == []


def test_boilerplate_shared_by_many_agencies_does_not_count(tmp_path):
    base = report_2021(tmp_path, "a.docx", "某某市某某区人民政府2022年政府信息公开工作年度报告")
    reports = [with_text(base, PROSE, agency=f"某某市第{i}局", year=2022) for i in range(4)]
    assert of(cross_report(reports), "cross_report.identical_text") == []
    assert of(cross_report(reports[:2]), "cross_report.identical_text") != []


def test_identical_text_from_another_agency(tmp_path):
    base = report_2021(tmp_path, "a.docx", "某某市某某区人民政府2022年政府信息公开工作年度报告")
    a, b = with_text(base, PROSE, agency="某某市甲局"), with_text(base, PROSE, agency="某某市乙局")
    [finding] = of(cross_report([a, b]), "cross_report.identical_text")
    assert finding.severity == "warning" and "内容雷同" in finding.message


def test_outlier_against_peer_group(tmp_path):
    base = report_2021(tmp_path, "a.docx", "某某市某某区人民政府2022年政府信息公开工作年度报告")
    peers = []
    for i, n in enumerate([10, 12, 9, 15, 11, 8, 14, 13, 900]):
        rep = copy.deepcopy(base)
        rep.agency, rep.sha256 = f"某某市第{i}局", f"sha{i}"
        for cell in rep.cells:
            if cell.code == "t3.new.total":
                cell.value = n
        peers.append(rep)
    found = of(cross_report(peers), "cross_agency.outlier")
    assert [f.actual for f in found] == [900] and found[0].severity == "info"
    assert of(cross_report(peers[:-1]), "cross_agency.outlier") == []


def test_area_report_against_its_departments(tmp_path):
    gov = report_2021(tmp_path, "g.docx", "某某市洪泽区人民政府2023年政府信息公开工作年度报告")
    gov = with_text(gov, ["2023年全区共受理政府信息公开申请30件，均按时答复。"])
    dept = report_2021(tmp_path, "d.docx", "洪泽区教育局2023年政府信息公开工作年度报告")
    old = copy.deepcopy(dept)
    old.agency, old.year, old.sha256 = "洪泽区卫生健康委员会", 2022, "old"
    new_total = dept.values()["t3.new.total"]
    [finding] = of(cross_report([gov, dept, old]), "cross_agency.aggregate")
    assert finding.severity == "info" and (finding.expected, finding.actual) == (new_total, 30)
    assert "洪泽区卫生健康委员会" in finding.message  # seen another year, missing this one
    same = with_text(gov, [f"2023年全区共受理政府信息公开申请{new_total}件。"])
    assert of(cross_report([same, dept]), "cross_agency.aggregate") == []
    # a district of the same name in another city is not one of its departments
    elsewhere = copy.deepcopy(dept)
    elsewhere.agency, elsewhere.sha256 = "清河市洪泽区教育局", "elsewhere"
    assert of(cross_report([same, dept, elsewhere]), "cross_agency.aggregate") == []


def test_parent_is_the_government_of_the_innermost_area_named():
    names = [
        "淮安市人民政府", "淮安市洪泽区人民政府", "洪泽区教育局", "淮安市洪泽区财政局", "淮安市教育局",
        "临溪市滨湖区人民政府", "临溪市滨湖区城市管理局", "清河市滨湖区审批服务管理局", "中共临溪市滨湖区委办公室",
        "鼓楼区人民政府", "南京市鼓楼区人民政府", "鼓楼区教育局", "南京市鼓楼区教育局", "某某市科学技术局",
        "平潭综合实验区", "平潭综合实验区教育与体育局", "淮安市经济技术开发区管理委员会", "淮安市经济技术开发区财政局",
        "高新区", "清河市高新区人力资源和社会保障局",
    ]  # fmt: skip
    parents = parent_keys([(agency_key(n), n) for n in names])
    assert parents == {
        "淮安市洪泽区人民政府": "淮安市人民政府",  # a district government comes under its city's
        "洪泽区教育局": "淮安市洪泽区人民政府",  # the city left out by the department
        "淮安市洪泽区财政局": "淮安市洪泽区人民政府",
        "淮安市教育局": "淮安市人民政府",
        "临溪市滨湖区城市管理局": "临溪市滨湖区人民政府",
        "中共临溪市滨湖区委办公室": "临溪市滨湖区人民政府",
        "南京市鼓楼区教育局": "南京市鼓楼区人民政府",  # agrees on the city
        "平潭综合实验区教育与体育局": "平潭综合实验区",  # a zone governs as an area by its own name
        "淮安市经济技术开发区管理委员会": "淮安市人民政府",
        "淮安市经济技术开发区财政局": "淮安市经济技术开发区管理委员会",
    }  # 清河市滨湖区…: another city; 鼓楼区教育局: two 鼓楼区 governments; 某某市…: no government of 某某市;
    # a bare 高新区 could be any city's: no government, and no parent for 清河市高新区…


def test_the_audit_weighs_a_fee_guess_by_the_agency_s_history(tmp_path):
    """Stored through ingest, read back by the audit: the department's ×1 fees of two years are notes."""
    import shutil

    from extractor.outputs.audit import collect
    from extractor.store.ingest import ingest

    title = "某某市某某区财政局{}年政府信息公开工作年度报告"
    folder = tmp_path / "in"
    folder.mkdir()
    for y, fee in ((2022, "251000"), (2023, "240000")):
        values = consistent_values("2021")
        values["t2.fees.amount"] = fee
        shutil.copy(build_2021_docx(tmp_path / f"{y}.docx", values, title=title.format(y)), folder / f"{y}.docx")
    ingest([str(folder)], str(tmp_path / "r.db"), workers=1, progress="none")
    fees = [f for r in collect(str(tmp_path / "r.db"), images=False).reports for f in r.findings if f.rule == "t2.fee_unit"]
    assert len(fees) == 2 and all(f.severity == "info" and "与本机构其他年度相当" in f.message for f in fees)
