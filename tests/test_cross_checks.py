"""Cross-report rules: silent on four real consecutive years of one agency, firing on made-up breaks."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from extractor.checks.cross import cross_report
from extractor.report import Cell, Report
from extractor.store.database import agency_key, load_aliases

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"


def truth_report(truth: Path) -> Report:
    """A Report holding the hand-checked values of a truth file (what a perfect parse gives)."""
    data = json.loads(truth.read_text(encoding="utf-8"))
    meta = data["meta"]
    return Report(
        path=meta.get("file", truth.name),
        sha256=meta.get("sha256") or hashlib.sha256(truth.read_bytes()).hexdigest(),
        format="html",
        pages=None,
        agency=meta["agency"],
        year=meta["year"],
        template=meta["template"],
        cells=[Cell(code, value, str(value)) for code, value in data["cells"].items()],
    )


def series() -> list[Report]:
    """The truth files of one agency that cover consecutive years (found by content, not by name)."""
    reports = [truth_report(p) for p in sorted(REAL.glob("*.truth.json"))]
    by_agency: dict[str, list[Report]] = {}
    for rep in reports:
        if rep.agency and rep.year:
            by_agency.setdefault(agency_key(rep.agency) or "", []).append(rep)
    longest = max(by_agency.values(), key=len)
    assert len(longest) >= 3, "fixtures should hold several years of one agency"
    return sorted(longest, key=lambda r: r.year or 0)


def set_value(rep: Report, code: str, value: float) -> None:
    for cell in rep.cells:
        if cell.code == code:
            cell.value, cell.raw = value, str(value)
            return
    rep.cells.append(Cell(code, value, str(value)))


def with_sha(rep: Report, tag: str) -> Report:
    out = copy.deepcopy(rep)
    out.sha256 = hashlib.sha256((rep.sha256 + tag).encode()).hexdigest()
    out.path = f"{rep.path}#{tag}"
    return out


def test_agency_key_normalises_width_space_and_punctuation() -> None:
    assert agency_key(" 淮安市 洪泽区人民政府（办公室） ") == "淮安市洪泽区人民政府办公室"
    assert agency_key("ＡＢＣ局·") == "ABC局"
    assert agency_key("") is None and agency_key(None) is None


def test_alias_file_merges_names(tmp_path: Path) -> None:
    alias = tmp_path / "aliases.csv"
    alias.write_text("name,key\n洪泽区人民政府,淮安市洪泽区人民政府\n", encoding="utf-8")
    aliases = load_aliases(str(alias))
    assert agency_key("洪泽区 人民政府", aliases) == agency_key("淮安市洪泽区人民政府", aliases)


def test_real_consecutive_years_are_silent() -> None:
    assert cross_report(series()) == []


def test_all_real_truths_together_are_silent() -> None:
    reports = [truth_report(p) for p in sorted(REAL.glob("*.truth.json"))]
    assert [f for f in cross_report(reports) if f.severity == "error"] == []


def test_carry_over_break_is_an_error_naming_both_years() -> None:
    reps = series()
    prev, cur = reps[-2], reps[-1]
    expected = prev.values()["t3.carried_over.total"]
    set_value(cur, "t3.carried_in.total", expected + 5)
    found = [f for f in cross_report(reps) if f.rule == "cross_year.carry_over"]
    assert len(found) == 1
    f = found[0]
    assert f.severity == "error"
    assert f.codes == ["t3.carried_in.total", "t3.carried_over.total"]
    assert (f.expected, f.actual) == (expected, expected + 5)
    assert str(prev.year) in f.message and str(cur.year) in f.message
    assert f.sha256 == cur.sha256 and f.other_sha256 == prev.sha256


def test_carry_over_needs_the_same_agency_key() -> None:
    reps = series()
    set_value(reps[-1], "t3.carried_in.total", 99)
    reps[-1].agency = "另一个机构"
    assert not [f for f in cross_report(reps) if f.rule == "cross_year.carry_over"]
    # …unless the caller's key (e.g. from the alias file) says they are one agency
    keyed = cross_report(reps, agency_key=lambda r: "same")
    assert [f.rule for f in keyed].count("cross_year.carry_over") == 1


def test_in_force_is_a_soft_warning_on_2021_template_years() -> None:
    reps = [r for r in series() if r.template == "2021"]
    assert len(reps) >= 2
    prev, cur = reps[-2], reps[-1]
    v, c = prev.values(), cur.values()
    expected = v["t2.normative.in_force"] + c["t2.normative.issued"] - c["t2.normative.repealed"]
    assert expected == c["t2.normative.in_force"]  # the real reports agree
    set_value(cur, "t2.normative.in_force", expected + 1)
    found = [f for f in cross_report(reps) if f.rule == "cross_year.in_force"]
    assert len(found) == 1
    assert found[0].severity == "warning"
    assert found[0].expected == expected and found[0].actual == expected + 1
    assert "t2.normative.in_force" in found[0].codes


def test_in_force_not_checked_across_the_template_change() -> None:
    reps = series()
    old = [r for r in reps if r.template == "2019"]
    new = [r for r in reps if r.template == "2021"]
    if not old or not new:
        pytest.skip("fixtures have no template change")
    set_value(new[0], "t2.normative.in_force", 123456)
    assert not [f for f in cross_report([old[-1], new[0]]) if f.rule == "cross_year.in_force"]


def test_duplicate_year() -> None:
    """Copies whose numbers differ: one finding naming both files and the cell."""
    rep = series()[0]
    other = with_sha(rep, "republished")
    other.path = "批次/补报.zip!" + "补报.docx"
    set_value(other, "t3.new.total", 1234)
    found = cross_report([rep, other])
    assert [f.rule for f in found] == ["cross_report.duplicate_year"]
    assert found[0].severity == "warning" and found[0].codes == ["t3.new.total"]
    assert "补报.docx 为 1234" in found[0].message and "批次" not in found[0].message


def test_copies_with_the_same_numbers_are_just_copies_and_counted_once() -> None:
    """A PDF and a DOCX of the same report: no finding for the pair, and a break against the next year
    is found once, not once per copy."""
    reps = series()
    prev, cur = reps[-2], reps[-1]
    set_value(cur, "t3.carried_in.total", cur.values()["t3.carried_in.total"] + 5)
    twin = with_sha(prev, "docx copy")
    found = cross_report([prev, twin, cur])
    assert not [f for f in found if f.rule == "cross_report.duplicate_year"]
    carry = [f for f in found if f.rule == "cross_year.carry_over"]
    alone = [f for f in cross_report([prev, cur]) if f.rule == "cross_year.carry_over"]
    assert alone and len(carry) == len(alone)


def test_identical_to_last_year() -> None:
    reps = series()
    prev = reps[-2]
    copied = with_sha(prev, "copied")
    copied.year = prev.year + 1  # type: ignore[operator]
    found = cross_report([prev, copied])
    tables = [f for f in found if f.rule == "cross_report.identical_tables"]
    assert tables and all(f.severity == "warning" for f in tables)
    assert all(str(prev.year) in f.message for f in tables)


def test_identical_to_another_agency_but_not_when_all_zero() -> None:
    rep = series()[-1]
    other = with_sha(rep, "other agency")
    other.agency = "某某县人民政府"
    found = [f for f in cross_report([rep, other]) if f.rule == "cross_report.identical_tables"]
    assert len(found) == 1
    assert "某某县人民政府" in found[0].message and str(rep.agency) in found[0].message
    for r in (rep, other):
        for cell in r.cells:
            cell.value = 0
    assert cross_report([rep, other]) == []


def test_parsed_real_series_is_silent() -> None:
    """The same check on what the parser actually reads from the documents of that series."""
    from extractor import parse

    paths = [REAL / rep.path for rep in series()]  # truth meta names the document it describes
    if not all(p.exists() for p in paths):
        pytest.skip("a document of the series is not in the fixtures")
    parsed = [parse(str(p)) for p in paths]
    assert [r.year for r in parsed] == [r.year for r in series()]
    errors = [f for f in cross_report(parsed) if f.severity == "error"]
    assert errors == []
