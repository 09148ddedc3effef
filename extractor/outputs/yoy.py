"""Year over year: two reports of one agency side by side, as plain data for the web page.

What changed in the tables (cell by cell, in catalogue order), the checks that tie one year to the
next (the cross-report rules of `extractor.checks.cross`, each shown as passed, failed or not
applicable — the rules themselves are not re-implemented here), a diff of the narrative in
paragraph-sized blocks, and the share of this year's sentences reused from last year (内容雷同:
equal once digits are masked, `reading.sentences.sentence_key`).

The narrative's unit: a Report keeps its prose as sentences in order, with their section (a PDF's
text layer has lines, not paragraphs), so the diff aligns the sentences of each section with difflib
on their keys; within a run that differs, each old sentence is paired with the next alike new one
(rapidfuzz ratio ≥ 60: changed), the rest are removed or added; consecutive sentences of one kind form
one block, so a rewritten paragraph is one changed block and a new paragraph one added block.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import Any

from rapidfuzz import fuzz

from extractor.checks.cross import (
    IN_FORCE_KINDS,
    MIN_SENTENCE_CHARS,
    T3_COLUMN_NAMES,
    T3_COLUMNS,
    CrossFinding,
    agency_findings,
)
from extractor.lexicon.agency import agency_key
from extractor.outputs.compare import cell_catalogue
from extractor.reading.locate import SECTION_ORDER
from extractor.reading.sentences import sentence_key
from extractor.report import Report, Sentence

CHANGED_SIMILARITY = 60.0  # rapidfuzz ratio (0-100) from which a replaced block counts as changed, not new


@dataclass
class CellChange:
    code: str
    label: str
    old: int | float | None
    new: int | float | None
    delta: int | float | None  # new − old when both are numbers
    status: str  # changed | added (only the newer report has the cell) | removed (only the older)


@dataclass
class YearCheck:
    """One identity between the two years, e.g. 表三 结转下年度(N) = 上年结转(N+1), per column."""

    rule: str
    label: str
    codes: list[str]  # [code in the newer report, code in the older] as the rule names them
    expected: int | float | None
    actual: int | float | None
    status: str  # ok | failed | skipped
    message: str = ""  # the rule's own message when it failed; why, when skipped


@dataclass
class TextBlock:
    kind: str  # same | updated (numbers only) | changed | added | removed
    section: str | None
    old: list[str] = field(default_factory=list)  # the older report's sentences in this block
    new: list[str] = field(default_factory=list)
    similarity: float | None = None  # 0..1 for a changed block


@dataclass
class YearOverYear:
    agency: str | None
    older: dict[str, Any]  # path, sha256, year, template
    newer: dict[str, Any]
    consecutive: bool
    cells: list[CellChange]
    checks: list[YearCheck]
    findings: list[dict[str, Any]]  # every cross-year finding for the pair (carry-over, jumps, copied tables, reused text)
    text: list[TextBlock]
    sentences: int  # substantive sentences of the newer report
    reused: int  # of them, equal to one of the older report's once digits are masked
    reused_share: float  # reused / sentences (0 when there are none)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_years(older: Report, newer: Report) -> YearOverYear:
    """Compare two reports of one agency (given in either order: the earlier year is `older`)."""
    if (older.year or 0) > (newer.year or 0):
        older, newer = newer, older
    consecutive = older.year is not None and newer.year is not None and newer.year == older.year + 1
    key = agency_key(newer.agency or older.agency or "") or newer.sha256
    findings = _pair_findings(key, older, newer) if consecutive else []
    sentences, reused = reuse(older, newer)
    return YearOverYear(
        agency=newer.agency or older.agency,
        older=_meta(older),
        newer=_meta(newer),
        consecutive=consecutive,
        cells=changed_cells(older, newer),
        checks=year_checks(older, newer, findings, consecutive),
        findings=[asdict(f) for f in findings],
        text=text_diff(older.sentences, newer.sentences),
        sentences=sentences,
        reused=reused,
        reused_share=round(reused / sentences, 4) if sentences else 0.0,
    )


def _meta(rep: Report) -> dict[str, Any]:
    return {"path": rep.path, "sha256": rep.sha256, "year": rep.year, "template": rep.template, "agency": rep.agency}


def _pair_findings(key: str, older: Report, newer: Report) -> list[CrossFinding]:
    """The cross-report rules over just these two reports (rules of one agency, consecutive years)."""
    return [f for f in agency_findings(key, [older, newer]) if f.rule.startswith(("cross_year.", "cross_report.identical"))]


# ---------------------------------------------------------------------------------------------- cells


def changed_cells(older: Report, newer: Report) -> list[CellChange]:
    """Cells whose value differs between the years, in cells.csv order (then any other code)."""
    order, labels = cell_catalogue()
    old, new = older.cell_map(), newer.cell_map()
    rank = {code: i for i, code in enumerate(order)}
    out = []
    for code in sorted(old.keys() | new.keys(), key=lambda c: (rank.get(c, len(rank)), c)):
        a, b = old.get(code), new.get(code)
        va, vb = (a.value if a else None), (b.value if b else None)
        if a is not None and b is not None:
            if va == vb:
                continue
            status = "changed"
        elif b is not None:
            status = "added"
        else:
            status = "removed"
        delta = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        if isinstance(delta, float):
            delta = round(delta, 4)
        label = labels.get(code) or (b or a).label  # type: ignore[union-attr]
        out.append(CellChange(code, label, va, vb, delta, status))
    return out


# ---------------------------------------------------------------------------------------------- checks


def year_checks(older: Report, newer: Report, findings: list[CrossFinding], consecutive: bool) -> list[YearCheck]:
    """The carry-over of each 表三 column and the stock of 规章 / 规范性文件 in force, each with its
    outcome from the cross-report rules' findings for the pair."""
    ov, nv = older.values(), newer.values()
    failed = {(f.rule, f.codes[0]): f for f in findings if f.codes}
    out = []
    for col in T3_COLUMNS:
        in_code, out_code = f"t3.carried_in.{col}", f"t3.carried_over.{col}"
        expected, actual = ov.get(out_code), nv.get(in_code)
        label = f"表三（{T3_COLUMN_NAMES[col]}）：{newer.year}年 二、上年结转 = {older.year}年 四、结转下年度继续办理"
        out.append(_check("cross_year.carry_over", label, [in_code, out_code], expected, actual, failed, consecutive))
    for kind, name in IN_FORCE_KINDS.items():
        codes = [f"t2.{kind}.in_force", f"t2.{kind}.issued", f"t2.{kind}.repealed"]
        label = f"表二 {name}：{newer.year}年现行有效件数 = {older.year}年现行有效件数 + 本年制发 − 本年废止"
        values = [ov.get(codes[0]), nv.get(codes[1]), nv.get(codes[2])]
        expected = None if None in values else values[0] + values[1] - values[2]  # type: ignore[operator]
        if older.template != "2021" or newer.template != "2021":
            out.append(YearCheck("cross_year.in_force", label, codes, expected, nv.get(codes[0]), "skipped", "2019 年格式的表二没有现行有效件数，不核对"))
            continue
        out.append(_check("cross_year.in_force", label, codes, expected, nv.get(codes[0]), failed, consecutive))
    return out


