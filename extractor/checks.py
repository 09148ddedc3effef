"""Checks: rules over one Report. Each rule has a stable id, a severity and a description, and
returns typed findings that name the cells, the expected and the printed value, and the page.

A rule is skipped when any cell it needs was not extracted (a missing row is reported once, by the
interpreter, not again by every identity that uses it). When an identity fails and one of its
cells was printed blank (read as 0), the finding is a warning that the cell was left blank, not an
arithmetic error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field

import regex

from extractor.labels import cell_catalogue, t3_row_label, vocabulary
from extractor.report import Cell, Finding, Report
from extractor.textnorm import han_count, norm

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
    """A check: data (id, default severity, scope, the formula in words, tolerance, when it is
    skipped) plus a small function. `source` says who produces the findings: 'checks' (this
    module, re-run with a user's tolerance), 'parser' (the interpreter / structure stage: a user
    can only switch them off or change their severity) or 'cross' (extractor.cross_checks)."""

    id: str
    severity: str
    scope: str
    description: str
    run: Callable[..., Iterable[Finding]]
    needs_report: bool = False  # the rule reads more of the report than its cells
    tolerance: float | None = None  # None: exact / not applicable; else the allowed difference
    tolerance_unit: str = ""
    skipped: str = ""  # when the rule does not run, in words
    source: str = "checks"
    levels: tuple[str, ...] = field(default=())  # other severities it may give (e.g. warning when a cell is blank)


# the tolerance of the rule being run (set by run_checks from the rule or the user's rules file)
_TOLERANCE: ContextVar[float | None] = ContextVar("tolerance", default=None)


def _tol(default: float = 0.0) -> float:
    value = _TOLERANCE.get()
    return default if value is None else value


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
    if abs(expected - total.value) <= max(_tol(), 1e-9):  # type: ignore[operator]
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
        if abs(left - right) <= max(_tol(), 1e-9):
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


# --------------------------------------------------------------------------------------------------
# narrative arithmetic: percentages and parts the text computes from counts it states itself

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_COUNT = regex.compile(rf"(?P<n>{_NUM})(?P<unit>人次|件|条|个|次|篇|项|份|家|人|例)")
_PERCENT = regex.compile(r"(?P<p>\d+(?:\.\d+)?)%")
_GROWTH = regex.compile(r"增长|下降|减少|增加|提高|提升|降低|同比|环比|上升|增幅|降幅|比上年|较上年|较去年")
_AT_LEAST = regex.compile(r"(?:超过|超|逾|高于|不低于|不少于)$|^(?:以上|多)")
_AT_MOST = regex.compile(r"(?:不足|低于|不到|未满|少于)$|^(?:以下|以内)")
_APPROX = regex.compile(r"(?:约|近|将近|接近|大约)$|^(?:左右)")
PERCENT_NEAR = 2.0  # a computation this close to the stated figure is the one the text meant


def _number(text: str) -> float:
    value = float(text.replace(",", ""))
    return value


def _counts(text: str) -> list[tuple[float, str, int]]:
    """(value, unit, position) of every count the sentence states; years, dates and sums of money excluded."""
    return [(_number(m.group("n")), m.group("unit"), m.start()) for m in _COUNT.finditer(text)]


def check_narrative_percentage(report: Report) -> Iterable[Finding]:
    """A percentage the text states ('网办率达到80%') against the counts of the same sentence it is
    computed from (99942 / 126036 = 79.3 %). Silent when no pair of counts comes near the figure
    (it is computed from something the sentence does not state); info when several pairs do."""
    for sentence in report.sentences:
        text = norm(sentence.text)
        if "%" not in text:
            continue
        counts = _counts(text)
        if len(counts) < 2:
            continue
        for m in _PERCENT.finditer(text):
            stated = float(m.group("p"))
            if stated <= 0 or stated >= 100 or _GROWTH.search(text[max(0, m.start() - 12) : m.start()]):
                continue  # 100 % means 'all' (办结率100%), rarely a ratio of the counts stated; growth rates compare years
            decimals = len(m.group("p").split(".")[1]) if "." in m.group("p") else 0
            half = 0.5 * 10**-decimals
            before, after = text[max(0, m.start() - 4) : m.start()], text[m.end() : m.end() + 2]
            if _APPROX.search(before) or _APPROX.search(after):
                half = max(half, 1.0)
            low, high = stated - half - _tol(), stated + half + _tol()
            if _AT_LEAST.search(before) or _AT_LEAST.search(after):
                high = float("inf")
            elif _AT_MOST.search(before) or _AT_MOST.search(after):
                low = float("-inf")
            candidates: list[tuple[float, str]] = []
            values = {v for v, _, _ in counts}
            for i, (a, unit_a, _) in enumerate(counts):
                for j, (b, unit_b, _) in enumerate(counts):
                    if i == j or unit_a != unit_b or b <= 0:
                        continue
                    if a < b:
                        candidates.append((100 * a / b, f"{_fmt(a)} / {_fmt(b)}"))
                    # two consecutive parts without their whole in the sentence (线上 80 件、线下 20 件)
                    if j == i + 1 and a + b not in values and not any(v > a + b for v in values):
                        candidates.append((100 * a / (a + b), f"{_fmt(a)} / ({_fmt(a)} + {_fmt(b)})"))
            if not candidates or any(low <= c <= high for c, _ in candidates):
                continue
            near = sorted((abs(c - stated), c, how) for c, how in candidates if abs(c - stated) <= PERCENT_NEAR)
            if not near:
                continue
            _, computed, how = near[0]
            quote = _quote(sentence.text, m.group(0))
            where = f"（第 {sentence.page} 页）" if sentence.page else ""
            if len({round(c, 1) for _, c, _ in near}) > 1:  # several readings come near: ambiguous
                ways = "；".join(f"{h} = {c:.1f}%" for _, c, h in near[:3])
                severity = "info"
                message = f"正文「{quote}」所称 {m.group(0)} 与同句数字的各种算法均不一致（{ways}），无法确定算法，请核对{where}"
            else:
                severity = "warning"
                message = f"正文「{quote}」所称 {m.group(0)} 与同句数字不符：{how} = {computed:.1f}%{where}"
            yield Finding(
                rule="narrative.percentage",
                severity=severity,
                message=message,
                section=sentence.section,
                expected=round(computed, 1),
                actual=stated,
                page=sentence.page,
            )


_WHOLE_PARTS = regex.compile(rf"(?P<whole>{_NUM})(?P<unit>人次|件|条|个|次|篇|项|份|家|例)[,:：]?其中[,:：]?(?P<rest>.+)")


def check_narrative_parts(report: Report) -> Iterable[Finding]:
    """'主动公开447条，其中：机构职能3条；部门文件440条…': the parts listed after 其中 cannot add up to
    more than the whole. Parts that add up to less are normal (其中 often names only some); a list
    whose first items add up to the whole and goes on with extras (微博发布183条) is accepted."""
    for sentence in report.sentences:
        text = norm(sentence.text)
        m = _WHOLE_PARTS.search(text)
        if not m:
            continue
        whole, unit = _number(m.group("whole")), m.group("unit")
        rest = regex.split(r"另|此外|同时|累计|结转", m.group("rest"))[0]
        first = _COUNT.search(rest)
        if first and rest[first.end() : first.end() + 1] in (",", "、"):
            rest = regex.split(r"[;；]", rest)[0]  # items separated by commas: a semicolon ends the list
        parts = [v for v, u, _ in _counts(rest) if u == unit]
        if len(parts) < 2 or sum(parts) <= whole + _tol():
            continue
        running = 0.0
        prefix_matches = False
        for v in parts:
            running += v
            if abs(running - whole) <= _tol():
                prefix_matches = True
        if prefix_matches:
            continue
        quote = _quote(sentence.text, m.group("whole"))
        where = f"（第 {sentence.page} 页）" if sentence.page else ""
        ambiguous = any(v > whole for v in parts)
        yield Finding(
            rule="narrative.parts",
            severity="info" if ambiguous else "warning",
            message=(
                f"正文「{quote}」：总数 {_fmt(whole)}{unit}，但“其中”所列各项合计 {_fmt(sum(parts))}{unit}，超过总数"
                + ("（有单项大于总数，可能并非其组成部分，请核对）" if ambiguous else "")
                + where
            ),
            section=sentence.section,
            expected=whole,
            actual=sum(parts),
            page=sentence.page,
        )


def _quote(text: str, around: str, width: int = 36) -> str:
    """A short excerpt of `text` around the first occurrence of `around` (as printed)."""
    flat = " ".join(text.split())
    compact = flat.replace(" ", "")
    i = compact.find(around.replace(",", ""))
    if i < 0:
        i = compact.find(around)
    if i < 0:
        return compact[:width] + ("…" if len(compact) > width else "")
    start = max(0, i - width + len(around))
    return ("…" if start else "") + compact[start : i + len(around) + 4] + ("…" if i + len(around) + 4 < len(compact) else "")


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
        if not decisions or not change or abs(prev + change - decisions) > _tol():  # type: ignore[operator]
            continue
        yield Finding(
            rule="t2.decisions_as_sum",
            severity="info",
            message=(
                f"表二「{label}」：处理决定数量 {_fmt(decisions)} 恰等于 上一年项目数量 {_fmt(prev)} + 本年增/减 {_fmt(change)}；"
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
    limit = _tol(FEE_SMALL_UNIT)
    if "元" in raw and "万元" not in raw:
        why = f"单元格写作「{cell.raw}」，以元为单位"
    elif cell.value >= limit and _decimals(raw) <= 2:  # 万元 converted from 元 shows 4+ decimals
        why = f"金额 {_fmt(cell.value)} 万元即 {cell.value / 10000:g} 亿元，疑以元填报"
    else:
        return
    # a people's government reports the fees of its whole area: a large 万元 figure is plausible there
    aggregate = report.agency is None or report.agency.endswith("人民政府")
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
    m = regex.search(r"\.(\d+)", raw)
    return len(m.group(1)) if m else 0


# --------------------------------------------------------------------------------------------------
# split digits and column drift


def _identity_failures(cells: dict[str, Cell]) -> set[tuple[str, tuple[str, ...]]]:
    out = set()
    for run in (check_t3_balance, check_t3_row_sum, check_t3_column_sum, check_t3_other_split, check_t4_group_total):
        for f in run(cells):
            out.add((f.rule, tuple(f.codes)))
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
    rows += [(f"表四「{name}」", [f"t4.{g}.{c}" for c in ("upheld", "corrected", "other", "pending", "total")]) for g, name in zip(vocab["groups"], vocab["group_labels"], strict=True)]
    seen: set[str] = set()
    for where, codes in rows:
        for a, b in zip(codes, codes[1:], strict=False):
            ca, cb = cells.get(a), cells.get(b)
            if not (_single_digit(ca) and _single_digit(cb)) or a in seen or b in seen:
                continue
            joined = 10 * ca.value + cb.value  # type: ignore[union-attr,operator]
            if joined < 10:
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
                        f"{where}：{_describe(a)} 为 {ca.raw}、{_describe(b)} 为 {cb.raw}，均为一位数；若二者实为同一个数 {joined}"
                        f"（记入{_describe(into)}，数字被拆到相邻两栏，栏位错移），表内全部等式恢复成立"
                    ),
                    codes=[a, b],
                    section=_section_of(a),
                    expected=joined,
                    actual=ca.value,  # type: ignore[union-attr]
                    page=ca.page,  # type: ignore[union-attr]
                )
                break


# --------------------------------------------------------------------------------------------------
# structure

_NUMERALS = "一二三四五六七八九十"
_HEADING_NUMERAL = regex.compile(r"^[#*\s|｜丨]*(?:第)?([一二三四五六七八九十])(?:、|\.|．|,|，|部分|章|节|\s)")
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
    if han_count(text) > int(_tol(4)):
        return
    yield Finding(
        rule="structure.empty_problems",
        severity="warning",
        message="第五部分「存在的主要问题及改进情况」" + (f"仅写「{text.strip()}」" if text.strip() else "没有内容") + "，未说明存在的问题和改进情况",
        section="problems",
        page=section.page,
    )


_PLACEHOLDER = regex.compile(r"[(（]?(?:文字描述|文字说明|此处填写[^)）]*|略)[)）]?[。.]?")


_NOTHING = regex.compile(r"(?:本(?:年度|年|机关|单位|局|委|部门))?(?:无|暂无|没有)(?:其他)?(?:需要|需)?(?:报告|说明)?(?:的)?(?:其他)?(?:事项)?")


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
            + f"，而表二「行政事业性收费」本年收费金额为 {_fmt(fee.value)} 万元；如收取了信息处理费，应在第六部分说明"
        ),
        codes=["t2.fees.amount"],
        section="other",
        page=section.page,
    )


_PERIOD = regex.compile(r"统计期限?(?:为|是|自|从)?(\d{4})年1月1日(?:起)?(?:至|到|-|—|~)(\d{4})年12月31日")
_OPENING_YEAR = regex.compile(r"^(\d{4})年度?[,，]")


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
    blank = sum(1 for c in cells if _blank(c))
    share = blank / len(cells)
    if blank == len(cells) or share < _tol(MOSTLY_BLANK):
        return
    yield Finding(
        rule="structure.mostly_blank",
        severity="info",
        message=f"统计表 {len(cells)} 个数值单元格中 {blank} 个留空（{share:.0%}），几乎未填写；留空按 0 计，请确认是否漏填",
        codes=[c.code for c in cells if not _blank(c)][:20],
    )


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
    Rule("structure.empty_table", "error", "结构", "统计表数值单元格全部留空：全部表格都空为 error，单个表为 warning", _reported_elsewhere, source="parser", levels=("warning",)),
    Rule("structure.missing_rows", "error", "结构", "表三应印出格式规定的全部行", _reported_elsewhere, source="parser"),
    Rule("structure.incomplete_row", "warning", "结构", "一行的数值少于栏数", _reported_elsewhere, source="parser"),
    Rule("structure.duplicate_row", "warning", "结构", "同一行印出两次", _reported_elsewhere, source="parser"),
    Rule("structure.unplaced_rows", "warning", "结构", "数值行没有可用的标签、无法定位", _reported_elsewhere, source="parser"),
    Rule("structure.subtotal_row", "info", "结构", "表三中格式之外的分组小计行（如「（三）不予公开」带数值）不计入", _reported_elsewhere, source="parser"),
    Rule("structure.blank_row", "warning", "结构", "无框线且零值留空的表三中，只印出标签的行按空白（0）读取", _reported_elsewhere, source="parser"),
    Rule("structure.pre2019", "info", "结构", "2019 年以前的报告没有统一表格格式，不提取统计表", _reported_elsewhere, source="parser"),
    Rule("document.note", "info", "文件", "读取文件时的说明（如使用 OCR）", _reported_elsewhere, source="parser"),
    Rule("ocr.low_confidence", "warning", "扫描件", "OCR 读出的数值置信度低于 0.9：注明页码、表、行、列与读出的文字，请对照原件核对", _reported_elsewhere, source="parser", skipped="非 OCR 页"),
    Rule("ocr.unreadable", "warning", "扫描件", "OCR 读出的数值单元格文字不是数字（不按 0 计）", _reported_elsewhere, source="parser", skipped="非 OCR 页"),
]


def rule_by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in RULES}


def run_checks(report: Report, rules: list[Rule] | None = None, config: object | None = None) -> list[Finding]:
    """Run the rules of this module over a report. `config` (extractor.rules_config.RulesConfig)
    switches rules off and changes tolerances and severities."""
    cells = report.cell_map()
    findings: list[Finding] = []
    for rule in rules or RULES:
        if rule.source != "checks":
            continue
        if config is not None and not config.enabled(rule.id):  # type: ignore[attr-defined]
            continue
        tolerance = config.tolerance(rule) if config is not None else rule.tolerance  # type: ignore[attr-defined]
        token = _TOLERANCE.set(tolerance)
        try:
            produced = list(rule.run(report) if rule.needs_report else rule.run(cells))
        finally:
            _TOLERANCE.reset(token)
        if config is not None:
            produced = config.adjust(produced)  # type: ignore[attr-defined]
        findings.extend(produced)
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
