"""The rule catalogue: every rule over one report as data (id, severity, scope, formula in words,
tolerance, when it is skipped) and `run_checks`, which runs them. The functions live by family in
checks.tables, checks.narrative and checks.structure.
"""

from __future__ import annotations

from collections.abc import Iterable

from extractor.checks.base import TOLERANCE, Rule
from extractor.checks.narrative import check_narrative, check_narrative_parts, check_narrative_percentage
from extractor.checks.ocr import REVIEW_THRESHOLD
from extractor.checks.structure import (
    MOSTLY_BLANK,
    check_empty_problems,
    check_fees_in_other,
    check_mostly_blank,
    check_section_numbering,
    check_template_year,
    check_working_year,
)
from extractor.checks.tables import (
    FEE_SMALL_UNIT,
    check_negative,
    check_non_integer,
    check_split_digits,
    check_t2_decisions_as_sum,
    check_t2_fee_unit,
    check_t3_balance,
    check_t3_column_sum,
    check_t3_other_split,
    check_t3_row_sum,
    check_t4_group_total,
    check_unreadable,
)
from extractor.report import Finding, Report


def _reported_elsewhere(_: object) -> Iterable[Finding]:
    """Findings of this rule are produced while the tables are read (interpret/api), not here."""
    return ()


RULES: list[Rule] = [
    Rule("t3.balance", "error", "表三", "每列：一、本年新收 + 二、上年结转 = （七）总计 + 四、结转下年度继续办理", check_t3_balance, tolerance=0, tolerance_unit="件", skipped="所需单元格未印出或无法读取；有单元格留空时降为 warning", levels=("warning",)),
    Rule("t3.row_sum", "error", "表三", "每行：总计 = 自然人 + 商业企业 + 科研机构 + 社会公益组织 + 法律服务机构 + 其他", check_t3_row_sum, tolerance=0, tolerance_unit="件", skipped="该行未印出；总计为推算值；有单元格留空时降为 warning", levels=("warning",)),
    Rule("t3.column_sum", "error", "表三", "每列：（七）总计 = （一）至（六）各项之和", check_t3_column_sum, tolerance=0, tolerance_unit="件", skipped="所需行未印出；有单元格留空时降为 warning", levels=("warning",)),
    Rule("t3.other_split", "error", "表三", "（六）其他处理 = 其三个子项之和（两者都印出时）", check_t3_other_split, tolerance=0, tolerance_unit="件", skipped="只印出其一", levels=("warning",)),
    Rule("t4.group_total", "error", "表四", "每组：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结", check_t4_group_total, tolerance=0, tolerance_unit="件", skipped="表四未找到；有单元格留空时降为 warning", levels=("warning",)),
    Rule("value.negative", "error", "all", "件数与金额不得为负（本年增/减除外）", check_negative, skipped="无"),
    Rule("value.non_integer", "error", "all", "件数应为整数（金额除外）", check_non_integer, skipped="金额单元格"),
    Rule("value.unreadable", "warning", "all", "单元格文字无法读取为数值", check_unreadable, skipped="空白单元格（按 0 计）"),
    Rule("value.split_digits", "warning", "表三/表四", "相邻两栏均为一位数，合读为一个数（另一栏为 0）时表内被破坏的等式全部恢复：数字被拆分、栏位错移", check_split_digits, skipped="表内等式全部成立"),
    Rule("t2.decisions_as_sum", "info", "表二", "2019 年版：处理决定数量 = 上一年项目数量 + 本年增/减 时，疑将处理决定数量误填为项目数", check_t2_decisions_as_sum, tolerance=0, tolerance_unit="件", skipped="2021 年版；处理决定数量或本年增/减为 0"),
    Rule("t2.fee_unit", "warning", "表二", "2021 年版本年收费金额以万元计：单元格写“元”，或金额 ≥ 容差（默认 10000 万元）时疑以元填报", check_t2_fee_unit, needs_report=True, tolerance=FEE_SMALL_UNIT, tolerance_unit="万元", skipped="2019 年版；未印出收费金额"),
    Rule("narrative.table_mismatch", "warning", "正文", "正文所述数字（受理、办结、结转、复议、诉讼、规范性文件、许可、处罚件数等）与表格单元格一致", check_narrative, needs_report=True, skipped="所述单元格未提取"),
    Rule("narrative.percentage", "warning", "正文", "正文所称百分比 = 同句所列两个数之比（按所印小数位四舍五入；“超过/以上”“不足/以下”“约”按字面放宽）；几种算法都接近时为 info", check_narrative_percentage, needs_report=True, tolerance=0, tolerance_unit="个百分点", skipped="百分比前有增长、同比等字样；所称为 100%；同句少于两个同单位的数；没有任何算法接近所称百分比（±2 个百分点）", levels=("info",)),
    Rule("narrative.parts", "warning", "正文", "“总数 N，其中 …”所列各项之和不得超过总数（前几项恰等于总数、其余为另列项时视为一致）；有单项大于总数时为 info", check_narrative_parts, needs_report=True, tolerance=0, tolerance_unit="条/件", skipped="各项单位与总数不同；所列少于两项；各项之和不超过总数", levels=("info",)),
    Rule("structure.template_year", "warning", "结构", "报告年度 ≥ 2022 而用 2019 年版表格，或报告年度 ≤ 2020 而用 2021 年版表格", check_template_year, needs_report=True, skipped="年度或模板未识别"),
    Rule("structure.section_numbering", "info", "结构", "六个部分依次编号为一至六；编号与位置不符或顺序颠倒", check_section_numbering, needs_report=True, skipped="标题不带编号"),
    Rule("structure.empty_problems", "warning", "结构", "第五部分「存在的主要问题及改进情况」有标题而无内容（汉字数 ≤ 容差，默认 4，如仅写“无”）", check_empty_problems, needs_report=True, tolerance=4, tolerance_unit="个汉字", skipped="第五部分未找到（由 structure.missing_section 报告）；仅有模板占位文字（如「（文字描述）」）时为 info", levels=("info",)),
    Rule("structure.fees_not_explained", "info", "结构", "第六部分仅写“无”，而表二本年收费金额 > 0", check_fees_in_other, needs_report=True, skipped="第六部分未找到；未印出收费金额或为 0"),
    Rule("structure.working_year", "warning", "结构", "正文统计期限（或总体情况开头的年份）与报告年度一致", check_working_year, needs_report=True, skipped="报告年度未识别；正文未写统计期限且总体情况不以年份开头"),
    Rule("structure.mostly_blank", "info", "结构", "统计表数值单元格留空比例 ≥ 容差（默认 90%）但未全部留空", check_mostly_blank, needs_report=True, tolerance=MOSTLY_BLANK, tolerance_unit="比例", skipped="全部留空（由 structure.empty_table 报告）；单元格少于 20 个"),
    # produced while the document is read (extractor/api.py, extractor/interpret.py)
    Rule("structure.missing_section", "error", "结构", "六个部分都应出现", _reported_elsewhere, source="parser", skipped="2019 年以前的报告"),
    Rule("structure.missing_table", "error", "结构", "表二、表三、表四都应出现", _reported_elsewhere, source="parser", skipped="所在部分缺失（随缺失部分一并报告）"),
    Rule("structure.empty_table", "error", "结构", "统计表数值单元格全部留空：全部表格都空为 error，单个表为 warning（表四为 info：无复议、诉讼案件时常整表留空）", _reported_elsewhere, source="parser", levels=("warning", "info")),
    Rule("structure.missing_rows", "error", "结构", "表三应印出格式规定的全部行", _reported_elsewhere, source="parser"),
    Rule("structure.incomplete_row", "warning", "结构", "一行的数值少于栏数", _reported_elsewhere, source="parser"),
    Rule("structure.extra_values", "warning", "结构", "表二一行读到的数值多于栏数（栏目标题未能完整识别）", _reported_elsewhere, source="parser"),
    Rule("structure.duplicate_row", "warning", "结构", "同一行印出两次", _reported_elsewhere, source="parser"),
    Rule("structure.unplaced_rows", "warning", "结构", "数值行没有可用的标签、无法定位", _reported_elsewhere, source="parser"),
    Rule("structure.subtotal_row", "info", "结构", "表三中格式之外的分组小计行（如「（三）不予公开」带数值）不计入", _reported_elsewhere, source="parser"),
    Rule("structure.blank_row", "warning", "结构", "无框线且零值留空的表三中，只印出标签的行按空白（0）读取", _reported_elsewhere, source="parser"),
    Rule("structure.pre2019", "info", "结构", "2019 年以前的报告没有统一表格格式，不提取统计表", _reported_elsewhere, source="parser"),
    Rule("document.note", "info", "文件", "读取文件时的说明（如使用 OCR）", _reported_elsewhere, source="parser"),
    Rule("ocr.low_confidence", "warning", "扫描件", f"OCR 读出的数值置信度低于 {REVIEW_THRESHOLD}：注明页码、表、行、列与读出的文字，请对照原件核对", _reported_elsewhere, source="parser", skipped="非 OCR 页"),
    Rule("ocr.unreadable", "warning", "扫描件", "OCR 读出的数值单元格文字不是数字（不按 0 计）", _reported_elsewhere, source="parser", skipped="非 OCR 页"),
]


def rule_by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in RULES}


def run_checks(report: Report, rules: list[Rule] | None = None, config: object | None = None) -> list[Finding]:
    """Run the rules of this module over a report. `config` (extractor.checks.settings.RulesConfig)
    switches rules off and changes tolerances and severities."""
    cells = report.cell_map()
    findings: list[Finding] = []
    for rule in rules or RULES:
        if rule.source != "checks":
            continue
        if config is not None and not config.enabled(rule.id):  # type: ignore[attr-defined]
            continue
        tolerance = config.tolerance(rule) if config is not None else rule.tolerance  # type: ignore[attr-defined]
        token = TOLERANCE.set(tolerance)
        try:
            produced = list(rule.run(report) if rule.needs_report else rule.run(cells))
        finally:
            TOLERANCE.reset(token)
        if config is not None:
            produced = config.adjust(produced)  # type: ignore[attr-defined]
        findings.extend(produced)
    return findings
