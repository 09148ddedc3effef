"""Checks across reports: the same agency over consecutive years, and reports that look copied.

Pure functions over `Report`s (no database), so they can be tested and reused by any front end.
A report carries no agency key of its own; the caller may pass one (the database's, with the user's
aliases applied), else `lexicon.agency.agency_key` of the printed name is used.

Rules (FORMAT.md §3.4):
- `cross_year.carry_over` (error): 表三 二、上年结转 of year Y+1 = 四、结转下年度继续办理 of year Y, per column.
- `cross_year.in_force` (warning, soft): 2021-template 表二 现行有效件数(Y) = (Y−1) + 本年制发(Y) − 本年废止(Y).
- `cross_report.duplicate_year` (warning): copies of one agency-year whose numbers differ (one finding
  naming every file); the other rules see only the canonical copy of each agency-year.
- `cross_report.identical_tables` (warning): a table identical to the same agency's previous year, or a whole
  set of tables identical to another agency's (copy-paste, 内容雷同). All-zero tables are ignored.
- `cross_year.jump` (info): a main count grows beyond ×5 or falls below ×0.2 from one year to the next.
- `cross_year.reused_text` (warning ≥ 60 %, info ≥ 30 %): share of this year's substantive sentences that
  repeat last year's (numbers masked; sentences shared by ≥ 3 agencies are boilerplate and excluded).
- `cross_report.identical_text` (warning): ≥ 60 % of the substantive sentences equal to another agency's.
- `cross_agency.outlier` (info): a main count far outside its peer group (same year, same kind of agency).
- `cross_agency.aggregate` (info): a people's government report whose text speaks for the whole area
  (全区/全市/全县…) against the sum of its departments' reports in the set, naming departments missing.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from extractor.checks.base import describe_cell
from extractor.lexicon.agency import agency_key as _default_key
from extractor.lexicon.agency import agency_level, area_of, parent_keys
from extractor.lexicon.labels import rule_title
from extractor.report import Finding, Report

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


CanonicalFn = Callable[[list[Report]], Report]


def cross_report(reports: Iterable[Report], agency_key: KeyFn | None = None, canonical: CanonicalFn | None = None) -> list[CrossFinding]:
    """All cross-report findings over a set of reports, in a stable order.

    Copies of one agency-year (the PDF and the DOCX, a file sent twice) are one report here: the rules
    across years and agencies see only the canonical copy, so a problem is not found once per copy;
    copies whose numbers differ are one `cross_report.duplicate_year` finding naming every file.
    `canonical` picks the canonical copy of a group (the store passes its choice, see
    store.copies); by default the first by path."""
    key_of = agency_key or (lambda r: _default_key(r.agency))
    keyed = [(key_of(r), r) for r in reports]
    pick = canonical or (lambda group: min(group, key=_order))
    copies: dict[tuple[str, int], list[Report]] = defaultdict(list)
    for key, rep in keyed:
        if key and rep.year is not None:
            copies[(key, rep.year)].append(rep)
    chosen = {id(pick(group)) for group in copies.values()}
    single = [(k, r) for k, r in keyed if not (k and r.year is not None) or id(r) in chosen]
    groups: dict[str, list[Report]] = defaultdict(list)
    for key, rep in single:
        if key and rep.year is not None:
            groups[key].append(rep)
    boilerplate = boilerplate_keys(single)
    out: list[CrossFinding] = []
    for (key, _year), group in sorted(copies.items()):
        out.extend(copies_differ(key, pick(group), group))
    for key in sorted(groups):
        out.extend(agency_findings(key, groups[key], boilerplate))
    out.extend(identical_across_agencies([(k, r) for k, r in single if k]))
    with_keys = [(k, r) for k, r in single if k and r.year is not None]
    out.extend(identical_text_across_agencies(with_keys))
    out.extend(peer_outliers(with_keys))
    out.extend(aggregates(with_keys))
    return out


def copies_differ(key: str, canonical: Report, group: list[Report]) -> list[CrossFinding]:
    """Copies of one agency-year whose printed numbers differ: one finding on the canonical copy naming
    every file and the first cells that differ. Copies with the same numbers are just copies."""
    mine = canonical.values()
    others = [r for r in sorted(group, key=_order) if r is not canonical and r.sha256 != canonical.sha256]
    differing: list[tuple[Report, list[str]]] = []
    for rep in others:
        theirs = rep.values()
        codes = sorted(c for c in set(mine) | set(theirs) if c in mine and c in theirs and mine[c] != theirs[c])
        if codes:
            differing.append((rep, codes))
    if not differing:
        return []
    codes = sorted({c for _, cs in differing for c in cs})
    shown = "；".join(
        f"{describe_cell(c)}：{file_name(canonical.path)} 为 {_num(mine[c])}，"
        + "，".join(f"{file_name(r.path)} 为 {_num(r.values()[c])}" for r, cs in differing if c in cs)
        for c in codes[:5]
    )
    more = f"等 {len(codes)} 处" if len(codes) > 5 else ""
    files = "、".join(file_name(r.path) for r in [canonical, *(r for r, _ in differing)])
    return [
        CrossFinding(
            rule="cross_report.duplicate_year",
            severity="warning",
            message=f"{_name(canonical)} {canonical.year}年的报告有 {1 + len(differing)} 份（{files}），数字不一致：{shown}{more}",
            codes=codes,
            section=_section(codes[0]) if codes[0][:2] in TABLE_NAMES else None,
            **_link(key, canonical, differing[0][0]),
        )
    ]


def _name(rep: Report) -> str:
    return rep.agency or file_name(rep.path)


def file_name(path: str) -> str:
    """The file's own name, never the folder it sits in on a server ('批次/报告.zip!甲.pdf' → '甲.pdf')."""
    return re.split(r"[\\/!]", path)[-1] if path else ""


