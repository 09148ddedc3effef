"""Checks across reports: the same agency over consecutive years, and reports that look copied.

Pure functions over `Report`s (no database), so they can be tested and reused by any front end.
A report carries no agency key of its own; the caller may pass one (the database's, with the user's
aliases applied), else `storage.agency_key` of the printed name is used.

Rules (FORMAT.md §3.4):
- `cross_year.carry_over` (error): 表三 二、上年结转 of year Y+1 = 四、结转下年度继续办理 of year Y, per column.
- `cross_year.in_force` (warning, soft): 2021-template 表二 现行有效件数(Y) = (Y−1) + 本年制发(Y) − 本年废止(Y).
- `cross_report.duplicate_year` (warning): one agency, one year, two different files.
- `cross_report.identical_tables` (warning): a table identical to the same agency's previous year, or a whole
  set of tables identical to another agency's (copy-paste, 内容雷同). All-zero tables are ignored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from extractor.report import Finding, Report
from extractor.storage import agency_key as _default_key

T3_COLUMNS = ("natural_person", "business", "research", "nonprofit", "legal_services", "other_org", "total")
T3_COLUMN_NAMES = {
    "natural_person": "自然人",
    "business": "商业企业",
    "research": "科研机构",
    "nonprofit": "社会公益组织",
    "legal_services": "法律服务机构",
    "other_org": "其他",
    "total": "总计",
}
TABLE_NAMES = {"t2": "表二", "t3": "表三", "t4": "表四"}
IN_FORCE_KINDS = {"rules": "规章", "normative": "行政规范性文件"}
# a table needs this many non-zero cells before "identical" means anything; fewer is coincidence
MIN_NONZERO_SAME_AGENCY = 2
MIN_NONZERO_OTHER_AGENCY = 4


@dataclass
class CrossFinding(Finding):
    """A Finding that belongs to one report (`path`/`sha256`) and names the other one involved."""

    path: str = ""
    sha256: str = ""
    agency_key: str | None = None
    year: int | None = None
    other_path: str | None = None
    other_sha256: str | None = None
    other_year: int | None = None


KeyFn = Callable[[Report], str | None]


def cross_report(reports: Iterable[Report], agency_key: KeyFn | None = None) -> list[CrossFinding]:
    """All cross-report findings over a set of reports, in a stable order."""
    key_of = agency_key or (lambda r: _default_key(r.agency))
    keyed = [(key_of(r), r) for r in reports]
    groups: dict[str, list[Report]] = defaultdict(list)
    for key, rep in keyed:
        if key and rep.year is not None:
            groups[key].append(rep)
    out: list[CrossFinding] = []
    for key in sorted(groups):
        out.extend(agency_findings(key, groups[key]))
    out.extend(identical_across_agencies([(k, r) for k, r in keyed if k]))
    return out


def _name(rep: Report) -> str:
    return rep.agency or rep.path


def _order(rep: Report) -> tuple:
    return (rep.year or 0, rep.path, rep.sha256)


def agency_findings(key: str, reports: list[Report]) -> list[CrossFinding]:
    """Rules within one agency (one key): carry-over, in-force stock, duplicate years, copied tables."""
    by_year: dict[int, list[Report]] = defaultdict(list)
    for rep in sorted(reports, key=_order):
        if rep.year is not None:
            by_year[rep.year].append(rep)
    # once per report, not per pair: an agency-year may hold many files
    values = {id(r): r.values() for r in reports}
    tables = {id(r): {t: table_values(r, t) for t in TABLE_NAMES} for r in reports}
    out: list[CrossFinding] = []
    for year in sorted(by_year):
        same = by_year[year]
        first = same[0]
        for rep in same[1:]:
            if rep.sha256 == first.sha256:
                continue
            out.append(
                CrossFinding(
                    rule="cross_report.duplicate_year",
                    severity="warning",
                    message=f"{_name(rep)} {year}年有两份不同的报告：{rep.path} 与 {first.path}",
                    **_link(key, rep, first),
                )
            )
        for prev in by_year.get(year - 1, []):
            for cur in same:
                pv, cv = values[id(prev)], values[id(cur)]
                out.extend(_carry_over(key, prev, cur, pv, cv))
                out.extend(_in_force(key, prev, cur, pv, cv))
                out.extend(_identical_to_last_year(key, prev, cur, tables[id(prev)], tables[id(cur)]))
    return out


def _link(key: str | None, rep: Report, other: Report) -> dict:
    return {
        "path": rep.path,
        "sha256": rep.sha256,
        "agency_key": key,
        "year": rep.year,
        "other_path": other.path,
        "other_sha256": other.sha256,
        "other_year": other.year,
    }


def _carry_over(key: str, prev: Report, cur: Report, pv: dict, cv: dict) -> list[CrossFinding]:
    out = []
    for col in T3_COLUMNS:
        out_code, in_code = f"t3.carried_over.{col}", f"t3.carried_in.{col}"
        expected, actual = pv.get(out_code), cv.get(in_code)
        if expected is None or actual is None or expected == actual:
            continue
        out.append(
            CrossFinding(
                rule="cross_year.carry_over",
                severity="error",
                message=(
                    f"{_name(cur)} 表三（{T3_COLUMN_NAMES[col]}）：{cur.year}年 二、上年结转 {actual}，"
                    f"但{prev.year}年 四、结转下年度继续办理 {expected}"
                ),
                codes=[in_code, out_code],
                section="requests",
                expected=expected,
                actual=actual,
                **_link(key, cur, prev),
            )
        )
    return out


def _in_force(key: str, prev: Report, cur: Report, pv: dict, cv: dict) -> list[CrossFinding]:
    if prev.template != "2021" or cur.template != "2021":
        return []  # 2019 表二 has 对外公开总数量, a different concept (FORMAT.md §3.3)
    out = []
    for kind, label in IN_FORCE_KINDS.items():
        codes = [f"t2.{kind}.in_force", f"t2.{kind}.issued", f"t2.{kind}.repealed"]
        last, now, issued, repealed = pv.get(codes[0]), cv.get(codes[0]), cv.get(codes[1]), cv.get(codes[2])
        if None in (last, now, issued, repealed):
            continue
        expected = last + issued - repealed  # type: ignore[operator]
        if expected == now:
            continue
        out.append(
            CrossFinding(
                rule="cross_year.in_force",
                severity="warning",
                message=(
                    f"{_name(cur)} 表二 {label}：{cur.year}年现行有效件数 {now}，但{prev.year}年 {last}"
                    f" + 本年制发 {issued} − 本年废止 {repealed} = {expected}（修订、清理可使此式不成立）"
                ),
                codes=codes,
                section="active",
                expected=expected,
                actual=now,
                **_link(key, cur, prev),
            )
        )
    return out


def table_values(rep: Report, table: str | None = None) -> tuple[tuple[str, float], ...]:
    """Sorted (code, value) of a report's statistics cells, of one table or all three."""
    prefixes = (f"{table}.",) if table else tuple(f"{t}." for t in TABLE_NAMES)
    return tuple(sorted((c.code, c.value) for c in rep.cells if c.code.startswith(prefixes) and c.value is not None))


