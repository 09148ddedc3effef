"""Table rules: the identities of 表三 and 表四, value sanity (negative, non-integer, unreadable,
split digits) and the 表二 plausibility rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from extractor.checks.base import (
    AMOUNT_CODES,
    SIGNED_CODES_SUFFIX,
    T3_APPLICANT_COLUMNS,
    T3_COLUMN_NAMES,
    T3_RESULT_ROWS,
    T3_ROWS_WITH_TOTAL,
    current_tolerance,
    describe_cell,
    fmt_number,
    identity_finding,
    is_blank,
    section_of,
)
from extractor.lexicon.agency import agency_level
from extractor.lexicon.labels import t3_row_label, vocabulary
from extractor.lexicon.textnorm import norm
from extractor.report import Cell, Finding, Report

_T3_OTHER_PARTS = ("no_correction", "unpaid_fee", "other")  # the sub-rows of （六）其他处理
_T4_PARTS = ("upheld", "corrected", "other", "pending")  # what a 表四 group's 总计 is the sum of


def check_t3_balance(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Per column: 一 + 二 = （七）总计 + 四 (the identity printed in the table's corner)."""
    for col, name in T3_COLUMN_NAMES.items():
        codes = [f"t3.new.{col}", f"t3.carried_in.{col}", f"t3.total.{col}", f"t3.carried_over.{col}"]
        if any(c not in cells or cells[c].value is None for c in codes):
            continue
        new, carried_in, total, carried_over = (cells[c] for c in codes)
        left = new.value + carried_in.value  # type: ignore[operator]
        right = total.value + carried_over.value  # type: ignore[operator]
        if abs(left - right) <= max(current_tolerance(), 1e-9):
            continue
        blank = [c for c in codes if is_blank(cells[c])]
        severity = "warning" if blank else "error"
        note = "；" + "、".join(describe_cell(c) for c in blank) + " 留空（按 0 计）" if blank else ""
        yield Finding(
            rule="t3.balance",
            severity=severity,
            message=(
                f"表三 {name}列：一、本年新收 {fmt_number(new.value)} + 二、上年结转 {fmt_number(carried_in.value)} = {fmt_number(left)}，"
                f"但（七）总计 {fmt_number(total.value)} + 四、结转下年度 {fmt_number(carried_over.value)} = {fmt_number(right)}{note}"
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
        finding = identity_finding(
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
        finding = identity_finding("t3.column_sum", cells, f"t3.total.{col}", parts, "requests", f"表三 {name}列（七）总计")
        if finding:
            subrows = [f"t3.other.{p}.{col}" for p in _T3_OTHER_PARTS]
            finding.codes.extend(c for c in subrows if c in cells)
            yield finding


def check_t3_other_split(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Where （六）其他处理 is printed both as a row and as sub-rows, the row equals their sum."""
    for col, name in T3_COLUMN_NAMES.items():
        parts = [f"t3.other.{p}.{col}" for p in _T3_OTHER_PARTS]
        if f"t3.other.{col}" in cells and cells[f"t3.other.{col}"].derived:
            continue
        finding = identity_finding("t3.other_split", cells, f"t3.other.{col}", parts, "requests", f"表三 {name}列（六）其他处理")
        if finding:
            yield finding


def check_t4_group_total(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Per 表四 group: 总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结."""
    vocab = vocabulary()["t4"]
    for group, name in zip(vocab["groups"], vocab["group_labels"], strict=True):
        parts = [f"t4.{group}.{c}" for c in _T4_PARTS]
        finding = identity_finding("t4.group_total", cells, f"t4.{group}.total", parts, "review", f"表四 {name}")
        if finding:
            yield finding


def check_negative(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Counts and amounts cannot be negative (2019 本年增/减 excepted)."""
    for cell in cells.values():
        if cell.value is not None and cell.value < 0 and not cell.code.endswith(SIGNED_CODES_SUFFIX):
            yield Finding(
                rule="value.negative",
                severity="error",
                message=f"{describe_cell(cell.code)} 为负数 {fmt_number(cell.value)}，此处应为非负数",
                codes=[cell.code],
                section=section_of(cell.code),
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
                message=f"{describe_cell(cell.code)} 为非整数 {cell.raw}，件数应为整数",
                codes=[cell.code],
                section=section_of(cell.code),
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
                message=f"{describe_cell(cell.code)} 无法读取为数值：「{cell.raw}」",
                codes=[cell.code],
                section=section_of(cell.code),
                page=cell.page,
            )


# --------------------------------------------------------------------------------------------------
# table 2

T2_ITEM_ROWS = {"licensing": "行政许可", "other_services": "其他对外管理服务事项", "penalty": "行政处罚", "coercion": "行政强制"}
FEE_SMALL_UNIT = 10000.0  # 万元: ≥ 1 亿元 of 行政事业性收费 is rare outside city aggregates


def check_t2_decisions_as_sum(cells: dict[str, Cell]) -> Iterable[Finding]:
    """2019 表二: 处理决定数量 (cases handled this year) printed as 上一年项目数量 + 本年增/减 (the stock
    of matters) suggests the column was misunderstood."""
    for key, label in T2_ITEM_ROWS.items():
        codes = [f"t2.{key}.prev_items", f"t2.{key}.change", f"t2.{key}.decisions"]
        if any(c not in cells or cells[c].value is None for c in codes):
            continue
        prev, change, decisions = (cells[c].value for c in codes)
        if not decisions or not change or abs(prev + change - decisions) > current_tolerance():  # type: ignore[operator]
            continue
        yield Finding(
            rule="t2.decisions_as_sum",
            severity="info",
            message=(
                f"表二「{label}」：处理决定数量 {fmt_number(decisions)} 恰等于 上一年项目数量 {fmt_number(prev)} + 本年增/减 {fmt_number(change)}；"
                "处理决定数量应为本年办件量，疑将其填成了本年项目数量"
            ),
            codes=codes,
            section="active",
            expected=None,
            actual=decisions,
            page=cells[codes[2]].page,
        )


def check_t2_fee_unit(report: Report) -> Iterable[Finding]:
    """2021 表二 本年收费金额 is in 万元: a figure written with 元, or one of 1 亿元 or more, was likely
    entered in 元."""
    cell = report.cell_map().get("t2.fees.amount")
    if cell is None or cell.value is None or report.template != "2021":
        return
    raw = cell.raw.replace(" ", "")
    limit = current_tolerance(FEE_SMALL_UNIT)
    if "元" in raw and "万元" not in raw:
        why = f"单元格写作「{cell.raw}」，以元为单位"
    elif cell.value >= limit and _decimals(raw) <= 2:  # 万元 converted from 元 shows 4+ decimals
        why = f"金额 {fmt_number(cell.value)} 万元即 {cell.value / 10000:g} 亿元，疑以元填报"
    else:
        return
    # an area government (人民政府, 管委会, 实验区 …) reports the fees of its whole area: a large 万元
    # figure is plausible there
    aggregate = agency_level(report.agency) in (None, "area")
    yield Finding(
        rule="t2.fee_unit",
        severity="info" if aggregate and "元" not in raw else "warning",
        message=f"表二「行政事业性收费」本年收费金额单位为万元，但{why}",
        codes=["t2.fees.amount"],
        section="active",
        actual=cell.value,
        page=cell.page,
    )


def _decimals(raw: str) -> int:
    m = re.search(r"\.(\d+)", raw)
    return len(m.group(1)) if m else 0


# --------------------------------------------------------------------------------------------------
# split digits and column drift


def _identity_failures(cells: dict[str, Cell]) -> set[tuple[str, tuple[str, ...]]]:
    out = set()
    for run in (check_t3_balance, check_t3_row_sum, check_t3_column_sum, check_t3_other_split, check_t4_group_total):
        for f in run(cells):
            out.add((f.rule, tuple(f.codes)))
    return out


def identities(cells: dict[str, Cell]) -> list[tuple[str, list[str], list[str]]]:
    """Every arithmetic identity of 表三 and 表四 the rules above check, as (rule, left, right): the
    cells of `left` sum to those of `right`. A derived cell (（六）其他处理 computed from its sub-rows)
    stands as its sub-rows, so each identity is over cells as printed."""

    def printed(code: str) -> list[str]:
        cell = cells.get(code)
        if cell is not None and cell.derived and code.startswith("t3.other.") and code.count(".") == 2:
            return [f"t3.other.{part}.{code.rsplit('.', 1)[1]}" for part in _T3_OTHER_PARTS]
        return [code]

    out: list[tuple[str, list[str], list[str]]] = []
    for col in T3_COLUMN_NAMES:
        out.append(("t3.balance", [f"t3.new.{col}", f"t3.carried_in.{col}"], [f"t3.total.{col}", f"t3.carried_over.{col}"]))
        out.append(("t3.column_sum", [f"t3.total.{col}"], [c for row in T3_RESULT_ROWS for c in printed(f"t3.{row}.{col}")]))
        if not (cells.get(f"t3.other.{col}") is not None and cells[f"t3.other.{col}"].derived):
            out.append(("t3.other_split", [f"t3.other.{col}"], [f"t3.other.{p}.{col}" for p in _T3_OTHER_PARTS]))
    for row in T3_ROWS_WITH_TOTAL:
        if not (cells.get(f"t3.{row}.total") is not None and cells[f"t3.{row}.total"].derived):
            out.append(("t3.row_sum", [f"t3.{row}.total"], [f"t3.{row}.{c}" for c in T3_APPLICANT_COLUMNS]))
    for group in vocabulary()["t4"]["groups"]:
        out.append(("t4.group_total", [f"t4.{group}.total"], [f"t4.{group}.{c}" for c in _T4_PARTS]))
    return out


def _single_digit(cell: Cell | None) -> bool:
    return cell is not None and not cell.derived and isinstance(cell.value, int) and norm(cell.raw) in "0123456789" and len(norm(cell.raw)) == 1


def check_split_digits(cells: dict[str, Cell]) -> Iterable[Finding]:
    """Two adjacent cells of one row that hold single digits, whose join ('2','0' → 20, the other cell
    0) makes every broken identity hold again: a number split over two columns (column drift)."""
    broken = _identity_failures(cells)
    if not broken:
        return
    rows: list[tuple[str, list[str]]] = [(f"表三「{t3_row_label(r)}」行", [f"t3.{r}.{c}" for c in T3_COLUMN_NAMES]) for r in T3_ROWS_WITH_TOTAL]
    vocab = vocabulary()["t4"]
    rows += [(f"表四「{name}」", [f"t4.{g}.{c}" for c in (*_T4_PARTS, "total")]) for g, name in zip(vocab["groups"], vocab["group_labels"], strict=True)]
    seen: set[str] = set()
    # a finding's codes are every cell its identity reads: a pair outside one of them leaves it broken
    read_by_broken = [set(codes) for _, codes in broken]
    for where, codes in rows:
        for a, b in zip(codes, codes[1:], strict=False):
            ca, cb = cells.get(a), cells.get(b)
            if not (_single_digit(ca) and _single_digit(cb)) or a in seen or b in seen:
                continue
            joined = 10 * ca.value + cb.value  # type: ignore[union-attr,operator]
            if joined < 10 or not all(a in read or b in read for read in read_by_broken):
                continue
            for into, zero in ((a, b), (b, a)):
                trial = dict(cells)
                trial[into] = Cell(into, joined, str(joined), cells[into].page)
                trial[zero] = Cell(zero, 0, "0", cells[zero].page)
                if _identity_failures(trial):
                    continue
                seen.update((a, b))
                yield Finding(
                    rule="value.split_digits",
                    severity="warning",
                    message=(
                        f"{where}：{describe_cell(a)} 为 {ca.raw}、{describe_cell(b)} 为 {cb.raw}，均为一位数；若二者实为同一个数 {joined}"
                        f"（记入{describe_cell(into)}，数字被拆到相邻两栏，栏位错移），表内全部等式恢复成立"
                    ),
                    codes=[a, b],
                    section=section_of(a),
                    expected=joined,
                    actual=ca.value,  # type: ignore[union-attr]
                    page=ca.page,  # type: ignore[union-attr]
                )
                break