def _check(rule: str, label: str, codes: list[str], expected, actual, failed: dict, consecutive: bool) -> YearCheck:
    finding = failed.get((rule, codes[0]))
    if finding is not None:
        return YearCheck(rule, label, codes, finding.expected, finding.actual, "failed", finding.message)
    if not consecutive:
        return YearCheck(rule, label, codes, expected, actual, "skipped", "两份报告的年度不相邻，不核对")
    if expected is None or actual is None:
        return YearCheck(rule, label, codes, expected, actual, "skipped", "有单元格未读到，不核对")
    return YearCheck(rule, label, codes, expected, actual, "ok")


# ---------------------------------------------------------------------------------------------- text


def _key(s: Sentence) -> str:
    return s.key or sentence_key(s.text)


def _substantive(rep: Report) -> list[Sentence]:
    """Sentences worth comparing: in a section, long enough to say something (as the reused-text rule)."""
    return [s for s in rep.sentences if s.section and s.chars >= MIN_SENTENCE_CHARS]


def reuse(older: Report, newer: Report) -> tuple[int, int]:
    """(substantive sentences of the newer report, how many of them the older report has too, digits masked)."""
    mine = _substantive(newer)
    theirs = {_key(s) for s in _substantive(older)}
    return len(mine), sum(1 for s in mine if _key(s) in theirs)


