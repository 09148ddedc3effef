"""Structure rules: template and year, section numbering, empty sections, blank tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import regex

from extractor.checks.base import current_tolerance, fmt_number, is_blank
from extractor.lexicon.textnorm import han_count, norm
from extractor.report import Finding, Report

# --------------------------------------------------------------------------------------------------
# structure

_NUMERALS = "一二三四五六七八九十"
_HEADING_NUMERAL = re.compile(r"^[#*\s|｜丨]*(?:第)?([一二三四五六七八九十])(?:、|\.|．|,|，|部分|章|节|\s)")
SECTION_CODES = ["overview", "active", "requests", "review", "problems", "other"]


def check_template_year(report: Report) -> Iterable[Finding]:
    """The 2019 template governs reports on 2019–2020, the 2021 template those from 2021 on."""
    year, template = report.year, report.template
    if year is None or template not in ("2019", "2021"):
        return
    if (template == "2019" and year >= 2022) or (template == "2021" and year <= 2020):
        right = "2021 年版（国办公开办函〔2021〕30号）" if template == "2019" else "2019 年版（国办公开办函〔2019〕60号）"
        yield Finding(
            rule="structure.template_year",
            severity="warning",
            message=f"{year} 年度报告使用了 {template} 年版统计表格式，应使用{right}格式",
            section="active",
        )


def check_section_numbering(report: Report) -> Iterable[Finding]:
    """The six sections carry the numerals 一 … 六 in this order; a report that renumbers them (often
    after dropping one) or prints them out of order is worth a look."""
    if report.template == "pre2019":
        return  # no national section scheme before 2019
    found = [(SECTION_CODES.index(s.code), s) for s in report.sections if s.found and s.code in SECTION_CODES]
    wrong, printed = [], []
    for position, section in found:
        m = _HEADING_NUMERAL.match(section.heading or "")
        if not m:
            continue
        numeral = m.group(1)
        printed.append(_NUMERALS.index(numeral))
        if numeral != _NUMERALS[position]:
            wrong.append(f"「{section.heading.strip('#* ')}」应为第{_NUMERALS[position]}部分")
    out_of_order = any(b < a for a, b in zip(printed, printed[1:], strict=False))
    if wrong or out_of_order:
        what = "章节顺序不符合格式要求；" if out_of_order else ""
        yield Finding(
            rule="structure.section_numbering",
            severity="info",
            message=f"{what}章节编号与格式不符：" + "；".join(wrong) if wrong else f"{what.rstrip('；')}",
            section=found[0][1].code if found else None,
        )


def _section_text(report: Report, code: str) -> str:
    return "".join(s.text for s in report.sentences if s.section == code)


def check_empty_problems(report: Report) -> Iterable[Finding]:
    """Section 五 must state the problems and how they were improved; a heading with nothing (or 无)
    under it is not a report of them."""
    section = next((s for s in report.sections if s.code == "problems" and s.found), None)
    if section is None or not report.sentences or report.template == "pre2019":
        return
    text = _section_text(report, "problems")
    if _PLACEHOLDER.fullmatch(norm(text)):
        # the blank template's own placeholder left in: shown, but softer than a section left empty
        yield Finding(
            rule="structure.empty_problems",
            severity="info",
            message=f"第五部分「存在的主要问题及改进情况」仍是模板占位文字「{text.strip()}」，请核实是否已填写",
            section="problems",
            page=section.page,
        )
        return
    if han_count(text) > int(current_tolerance(4)):
        return
    yield Finding(
        rule="structure.empty_problems",
        severity="warning",
        message="第五部分「存在的主要问题及改进情况」" + (f"仅写「{text.strip()}」" if text.strip() else "没有内容") + "，未说明存在的问题和改进情况",
        section="problems",
        page=section.page,
    )


_PLACEHOLDER = re.compile(r"[(（]?(?:文字描述|文字说明|此处填写[^)）]*|略)[)）]?[。.]?")


_NOTHING = re.compile(r"(?:本(?:年度|年|机关|单位|局|委|部门))?(?:无|暂无|没有)(?:其他)?(?:需要|需)?(?:报告|说明)?(?:的)?(?:其他)?(?:事项)?")


def check_fees_in_other(report: Report) -> Iterable[Finding]:
    """Section 六 says only '无' while 表二 reports fees: if information-processing fees were charged
    they belong in section 六 (国办函〔2020〕109号)."""
    section = next((s for s in report.sections if s.code == "other" and s.found), None)
    fee = report.cell_map().get("t2.fees.amount")
    if section is None or report.template == "pre2019" or fee is None or not fee.value or fee.value <= 0 or not report.sentences:
        return
    text = regex.sub(r"[\p{P}\s]", "", norm(_section_text(report, "other")))
    if text and not _NOTHING.fullmatch(text):
        return
    yield Finding(
        rule="structure.fees_not_explained",
        severity="info",
        message=(
            "第六部分「其他需要报告的事项」" + ("写「无」" if text else "没有内容")
            + f"，而表二「行政事业性收费」本年收费金额为 {fmt_number(fee.value)} 万元；如收取了信息处理费，应在第六部分说明"
        ),
        codes=["t2.fees.amount"],
        section="other",
        page=section.page,
    )


_PERIOD = re.compile(r"统计期限?(?:为|是|自|从)?(\d{4})年1月1日(?:起)?(?:至|到|-|—|~)(\d{4})年12月31日")
_OPENING_YEAR = re.compile(r"^(\d{4})年度?[,，]")


def check_working_year(report: Report) -> Iterable[Finding]:
    """The statistics period (or the year the overview opens with) is the report year: another year
    means a copied text or a wrong title."""
    if report.year is None or not report.sentences:
        return
    for sentence in report.sentences:
        m = _PERIOD.search(norm(sentence.text))
        if m and m.group(1) == m.group(2):
            stated, how = int(m.group(1)), f"统计期限为 {m.group(1)} 年"
            break
    else:
        opening = next((s for s in report.sentences if s.section == "overview"), None)
        m = _OPENING_YEAR.match(norm(opening.text)) if opening else None
        if not m or opening is None:
            return
        stated, how, sentence = int(m.group(1)), f"总体情况开头写「{m.group(0).rstrip(',，')}」", opening
    if stated == report.year:
        return
    yield Finding(
        rule="structure.working_year",
        severity="warning",
        message=f"报告年度为 {report.year} 年，但正文{how}{f'（第 {sentence.page} 页）' if sentence.page else ''}：疑为沿用他年报告或标题年份有误",
        section=sentence.section,
        expected=report.year,
        actual=stated,
        page=sentence.page,
    )


MOSTLY_BLANK = 0.9


def check_mostly_blank(report: Report) -> Iterable[Finding]:
    """Tables almost entirely blank (≥ 90 % of the printed value cells, not all): a template barely
    filled in. Entirely blank tables are reported by structure.empty_table."""
    cells = [c for c in report.cells if not c.derived and c.code[:3] in ("t2.", "t3.", "t4.")]
    if len(cells) < 20:
        return
    blank = sum(1 for c in cells if is_blank(c))
    share = blank / len(cells)
    if blank == len(cells) or share < current_tolerance(MOSTLY_BLANK):
        return
    yield Finding(
        rule="structure.mostly_blank",
        severity="info",
        message=f"统计表 {len(cells)} 个数值单元格中 {blank} 个留空（{share:.0%}），几乎未填写；留空按 0 计，请确认是否漏填",
        codes=[c.code for c in cells if not is_blank(c)][:20],
    )
