"""Checks: rules over one Report. Each rule has a stable id, a severity and a description, and
returns typed findings that name the cells, the expected and the printed value, and the page.

A rule is skipped when any cell it needs was not extracted (a missing row is reported once, by the
interpreter, not again by every identity that uses it). When an identity fails and one of its
cells was printed blank (read as 0), the finding is a warning that the cell was left blank, not an
arithmetic error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from extractor.labels import cell_catalogue, t3_row_label, vocabulary
from extractor.report import Cell, Finding, Report

T3_COLUMN_NAMES = dict(zip(vocabulary()["t3"]["columns"], vocabulary()["t3"]["column_labels"], strict=True))
T3_RESULT_ROWS = [
    "granted",
    "partial",
    "denied.state_secret",
    "denied.law_prohibited",
    "denied.three_safety",
    "denied.third_party",
    "denied.internal",
    "denied.process",
    "denied.enforcement",
    "denied.query",
    "unavailable.not_held",
    "unavailable.needs_creation",
    "unavailable.unclear",
    "not_processed.petition",
    "not_processed.duplicate",
    "not_processed.publication",
    "not_processed.excessive",
    "not_processed.confirmation",
    "other",
]
T3_APPLICANT_COLUMNS = ["natural_person", "business", "research", "nonprofit", "legal_services", "other_org"]
T3_ROWS_WITH_TOTAL = ["new", "carried_in", *T3_RESULT_ROWS, "other.no_correction", "other.unpaid_fee", "other.other", "total", "carried_over"]
SIGNED_CODES_SUFFIX = (".change",)  # 本年增/减 may be negative
AMOUNT_CODES = {"t2.fees.amount", "t2.procurement.amount"}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    scope: str
    description: str
    run: Callable[..., Iterable[Finding]]
    needs_report: bool = False  # the rule reads more of the report than its cells


def _blank(cell: Cell) -> bool:
    return cell.raw.strip() in ("", "-", "—", "/", "无", "－", "--", "——") and not cell.derived


def _fmt(value: float | int | None) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _identity(
    rule: str,
    cells: dict[str, Cell],
    total_code: str,
    part_codes: list[str],
    section: str,
    what: str,
) -> Finding | None:
    """total = Σ parts; returns a finding when it does not hold."""
    needed = [total_code, *part_codes]
    if any(code not in cells or cells[code].value is None for code in needed):
        return None
    total = cells[total_code]
    expected = sum(cells[c].value for c in part_codes)  # type: ignore[misc]
    if abs(expected - total.value) < 1e-9:  # type: ignore[operator]
        return None
    blank_parts = [c for c in needed if _blank(cells[c])]
    if blank_parts and _blank(total):
        severity = "warning"
        message = f"{what}：总计栏留空（按 0 计），而各项之和为 {_fmt(expected)}"
    elif blank_parts:
        severity = "warning"
        message = f"{what}：总计 {_fmt(total.value)} ≠ 各项之和 {_fmt(expected)}；有单元格留空（按 0 计），请核对"
    else:
        severity = "error"
        message = f"{what}：总计 {_fmt(total.value)} ≠ 各项之和 {_fmt(expected)}"
    return Finding(
        rule=rule,
        severity=severity,
        message=f"{message}（第 {total.page} 页）" if total.page else message,
        codes=needed,
        section=section,
        expected=expected,
        actual=total.value,
        page=total.page,
    )


def check_t3_balance(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Per column: 一 + 二 = （七）总计 + 四 (the identity printed in the table's corner)."""
    for col, name in T3_COLUMN_NAMES.items():
        codes = [f"t3.new.{col}", f"t3.carried_in.{col}", f"t3.total.{col}", f"t3.carried_over.{col}"]
        if any(c not in cells or cells[c].value is None for c in codes):
            continue
        new, carried_in, total, carried_over = (cells[c] for c in codes)
        left = new.value + carried_in.value  # type: ignore[operator]
        right = total.value + carried_over.value  # type: ignore[operator]
        if abs(left - right) < 1e-9:
            continue
        blank = [c for c in codes if _blank(cells[c])]
        severity = "warning" if blank else "error"
        note = "；" + "、".join(_describe(c) for c in blank) + " 留空（按 0 计）" if blank else ""
        yield Finding(
            rule="t3.balance",
            severity=severity,
            message=(
                f"表三 {name}列：一、本年新收 {_fmt(new.value)} + 二、上年结转 {_fmt(carried_in.value)} = {_fmt(left)}，"
                f"但（七）总计 {_fmt(total.value)} + 四、结转下年度 {_fmt(carried_over.value)} = {_fmt(right)}{note}"
            ),
            codes=codes,
            section="requests",
            expected=left,
            actual=right,
            page=total.page,
        )