def _order(rep: Report) -> tuple:
    return (rep.year or 0, rep.path, rep.sha256)


def agency_findings(key: str, reports: list[Report], boilerplate: set[str] | frozenset[str] = frozenset()) -> list[CrossFinding]:
    """Rules within one agency (one key, one report per year): carry-over, in-force stock, copied
    tables, jumps, reused text."""
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
        for prev in by_year.get(year - 1, []):
            for cur in same:
                pv, cv = values[id(prev)], values[id(cur)]
                others = [values[id(r)] for r in reports if r.year not in (prev.year, cur.year) and r.template == cur.template]
                out.extend(_carry_over(key, prev, cur, pv, cv))
                out.extend(_in_force(key, prev, cur, pv, cv))
                out.extend(_identical_to_last_year(key, prev, cur, tables[id(prev)], tables[id(cur)]))
                out.extend(_jumps(key, prev, cur, pv, cv, others))
                out.extend(_reused_text(key, prev, cur, boilerplate))
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


# --------------------------------------------------------------------------------------------------
# audit rules across years and agencies

@dataclass(frozen=True)
class CrossRule:
    id: str
    severity: str
    scope: str
    description: str
    tolerance: float | None = None
    tolerance_unit: str = ""
    skipped: str = ""
    source: str = "cross"

    @property
    def title(self) -> str:
        """The short Chinese title people read (lexicon/data/wording.toml)."""
        return rule_title(self.id)


MAIN_COUNTS = {
    "t3.new.total": "表三 本年新收申请",
    "t3.total.total": "表三 办理结果总计",
    "t4.review.total": "表四 行政复议总计",
    "t2.licensing.decisions": "表二 行政许可处理决定",
    "t2.penalty.decisions": "表二 行政处罚处理决定",
}
JUMP_FACTOR = 5.0
JUMP_MIN = 20  # below this either year a fivefold change is ordinary (1 → 6)
REUSED_WARNING, REUSED_INFO = 0.6, 0.3
MIN_SENTENCE_CHARS = 15
MIN_SENTENCES = 8
BOILERPLATE_AGENCIES = 3
OUTLIER_Z = 3.5
OUTLIER_MIN_PEERS = 8

