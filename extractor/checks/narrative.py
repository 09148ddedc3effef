"""Narrative rules: the numbers the text states, against the tables and against each other
(percentages, 「其中」 parts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from extractor.checks.base import current_tolerance, describe_cell, describe_group, fmt_number, is_blank
from extractor.lexicon.agency import agency_level
from extractor.lexicon.textnorm import norm
from extractor.report import Finding, Report, Statement

SCOPE_NOTES = {
    "part": "正文所述为其中一部分",
    "on_behalf": "正文所述为代其他机关办理的数量",
    "aggregate": "正文所述为多个机关合计",
    "area": "正文所述为全区（全市、全县）数量，本报告为部门报告",
    "own": "正文所述为本机关（本级）数量，本报告为区域政府报告",
    "includes_carried_in": "正文所述含上年结转",
}  # new_only: the agency's own figure, compared as it is


def _scope_note(statement: Statement, level: str | None, values: dict[str, float]) -> str | None:
    """Why a stated figure that differs from its cell is about another scope (None: same scope)."""
    scope = statement.scope
    if scope == "area" and level == "area":
        scope = ""  # a government speaking of its own area
    if scope == "own" and level != "area":
        scope = ""
    if statement.codes == ["t3.new.total"] and scope != "new_only":
        new, carried = values.get("t3.new.total"), values.get("t3.carried_in.total")
        if new is not None and carried and abs(new + carried - statement.value) < 1e-9:
            return f"正文所述含上年结转：本年新收 {fmt_number(new)} + 上年结转 {fmt_number(carried)} = {fmt_number(statement.value)}"
    if scope == "includes_carried_in":
        return None  # it says it includes the carry-over, and the sum does not fit: a real mismatch
    return SCOPE_NOTES.get(scope)


def check_narrative(report: Report) -> Iterable[Finding]:
    """Numbers the text states ('受理政府信息公开申请21件') against the cells they describe. A figure
    the words place in another scope (其中, 代表县政府, 全区 in a department's report, 含上年结转) is a
    note (info), not a warning."""
    cells = report.cell_map()
    values = {c.code: c.value for c in report.cells if c.value is not None}
    level = agency_level(report.agency) if report.agency else None
    said: dict[tuple[tuple[str, ...], float], list[Statement]] = {}  # one problem, however often the text repeats it
    for statement in report.statements:
        if any(code not in cells or cells[code].value is None for code in statement.codes):
            continue
        printed = sum(cells[code].value for code in statement.codes)  # type: ignore[misc]
        if abs(printed - statement.value) < 1e-9:
            continue
        said.setdefault((tuple(statement.codes), statement.value), []).append(statement)
    for (codes, _value), statements in said.items():
        # a warning when any of the sentences states it as the agency's own figure; else a note
        statement = next((st for st in statements if _scope_note(st, level, values) is None), statements[0])
        printed = sum(cells[code].value for code in codes)  # type: ignore[misc]
        what = describe_cell(codes[0]) if len(codes) == 1 else describe_group(list(codes))
        where = f"（第 {statement.page} 页）" if statement.page else ""
        blank = all(is_blank(cells[code]) for code in codes)
        shown = "留空（按 0 计）" if blank and not printed else f"为 {fmt_number(printed)}"
        note = _scope_note(statement, level, values)
        again = f"（正文另有 {len(statements) - 1} 处相同表述）" if len(statements) > 1 else ""
        message = f"正文称「…{statement.text}…」为 {fmt_number(statement.value)}{again}，但{what}{shown}{where}"
        yield Finding(
            rule="narrative.table_mismatch",
            severity="info" if note else "warning",
            message=f"{message}；{note}，口径不同，不作为不符" if note else message,
            codes=list(codes),
            section=statement.section,
            expected=printed,
            actual=statement.value,
            page=statement.page,
        )


# --------------------------------------------------------------------------------------------------
# narrative arithmetic: percentages and parts the text computes from counts it states itself

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_COUNT = re.compile(rf"(?P<n>{_NUM})(?P<unit>人次|件|条|个|次|篇|项|份|家|人|例)")
_PERCENT = re.compile(r"(?P<p>\d+(?:\.\d+)?)%")
_GROWTH = re.compile(r"增长|下降|减少|增加|提高|提升|降低|同比|环比|上升|增幅|降幅|比上年|较上年|较去年")
# a percentage right after its count: '不予处理12件(4.1%)', '予以公开180件,占61.2%', '12件,占比约4.1%'
_ATTACHED = re.compile(rf"(?P<n>{_NUM})(?P<unit>件|条|个|次|项|份|例)[,:(]?(?:占|占比|比例为|比例|约占|占总数的?|占全部的?|占申请总数的?)?(?:为)?$")
_AT_LEAST = re.compile(r"(?:超过|超|逾|高于|不低于|不少于)$|^(?:以上|多)")
_AT_MOST = re.compile(r"(?:不足|低于|不到|未满|少于)$|^(?:以下|以内)")
_ROUNDED = re.compile(r"(?:约|近|将近|接近|大约|达到|达|约为|超过|逾)$|^(?:左右|以上)")
PERCENT_NEAR = 2.0  # a computation this close to the stated figure is the one the text meant
TOTAL_CODES = ("t3.new.total", "t3.total.total")  # the wholes a share of requests is taken of


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _counts(text: str) -> list[tuple[float, str, int]]:
    """(value, unit, position) of every count the sentence states; years, dates and sums of money excluded."""
    return [(_number(m.group("n")), m.group("unit"), m.start()) for m in _COUNT.finditer(text)]


@dataclass(frozen=True)
class Claim:
    """A percentage as printed and the ranges it allows: `exact` by its printed precision (79.3 % is
    79.25–79.35), `loose` by the rounding its words admit (达到80% may be 75–85: 约, 近, 达到, 超过,
    以上, 左右, and a whole figure ending in 0)."""

    stated: float
    exact: tuple[float, float]
    loose: tuple[float, float]


def read_claim(printed: str, before: str, after: str, tolerance: float = 0.0) -> Claim:
    """The claim of a printed percentage ('80') with the words right before and after it."""
    stated = float(printed)
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    half = 0.5 * 10**-decimals + tolerance
    low, high = stated - half, stated + half
    if _AT_LEAST.search(before) or _AT_LEAST.search(after):
        high = float("inf")
    elif _AT_MOST.search(before) or _AT_MOST.search(after):
        low = float("-inf")
    loose_half = half
    if _ROUNDED.search(before) or _ROUNDED.search(after):
        loose_half = max(half, 1.0)
    if decimals == 0 and stated % 10 == 0:
        loose_half = max(loose_half, 5.0)  # 80 % may be a figure rounded to tens
    loose = (min(low, stated - loose_half), max(high, stated + loose_half))
    return Claim(stated, (low, high), loose)


def _stated_totals(report: Report) -> list[tuple[float, str]]:
    """The wholes a share of requests may be taken of: 新收, 办结, 新收 + 上年结转, as the text
    states them and as the table prints them."""
    values = report.values()
    out: list[tuple[float, str]] = []
    for code in TOTAL_CODES:
        if isinstance(values.get(code), int | float) and values[code]:
            out.append((float(values[code]), describe_cell(code)))  # type: ignore[arg-type]
    new, carried = values.get("t3.new.total"), values.get("t3.carried_in.total")
    if isinstance(new, int | float) and isinstance(carried, int | float) and carried:
        out.append((float(new + carried), "本年新收 + 上年结转"))
    for st in report.statements:
        if st.codes and st.codes[0] in TOTAL_CODES and len(st.codes) == 1 and st.value:
            out.append((float(st.value), f"正文所称{describe_cell(st.codes[0])}"))
    return out


@dataclass(frozen=True)
class Reading:
    """One way a percentage may have been computed: its value, the computation in words, and whether
    its base is the whole the sentence itself states before the count (其中 … 占 …)."""

    value: float
    how: str
    explicit: bool = False


def _candidates(text: str, at: int, counts: list[tuple[float, str, int]], totals: list[tuple[float, str]]) -> list[Reading]:
    """What a percentage at `at` may be computed from: its own count over the sentence's larger counts
    and the stated totals (a share), else every pair of the sentence's counts (a rate)."""
    window = max(0, at - 16)
    attached = _ATTACHED.search(text[window:at])
    out: list[Reading] = []
    if attached:
        part, unit, where = _number(attached.group("n")), attached.group("unit"), window + attached.start()
        for b, u, pos in counts:
            if u == unit and b > part:
                out.append(Reading(100 * part / b, f"{fmt_number(part)} / {fmt_number(b)}", explicit=pos < where))
        if unit == "件":
            out += [Reading(100 * part / b, f"{fmt_number(part)} / {fmt_number(b)}（{how}）") for b, how in totals if b >= part > 0 or b > part]
        return out
    values = {v for v, _, _ in counts}
    for i, (a, unit_a, _) in enumerate(counts):
        for j, (b, unit_b, _) in enumerate(counts):
            if i == j or unit_a != unit_b or b <= 0:
                continue
            if a < b:
                out.append(Reading(100 * a / b, f"{fmt_number(a)} / {fmt_number(b)}"))
            # two consecutive parts without their whole in the sentence (线上 80 件、线下 20 件)
            if j == i + 1 and a + b not in values and not any(v > a + b for v in values):
                out.append(Reading(100 * a / (a + b), f"{fmt_number(a)} / ({fmt_number(a)} + {fmt_number(b)})"))
    return out


def check_narrative_percentage(report: Report) -> Iterable[Finding]:
    """A percentage the text states against what it is computed from. A share printed after its count
    ('不予处理12件（4.1%）') is that count over a whole: the sentence's larger counts and the totals the
    report states (办结, 受理, 新收 + 上年结转) are all tried; a rate ('网办率达到80%') over the pairs of
    the sentence's counts. Silent when a base fits within the printed precision, or when nothing
    comes near (it is computed from something the report does not state); info when only the rounding
    its words admit explains it (达到80% for 79.3 %) or when several readings come near."""
    totals = _stated_totals(report)
    for sentence in report.sentences:
        text = norm(sentence.text)
        if "%" not in text:
            continue
        counts = _counts(text)
        for m in _PERCENT.finditer(text):
            stated = float(m.group("p"))
            if stated <= 0 or stated >= 100 or _GROWTH.search(text[max(0, m.start() - 12) : m.start()]):
                continue  # 100 % means 'all' (办结率100%), rarely a ratio of the counts stated; growth rates compare years
            before, after = text[max(0, m.start() - 4) : m.start()], text[m.end() : m.end() + 2]
            claim = read_claim(m.group("p"), before, after, current_tolerance())
            candidates = _candidates(text, m.start(), counts, totals)
            if not candidates or any(claim.exact[0] <= c.value <= claim.exact[1] for c in candidates):
                continue
            reach = max(PERCENT_NEAR, stated - claim.loose[0])
            near = sorted((abs(c.value - stated), c.value, c.how) for c in candidates if abs(c.value - stated) <= reach)
            explicit = sorted((abs(c.value - stated), c.value, c.how) for c in candidates if c.explicit)
            if not near and explicit:
                near = explicit[:1]  # the sentence states the whole itself ('受理300件，其中…占75.5%'): no base fits
            if not near:
                continue
            _, computed, how = near[0]
            quote = _quote(sentence.text, m.group(0))
            where = f"（第 {sentence.page} 页）" if sentence.page else ""
            rounded = [(c, h) for _, c, h in near if claim.loose[0] <= c <= claim.loose[1]]
            if rounded:
                computed, how = rounded[0]
                severity = "info"
                message = f"正文「{quote}」所称 {m.group(0)} 为约数：{how} = {computed:.1f}%，在其取整范围内{where}"
            elif len({round(c, 1) for _, c, _ in near}) > 1:  # several readings come near: ambiguous
                ways = "；".join(f"{h} = {c:.1f}%" for _, c, h in near[:3])
                severity = "info"
                message = f"正文「{quote}」所称 {m.group(0)} 与各种算法均不一致（{ways}），无法确定算法，请核对{where}"
            else:
                severity = "warning"
                message = f"正文「{quote}」所称 {m.group(0)} 与所依据的数字不符：{how} = {computed:.1f}%{where}"
            yield Finding(
                rule="narrative.percentage",
                severity=severity,
                message=message,
                section=sentence.section,
                expected=round(computed, 1),
                actual=stated,
                page=sentence.page,
            )


_WHOLE_PARTS = re.compile(rf"(?P<whole>{_NUM})(?P<unit>人次|件|条|个|次|篇|项|份|家|例)[,:：]?其中[,:：]?(?P<rest>.+)")


def check_narrative_parts(report: Report) -> Iterable[Finding]:
    """'主动公开447条，其中：机构职能3条；部门文件440条…': the parts listed after 其中 cannot add up to
    more than the whole. Parts that add up to less are normal (其中 often names only some); a list
    where some of the items add up to the whole (extras, or a category inside another) is accepted."""
    for sentence in report.sentences:
        text = norm(sentence.text)
        m = _WHOLE_PARTS.search(text)
        if not m:
            continue
        whole, unit = _number(m.group("whole")), m.group("unit")
        rest = re.split(r"另|此外|同时|累计|结转", m.group("rest"))[0]
        first = _COUNT.search(rest)
        if first and rest[first.end() : first.end() + 1] in (",", "、"):
            rest = re.split(r"[;；]", rest)[0]  # items separated by commas: a semicolon ends the list
        parts = [v for v, u, _ in _counts(rest) if u == unit]
        if len(parts) < 2 or sum(parts) <= whole + current_tolerance():
            continue
        if _some_add_up(parts, whole, current_tolerance()):
            continue
        quote = _quote(sentence.text, m.group("whole"))
        where = f"（第 {sentence.page} 页）" if sentence.page else ""
        ambiguous = any(v > whole for v in parts)
        yield Finding(
            rule="narrative.parts",
            severity="info" if ambiguous else "warning",
            message=(
                f"正文「{quote}」：总数 {fmt_number(whole)}{unit}，但“其中”所列各项合计 {fmt_number(sum(parts))}{unit}，超过总数"
                + ("（有单项大于总数，可能并非其组成部分，请核对）" if ambiguous else "")
                + where
            ),
            section=sentence.section,
            expected=whole,
            actual=sum(parts),
            page=sentence.page,
        )


def _some_add_up(parts: list[float], whole: float, tolerance: float) -> bool:
    """Whether some of the parts (two or more) make the whole: the list goes on with extras
    (微博发布183条) or names a category inside another (解读类信息 among 政务信息), so the sum of all
    says nothing. Subset sums over at most 16 parts (65536 subsets: cheap)."""
    parts = parts[:16]
    sums = {0.0: 0}
    for v in parts:
        for total, n in list(sums.items()):
            sums.setdefault(total + v, n + 1)
    return any(n >= 2 and abs(total - whole) <= tolerance for total, n in sums.items())


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