def text_diff(older: list[Sentence], newer: list[Sentence]) -> list[TextBlock]:
    """Blocks of the narrative, section by section in the standard order (see the module docstring)."""
    sections = [*SECTION_ORDER, None]
    seen = {s.section for s in [*older, *newer]}
    out: list[TextBlock] = []
    for section in [*sections, *sorted(x for x in seen if x not in sections)]:
        a = [s for s in older if s.section == section]
        b = [s for s in newer if s.section == section]
        if a or b:
            out.extend(_section_diff(section, a, b))
    return out


def _section_diff(section: str | None, a: list[Sentence], b: list[Sentence]) -> list[TextBlock]:
    matcher = SequenceMatcher(None, [_key(s) for s in a], [_key(s) for s in b], autojunk=False)
    out: list[TextBlock] = []
    for op, i0, i1, j0, j1 in matcher.get_opcodes():
        old, new = [s.text for s in a[i0:i1]], [s.text for s in b[j0:j1]]
        if op == "equal":
            for x, y in zip(old, new, strict=True):
                _append(out, "same" if x == y else "updated", section, x, y)
            continue
        for kind, x, y, similarity in _pair(old, new):
            _append(out, kind, section, x, y, similarity)
    return out


def _pair(old: list[str], new: list[str]) -> list[tuple[str, str | None, str | None, float | None]]:
    """Within a run that differs, pair each old sentence with the next alike new one (in order):
    (kind, old, new, similarity) with kind changed / removed / added."""
    out: list[tuple[str, str | None, str | None, float | None]] = []
    j = 0
    for x in old:
        scores = [(fuzz.ratio(x, y), k) for k, y in enumerate(new[j:], start=j)]
        best = max(scores, default=(0.0, -1))
        if best[0] < CHANGED_SIMILARITY:
            out.append(("removed", x, None, None))
            continue
        out.extend(("added", None, y, None) for y in new[j : best[1]])
        out.append(("changed", x, new[best[1]], best[0] / 100))
        j = best[1] + 1
    out.extend(("added", None, y, None) for y in new[j:])
    return out


def _append(out: list[TextBlock], kind: str, section: str | None, old: str | None, new: str | None, similarity: float | None = None) -> None:
    """Add a sentence to the last block when it is of the same kind, else open a block: runs of
    sentences become paragraph-sized blocks. A changed block's similarity is its pairs' mean."""
    last = out[-1] if out and out[-1].kind == kind and out[-1].section == section else None
    if last is None:
        last = TextBlock(kind, section)
        out.append(last)
    if old is not None:
        last.old.append(old)
    if new is not None:
        last.new.append(new)
    if similarity is not None:
        n = len(last.new)
        last.similarity = round(((last.similarity or 0.0) * (n - 1) + similarity) / n, 3)


# ---------------------------------------------------------------------------------------------- stored


def compare_stored(conn: Any, older_id: int, newer_id: int) -> YearOverYear:
    """`compare_years` on two reports in the database (ids of `reports`), sentences with their text.
    `conn`: what `store.database.load_reports` takes. Raises LookupError for an id that is not a
    successfully parsed report."""
    from extractor.store.database import load_reports

    loaded = {rid: rep for rid, _, rep in load_reports(conn, [older_id, newer_id], with_details=True)}
    missing = [str(i) for i in (older_id, newer_id) if i not in loaded]
    if missing:
        raise LookupError(f"没有这份报告（编号 {', '.join(missing)}）")
    return compare_years(loaded[older_id], loaded[newer_id])