CROSS_RULES: list[CrossRule] = [
    CrossRule("cross_year.carry_over", "error", "跨年度", "表三 二、上年结转（Y 年）= 四、结转下年度继续办理（Y−1 年），逐列", skipped="同一机构缺少相邻年度报告"),
    CrossRule("cross_year.in_force", "warning", "跨年度", "表二 现行有效件数（Y）= 现行有效件数（Y−1）+ 本年制发（Y）− 本年废止（Y）（修订、清理可使其不成立）", skipped="任一年为 2019 年版"),
    CrossRule("cross_year.jump", "info", "跨年度", f"主要数量（{'、'.join(MAIN_COUNTS.values())}）较上年增至 ×5 以上或降至 ×0.2 以下", tolerance=JUMP_FACTOR, tolerance_unit="倍", skipped=f"两年中较大者 < {JUMP_MIN}；任一年为 0 或未印出；两年格式不同"),
    CrossRule("cross_year.reused_text", "warning", "跨年度", "正文句子与上年报告相同的比例（数字不计；≥ 3 个机构共有的套话、少于 15 字的短句不计）：≥ 60% 为 warning，≥ 30% 为 info", tolerance=REUSED_WARNING, tolerance_unit="比例", skipped=f"可比句子少于 {MIN_SENTENCES} 句"),
    CrossRule("cross_report.duplicate_year", "warning", "跨报告", "同一机构同一年度的几份报告（副本）数字不一致：一条发现列出全部文件和不一致的单元格；数字相同的副本只是副本，其余跨报告规则只看规范副本", skipped="副本数字相同"),
    CrossRule("cross_report.identical_tables", "warning", "跨报告", "某表与本机构上年完全相同，或全部统计表与另一机构完全相同", skipped="非零单元格过少"),
    CrossRule("cross_report.identical_text", "warning", "跨机构", "正文句子与另一机构报告相同的比例 ≥ 60%（数字不计，套话不计）", tolerance=REUSED_WARNING, tolerance_unit="比例", skipped=f"可比句子少于 {MIN_SENTENCES} 句"),
    CrossRule("cross_agency.outlier", "info", "跨机构", f"主要数量在同年度同类机构中的稳健 z 值（对数，中位数绝对偏差）> {OUTLIER_Z}", tolerance=OUTLIER_Z, skipped=f"同组报告少于 {OUTLIER_MIN_PEERS} 份"),
    CrossRule("cross_agency.aggregate", "info", "跨机构", "人民政府报告正文称全区/全市/全县数量时，与库中其下属部门报告之和比较，并列出缺少的部门", skipped="正文未称全区/全市/全县；库中无下属部门报告"),
]


def in_line(value: float, history: Iterable[float | None], factor: float = JUMP_FACTOR) -> bool:
    """Whether a figure is within ×factor of one of the agency's figures of other years: then it is
    ordinary for that agency, whatever its neighbour year says."""
    return any(isinstance(h, int | float) and h > 0 and 1 / factor <= value / h <= factor for h in history)


def _jumps(key: str, prev: Report, cur: Report, pv: dict, cv: dict, others: list[dict] | None = None) -> list[CrossFinding]:
    if prev.template != cur.template:
        return []  # the 2019 表二 columns were often misread (t2.decisions_as_sum): no comparison across formats
    out = []
    for code, label in MAIN_COUNTS.items():
        a, b = pv.get(code), cv.get(code)
        if not a or not b or max(a, b) < JUMP_MIN:
            continue
        ratio = b / a
        if 1 / JUMP_FACTOR <= ratio <= JUMP_FACTOR:
            continue
        if in_line(b, (o.get(code) for o in others or [])):
            continue  # back to its usual level: the odd year is the previous one, reported against its own neighbour
        out.append(
            CrossFinding(
                rule="cross_year.jump",
                severity="info",
                message=f"{_name(cur)} {label}：{prev.year}年 {_num(a)}，{cur.year}年 {_num(b)}（×{ratio:.2g}），变化异常，请核实",
                codes=[code],
                section=_section(code),
                expected=a,
                actual=b,
                **_link(key, cur, prev),
            )
        )
    return out


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _section(code: str) -> str:
    return {"t2": "active", "t3": "requests", "t4": "review"}[code[:2]]


def boilerplate_keys(keyed: Iterable[tuple[str | None, Report]]) -> set[str]:
    """Sentence keys shared by several agencies: template and policy boilerplate, not copying."""
    agencies: dict[str, set[str]] = defaultdict(set)
    for key, rep in keyed:
        for s in rep.sentences:
            agencies[s.key].add(key or rep.sha256)
    return {k for k, who in agencies.items() if len(who) >= BOILERPLATE_AGENCIES}


def _substantive(rep: Report, boilerplate: set[str] | frozenset[str]) -> list[str]:
    return [s.key for s in rep.sentences if s.key and s.chars >= MIN_SENTENCE_CHARS and s.section and s.key not in boilerplate]


def _shared(cur: list[str], other: list[str]) -> float:
    if len(cur) < MIN_SENTENCES or len(other) < MIN_SENTENCES:
        return 0.0
    others = set(other)
    return sum(1 for k in cur if k in others) / len(cur)


