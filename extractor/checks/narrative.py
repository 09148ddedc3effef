"""Narrative rules: the numbers the text states, against the tables and against each other
(percentages, 「其中」 parts).
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

from extractor.checks.base import current_tolerance, describe_cell, describe_group, fmt_number
from extractor.lexicon.textnorm import norm
from extractor.report import Finding, Report


def check_narrative(report: Report) -> Iterable[Finding]:
    """Numbers the text states ('受理政府信息公开申请21件') against the cells they describe."""
    cells = report.cell_map()
    for statement in report.statements:
        if any(code not in cells or cells[code].value is None for code in statement.codes):
            continue
        printed = sum(cells[code].value for code in statement.codes)  # type: ignore[misc]
        if abs(printed - statement.value) < 1e-9:
            continue
        what = describe_cell(statement.codes[0]) if len(statement.codes) == 1 else describe_group(statement.codes)
        where = f"（第 {statement.page} 页）" if statement.page else ""
        yield Finding(
            rule="narrative.table_mismatch",
            severity="warning",
            message=f"正文称「…{statement.text}…」为 {fmt_number(statement.value)}，但{what}为 {fmt_number(printed)}{where}",
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
            low, high = stated - half - current_tolerance(), stated + half + current_tolerance()
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
                        candidates.append((100 * a / b, f"{fmt_number(a)} / {fmt_number(b)}"))
                    # two consecutive parts without their whole in the sentence (线上 80 件、线下 20 件)
                    if j == i + 1 and a + b not in values and not any(v > a + b for v in values):
                        candidates.append((100 * a / (a + b), f"{fmt_number(a)} / ({fmt_number(a)} + {fmt_number(b)})"))
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
        if len(parts) < 2 or sum(parts) <= whole + current_tolerance():
            continue
        running = 0.0
        prefix_matches = False
        for v in parts:
            running += v
            if abs(running - whole) <= current_tolerance():
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
                f"正文「{quote}」：总数 {fmt_number(whole)}{unit}，但“其中”所列各项合计 {fmt_number(sum(parts))}{unit}，超过总数"
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