def _nonzero(values: tuple[tuple[str, float], ...]) -> int:
    return sum(1 for _, v in values if v)


def _identical_to_last_year(
    key: str, prev: Report, cur: Report, prev_tables: dict[str, tuple], cur_tables: dict[str, tuple]
) -> list[CrossFinding]:
    out = []
    for table, tname in TABLE_NAMES.items():
        a, b = prev_tables[table], cur_tables[table]
        if not a or a != b or _nonzero(a) < MIN_NONZERO_SAME_AGENCY:
            continue
        out.append(
            CrossFinding(
                rule="cross_report.identical_tables",
                severity="warning",
                message=f"{_name(cur)} {cur.year}年{tname}与{prev.year}年完全相同（{len(a)} 个单元格），疑为照搬上年",
                codes=[code for code, _ in a],
                **_link(key, cur, prev),
            )
        )
    return out


def identical_across_agencies(keyed: Iterable[tuple[str, Report]]) -> list[CrossFinding]:
    """Reports of different agencies whose tables are all identical: each later one names the first."""
    groups: dict[tuple, list[tuple[str, Report]]] = defaultdict(list)
    for key, rep in keyed:
        values = table_values(rep)
        if _nonzero(values) >= MIN_NONZERO_OTHER_AGENCY:
            groups[values].append((key, rep))
    out = []
    for values, members in groups.items():
        if len({k for k, _ in members}) < 2:
            continue
        members.sort(key=lambda kr: (_order(kr[1]), kr[0]))
        first_key, first = members[0]
        for key, rep in members[1:]:
            if key == first_key:
                continue
            out.append(
                CrossFinding(
                    rule="cross_report.identical_tables",
                    severity="warning",
                    message=(
                        f"{_name(rep)} {rep.year}年的统计表与{_name(first)} {first.year}年的完全相同"
                        f"（{len(values)} 个单元格），疑为内容雷同"
                    ),
                    codes=[code for code, _ in values],
                    **_link(key, rep, first),
                )
            )
    out.sort(key=lambda f: (f.year or 0, f.path, f.sha256))
    return out