def _reused_text(key: str, prev: Report, cur: Report, boilerplate: set[str] | frozenset[str]) -> list[CrossFinding]:
    a, b = _substantive(prev, boilerplate), _substantive(cur, boilerplate)
    share = _shared(b, a)
    if share < REUSED_INFO:
        return []
    severity = "warning" if share >= REUSED_WARNING else "info"
    return [
        CrossFinding(
            rule="cross_year.reused_text",
            severity=severity,
            message=(
                f"{_name(cur)} {cur.year}年报告正文 {len(b)} 句中有 {round(share * len(b))} 句（{share:.0%}）与{prev.year}年报告相同"
                "（数字不计），疑为照搬上年内容（内容雷同）"
            ),
            expected=None,
            actual=round(share, 3),
            **_link(key, cur, prev),
        )
    ]


def identical_text_across_agencies(keyed: list[tuple[str, Report]]) -> list[CrossFinding]:
    """Reports of different agencies whose prose is mostly the same sentences (boilerplate excluded)."""
    boilerplate = boilerplate_keys(keyed)
    texts = [(k, r, _substantive(r, boilerplate)) for k, r in sorted(keyed, key=lambda kr: (_order(kr[1]), kr[0]))]
    texts = [t for t in texts if len(t[2]) >= MIN_SENTENCES]
    index: dict[str, list[int]] = defaultdict(list)
    for i, (_, _, keys) in enumerate(texts):
        for k in set(keys):
            index[k].append(i)
    out = []
    for i, (key, rep, keys) in enumerate(texts):
        overlap: Counter[int] = Counter()
        for k in set(keys):
            for j in index[k]:
                if j < i and texts[j][0] != key:
                    overlap[j] += 1
        best = None
        for j, _ in overlap.most_common(3):
            share = _shared(keys, texts[j][2])
            if share >= REUSED_WARNING and (best is None or share > best[1]):
                best = (j, share)
        if best is None:
            continue
        other = texts[best[0]][1]
        out.append(
            CrossFinding(
                rule="cross_report.identical_text",
                severity="warning",
                message=f"{_name(rep)} {rep.year}年报告正文 {best[1]:.0%} 的句子与{_name(other)} {other.year}年报告相同（数字、套话不计），疑为内容雷同",
                actual=round(best[1], 3),
                **_link(key, rep, other),
            )
        )
    return out


def _kind(rep: Report) -> str:
    """Peer group of a report: area governments (人民政府, 管委会, 实验区 …) or departments."""
    return "government" if agency_level(rep.agency) == "area" else "department"


def peer_outliers(keyed: list[tuple[str, Report]]) -> list[CrossFinding]:
    """Main counts far from the peer group's (same year, same kind) median on a log scale."""
    groups: dict[tuple[int, str], list[tuple[str, Report]]] = defaultdict(list)
    for key, rep in keyed:
        groups[(rep.year, _kind(rep))].append((key, rep))  # type: ignore[index]
    out = []
    for (year, kind), members in sorted(groups.items()):
        if len({k for k, _ in members}) < OUTLIER_MIN_PEERS:
            continue
        for code, label in MAIN_COUNTS.items():
            values = [(k, r, r.values().get(code)) for k, r in members]
            present = [(k, r, v) for k, r, v in values if isinstance(v, int | float)]
            if len(present) < OUTLIER_MIN_PEERS:
                continue
            logs = [math.log1p(v) for _, _, v in present]
            median = statistics.median(logs)
            mad = statistics.median(abs(x - median) for x in logs)
            if mad <= 0:
                continue
            typical = math.expm1(median)
            for (k, r, v), x in zip(present, logs, strict=True):
                z = (x - median) / (1.4826 * mad)
                if abs(z) <= OUTLIER_Z:
                    continue
                peers = "人民政府" if kind == "government" else "部门"
                out.append(
                    CrossFinding(
                        rule="cross_agency.outlier",
                        severity="info",
                        message=(
                            f"{_name(r)} {year}年{label} {_num(v)}，同年度 {len(present)} 个{peers}报告的中位数为 {typical:.0f}"
                            f"（偏离 {abs(z):.1f} 个稳健标准差），请核实"
                        ),
                        codes=[code],
                        section=_section(code),
                        expected=round(typical, 1),
                        actual=v,
                        path=r.path,
                        sha256=r.sha256,
                        agency_key=k,
                        year=r.year,
                    )
                )
    return out


_AREA_CLAIM = re.compile(r"全(?P<area>区|市|县|旗|州|盟)(?:共|累计|全年)?(?:共)?(?:新收|收到|受理|接收)(?:各类)?(?:政府信息公开|信息公开|依申请公开)?申请(?:共|总计|合计)?(?:为)?(?P<n>\d[\d,]*)件")