def check_t3_row_sum(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Per row: 总计 = 自然人 + the five 法人或其他组织 columns."""
    for row in T3_ROWS_WITH_TOTAL:
        if cells.get(f"t3.{row}.total") is not None and cells[f"t3.{row}.total"].derived:
            continue
        finding = _identity(
            "t3.row_sum",
            cells,
            f"t3.{row}.total",
            [f"t3.{row}.{c}" for c in T3_APPLICANT_COLUMNS],
            "requests",
            f"表三「{t3_row_label(row)}」行",
        )
        if finding:
            yield finding


def check_t3_column_sum(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Per column: （七）总计 = （一）+（二）+ the sub-rows of （三）（四）（五）（六）."""
    for col, name in T3_COLUMN_NAMES.items():
        parts = [f"t3.{row}.{col}" for row in T3_RESULT_ROWS]
        finding = _identity("t3.column_sum", cells, f"t3.total.{col}", parts, "requests", f"表三 {name}列（七）总计")
        if finding:
            subrows = [f"t3.other.{p}.{col}" for p in ("no_correction", "unpaid_fee", "other")]
            finding.codes.extend(c for c in subrows if c in cells)
            yield finding


def check_t3_other_split(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Where （六）其他处理 is printed both as a row and as sub-rows, the row equals their sum."""
    for col, name in T3_COLUMN_NAMES.items():
        parts = [f"t3.other.{p}.{col}" for p in ("no_correction", "unpaid_fee", "other")]
        if f"t3.other.{col}" in cells and cells[f"t3.other.{col}"].derived:
            continue
        finding = _identity("t3.other_split", cells, f"t3.other.{col}", parts, "requests", f"表三 {name}列（六）其他处理")
        if finding:
            yield finding


def check_t4_group_total(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Per 表四 group: 总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结."""
    vocab = vocabulary()["t4"]
    for group, name in zip(vocab["groups"], vocab["group_labels"], strict=True):
        parts = [f"t4.{group}.{c}" for c in ("upheld", "corrected", "other", "pending")]
        finding = _identity("t4.group_total", cells, f"t4.{group}.total", parts, "review", f"表四 {name}")
        if finding:
            yield finding


def check_negative(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Counts and amounts cannot be negative (2019 本年增/减 excepted)."""
    for cell in cells.values():
        if cell.value is not None and cell.value < 0 and not cell.code.endswith(SIGNED_CODES_SUFFIX):
            yield Finding(
                rule="value.negative",
                severity="error",
                message=f"{_describe(cell.code)} 为负数 {_fmt(cell.value)}，此处应为非负数",
                codes=[cell.code],
                section=_section_of(cell.code),
                actual=cell.value,
                page=cell.page,
            )


def check_non_integer(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Counts are whole numbers; only money cells may have decimals."""
    for cell in cells.values():
        if isinstance(cell.value, float) and not cell.value.is_integer() and cell.code not in AMOUNT_CODES:
            yield Finding(
                rule="value.non_integer",
                severity="error",
                message=f"{_describe(cell.code)} 为非整数 {cell.raw}，件数应为整数",
                codes=[cell.code],
                section=_section_of(cell.code),
                actual=cell.value,
                page=cell.page,
            )


def check_unreadable(cells: dict[str, Cell]) -> Iterable[Finding]:
    """A cell that exists but whose text is not a number."""
    for cell in cells.values():
        if cell.value is None and not cell.derived and cell.raw.strip():
            yield Finding(
                rule="value.unreadable",
                severity="warning",
                message=f"{_describe(cell.code)} 无法读取为数值：「{cell.raw}」",
                codes=[cell.code],
                section=_section_of(cell.code),
                page=cell.page,
            )


def check_narrative(report: Report) -> Iterable[Finding]:
    """Numbers the text states ('受理政府信息公开申请21件') against the cells they describe."""
    cells = report.cell_map()
    for statement in report.statements:
        if any(code not in cells or cells[code].value is None for code in statement.codes):
            continue
        printed = sum(cells[code].value for code in statement.codes)  # type: ignore[misc]
        if abs(printed - statement.value) < 1e-9:
            continue
        what = _describe(statement.codes[0]) if len(statement.codes) == 1 else _describe_group(statement.codes)
        where = f"（第 {statement.page} 页）" if statement.page else ""
        yield Finding(
            rule="narrative.table_mismatch",
            severity="warning",
            message=f"正文称「…{statement.text}…」为 {_fmt(statement.value)}，但{what}为 {_fmt(printed)}{where}",
            codes=list(statement.codes),
            section=statement.section,
            expected=printed,
            actual=statement.value,
            page=statement.page,
        )


RULES: list[Rule] = [
    Rule("t3.balance", "error", "表三", "每列：一、本年新收 + 二、上年结转 = （七）总计 + 四、结转下年度继续办理", check_t3_balance),
    Rule("t3.row_sum", "error", "表三", "每行：总计 = 自然人 + 商业企业 + 科研机构 + 社会公益组织 + 法律服务机构 + 其他", check_t3_row_sum),
    Rule("t3.column_sum", "error", "表三", "每列：（七）总计 = （一）至（六）各项之和", check_t3_column_sum),
    Rule("t3.other_split", "error", "表三", "（六）其他处理 = 其三个子项之和（两者都印出时）", check_t3_other_split),
    Rule("t4.group_total", "error", "表四", "每组：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结", check_t4_group_total),
    Rule("value.negative", "error", "all", "件数与金额不得为负（本年增/减除外）", check_negative),
    Rule("value.non_integer", "error", "all", "件数应为整数（金额除外）", check_non_integer),
    Rule("value.unreadable", "warning", "all", "单元格文字无法读取为数值", check_unreadable),
    Rule("narrative.table_mismatch", "warning", "正文", "正文所述数字（受理、办结、结转、复议、诉讼、规范性文件、许可、处罚件数等）与表格单元格一致", check_narrative, needs_report=True),
]


def run_checks(report: Report, rules: list[Rule] | None = None) -> list[Finding]:
    cells = report.cell_map()
    findings: list[Finding] = []
    for rule in rules or RULES:
        findings.extend(rule.run(report) if rule.needs_report else rule.run(cells))
    return findings


def _section_of(code: str) -> str:
    return {"t2": "active", "t3": "requests", "t4": "review"}.get(code.split(".")[0], "")


def _describe_group(codes: list[str]) -> str:
    row = cell_catalogue().get(codes[0], {})
    return f"表三「{row.get('group', '')}」各项之和"


def _describe(code: str) -> str:
    """Readable Chinese name of a cell: 表三「（七）总计」自然人."""
    row = cell_catalogue().get(code)
    if row is None:
        return code
    table = {"t2": "表二", "t3": "表三", "t4": "表四"}[row["table"]]
    if row["table"] == "t4":
        return f"{table}「{row['group']}」{row['column']}"
    label = row["row"] if row["row"] and not row["row"].startswith("（六）其他处理 —") else row["group"]
    return f"{table}「{label}」{row['column']}"
