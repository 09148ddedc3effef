"""Shared pieces of the rules over one report: the Rule record (data plus a small function), the
tolerance of the rule being run, blank-cell and identity helpers, and readable cell names.

A rule is skipped when any cell it needs was not extracted (a missing row is reported once, by the
interpreter, not again by every identity that uses it). When an identity fails and one of its
cells was printed blank (read as 0), the finding is a warning that the cell was left blank, not an
arithmetic error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field

from extractor.lexicon.labels import cell_catalogue, rule_title, vocabulary
from extractor.report import Cell, Finding

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
    can only switch them off or change their severity) or 'cross' (extractor.checks.cross)."""

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

    @property
    def title(self) -> str:
        """The short Chinese title people read (lexicon/data/wording.toml)."""
        return rule_title(self.id)


# the tolerance of the rule being run (set by run_checks from the rule or the user's rules file)
TOLERANCE: ContextVar[float | None] = ContextVar("tolerance", default=None)


def current_tolerance(default: float = 0.0) -> float:
    value = TOLERANCE.get()
    return default if value is None else value


def is_blank(cell: Cell) -> bool:
    return cell.raw.strip() in ("", "-", "—", "/", "无", "－", "--", "——") and not cell.derived


def fmt_number(value: float | int | None) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def identity_finding(
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
    if abs(expected - total.value) <= max(current_tolerance(), 1e-9):  # type: ignore[operator]
        return None
    blank_parts = [c for c in needed if is_blank(cells[c])]
    if blank_parts and is_blank(total):
        severity = "warning"
        message = f"{what}：总计栏留空（按 0 计），而各项之和为 {fmt_number(expected)}"
    elif blank_parts:
        severity = "warning"
        message = f"{what}：总计 {fmt_number(total.value)} ≠ 各项之和 {fmt_number(expected)}；有单元格留空（按 0 计），请核对"
    else:
        severity = "error"
        message = f"{what}：总计 {fmt_number(total.value)} ≠ 各项之和 {fmt_number(expected)}"
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


def section_of(code: str) -> str:
    return {"t2": "active", "t3": "requests", "t4": "review"}.get(code.split(".")[0], "")


def describe_group(codes: list[str]) -> str:
    """Readable name of a sum of cells: 表三「（三）不予公开」各项之和, 表三「（一）予以公开」与「（二）部分公开」之和."""
    catalogue = cell_catalogue()
    rows = [catalogue.get(code, {}) for code in codes]
    table = {"t2": "表二", "t3": "表三", "t4": "表四"}.get(rows[0].get("table", ""), "")
    parts: list[str] = []
    for row in rows:
        group = row.get("group", "")
        subgroup = group.startswith("（") or row.get("table") == "t4"
        members = [r for r in rows if r.get("group") == group]
        label = group if subgroup and (len(members) > 1 or not row.get("row")) else short_label(row.get("row") or group)
        if label not in parts:
            parts.append(label)
    if len(parts) == 1:
        return f"{table}「{parts[0]}」各项之和"
    return table + "与".join(f"「{p}」" for p in parts) + "之和"


def short_label(label: str) -> str:
    """'（二）部分公开（区分处理的，只计这一情形，不计其他情形）' → '（二）部分公开'."""
    return re.sub(r"（[^（）]{6,}）$", "", label)


def describe_cell(code: str) -> str:
    """Readable Chinese name of a cell: 表三「（七）总计」自然人."""
    row = cell_catalogue().get(code)
    if row is None:
        return code
    table = {"t2": "表二", "t3": "表三", "t4": "表四"}[row["table"]]
    if row["table"] == "t4":
        return f"{table}「{row['group']}」{row['column']}"
    label = row["row"] or row["group"]
    return f"{table}「{label}」{row['column']}"