def aggregates(keyed: list[tuple[str, Report]]) -> list[CrossFinding]:
    """A people's government whose text states an area total (全区受理申请 N 件) against the sum of its
    departments' reports in the set (the agencies it is the parent of, `parent_keys`, same year).
    Departments seen in other years but absent this year are named as missing."""
    from extractor.lexicon.textnorm import norm

    kinds = {id(rep): _kind(rep) for _, rep in keyed}  # once per report: the name lookup is not free
    parents = parent_keys({(key, rep.agency) for key, rep in keyed})
    all_departments: dict[str, dict[str, str]] = defaultdict(dict)  # government key -> department key -> name
    members: dict[tuple[str, int | None], list[tuple[str, Report]]] = defaultdict(list)  # (government, year) -> departments
    out = []
    for key, rep in keyed:
        if kinds[id(rep)] != "government" and key in parents:
            all_departments[parents[key]][key] = _name(rep)
            members[(parents[key], rep.year)].append((key, rep))
    for key, rep in sorted(keyed, key=lambda kr: (_order(kr[1]), kr[0])):
        if kinds[id(rep)] != "government" or not rep.sentences:
            continue
        claim = None
        for s in rep.sentences:
            m = _AREA_CLAIM.search(norm(s.text))
            if m:
                claim = int(m.group("n").replace(",", ""))
                break
        if claim is None:
            continue
        area = area_of(rep.agency)
        children = members.get((key, rep.year), [])
        if not area or not children:
            continue
        total = sum(r.values().get("t3.new.total") or 0 for _, r in children)
        present = {k for k, _ in children}
        missing = [name for k, name in sorted(all_departments[key].items()) if k not in present]
        if total == claim and not missing:
            continue
        note = f"；库中缺少 {len(missing)} 个往年有报告的部门（{'、'.join(missing[:5])}{'等' if len(missing) > 5 else ''}）" if missing else ""
        out.append(
            CrossFinding(
                rule="cross_agency.aggregate",
                severity="info",
                message=(
                    f"{_name(rep)} {rep.year}年正文称全{area[-1]}受理申请 {claim} 件，库中 {len(children)} 个下属部门报告合计 {_num(total)} 件{note}"
                ),
                codes=["t3.new.total"],
                section="requests",
                expected=total,
                actual=claim,
                path=rep.path,
                sha256=rep.sha256,
                agency_key=key,
                year=rep.year,
            )
        )
    return out


# --------------------------------------------------------------------------------------------------
# plausibility guesses weighed by the agency's other years

HISTORY_RULES = {"t2.fee_unit": "t2.fees.amount"}  # a guess about one figure → that figure


@dataclass(frozen=True)
class HistoryNote:
    """A plausibility finding of one report (rule, cells) that the agency's own other years explain."""

    sha256: str
    rule: str
    codes: tuple[str, ...]
    note: str


def explained_by_history(reports: Iterable[Report], agency_key: KeyFn | None = None) -> list[HistoryNote]:
    """Plausibility warnings (a fee that 'looks like 元, not 万元') whose figure is in line with the same
    agency's figures of other years: an agency whose fees are 24252 万元 every year is a large
    collector, not one that wrote 元. The caller (ingest, the audit) turns these into notes."""
    key_of = agency_key or (lambda r: _default_key(r.agency))
    groups: dict[str, list[Report]] = defaultdict(list)
    for rep in reports:
        key = key_of(rep)
        if key and rep.year is not None:
            groups[key].append(rep)
    out: list[HistoryNote] = []
    for members in groups.values():
        for rep in members:
            for finding in rep.findings:
                code = HISTORY_RULES.get(finding.rule)
                if code is None or finding.severity not in ("error", "warning"):
                    continue
                value = rep.values().get(code)
                note = history_note(value, [(r.year, r.values().get(code)) for r in members if r.year != rep.year])
                if note:
                    out.append(HistoryNote(rep.sha256, finding.rule, tuple(finding.codes), note))
    return out


def history_note(value: object, other_years: list[tuple[int | None, object]]) -> str | None:
    """'与本机构其他年度相当（2021年 25100、2023年 240000），不作为警告' when a figure is within ×2 of one of
    the agency's figures of other years, else None."""
    if not isinstance(value, int | float) or not in_line(value, (v for _, v in other_years), 2.0):  # type: ignore[misc]
        return None
    seen = "、".join(f"{y}年 {_num(v)}" for y, v in sorted(other_years, key=lambda yv: yv[0] or 0) if isinstance(v, int | float) and v > 0)
    return f"与本机构其他年度相当（{seen}），不作为警告"
