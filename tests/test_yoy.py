"""Year over year (`extractor.outputs.yoy`) on four consecutive real reports of one agency
(平潭综合实验区 2019–2022, saved portal pages with hand-checked truth files).

Why these tests: the page a reviewer reads must list exactly the cells that changed (checked
against the truth files, not against our own parse), must really run the carry-over rule (a broken
carry-over shows as failed with the rule's message), and its text diff must account for every
sentence of both years, in order.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

import extractor
from extractor.outputs.yoy import compare_stored, compare_years

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
YEARS = (2019, 2020, 2021, 2022)


@pytest.fixture(scope="module")
def reports() -> dict[int, extractor.Report]:
    return {y: extractor.parse(str(REAL / f"pingtan{y}.html")) for y in YEARS}


def _truth(year: int) -> dict:
    return json.loads((REAL / f"pingtan{year}.truth.json").read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("year", YEARS[1:])
def test_changed_cells_are_those_of_the_truth_files(reports, year: int) -> None:
    old, new = _truth(year - 1), _truth(year)
    expected = {}
    for code in old.keys() | new.keys():
        a, b = old.get(code), new.get(code)
        if code in old and code in new and a == b:
            continue
        expected[code] = (a, b, "changed" if code in old and code in new else "added" if code in new else "removed")
    result = compare_years(reports[year - 1], reports[year])
    got = {c.code: (c.old, c.new, c.status) for c in result.cells if c.code in old or c.code in new}
    assert got == expected
    assert len(expected) >= 20  # the years really differ
    for c in result.cells:
        assert c.label
        if c.status == "changed" and c.old is not None and c.new is not None:
            assert c.delta == pytest.approx(c.new - c.old)


@pytest.mark.parametrize("year", YEARS[1:])
def test_the_carry_over_is_checked_each_year(reports, year: int) -> None:
    result = compare_years(reports[year], reports[year - 1])  # either order: the earlier year is older
    assert (result.older["year"], result.newer["year"], result.consecutive) == (year - 1, year, True)
    carry = [c for c in result.checks if c.rule == "cross_year.carry_over"]
    assert len(carry) == 7 and all(c.status == "ok" for c in carry)
    total = next(c for c in carry if c.codes[0] == "t3.carried_in.total")
    assert (total.expected, total.actual) == (_truth(year - 1)["t3.carried_over.total"], _truth(year)["t3.carried_in.total"])
    in_force = [c for c in result.checks if c.rule == "cross_year.in_force"]
    both_2021 = result.older["template"] == result.newer["template"] == "2021"
    assert [c.status for c in in_force] == (["ok", "ok"] if both_2021 else ["skipped", "skipped"])


def test_a_broken_carry_over_fails_with_the_rules_message(reports) -> None:
    newer = copy.deepcopy(reports[2022])
    next(c for c in newer.cells if c.code == "t3.carried_in.total").value = 5  # 2021 carried 1 over
    result = compare_years(reports[2021], newer)
    total = next(c for c in result.checks if c.codes[0] == "t3.carried_in.total")
    assert (total.status, total.expected, total.actual) == ("failed", 1, 5)
    assert "上年结转" in total.message and any(f["rule"] == "cross_year.carry_over" for f in result.findings)


def test_years_that_do_not_follow_each_other_are_not_checked(reports) -> None:
    result = compare_years(reports[2019], reports[2021])
    assert not result.consecutive and result.findings == []
    assert all(c.status == "skipped" for c in result.checks)


def test_reused_sentences(reports) -> None:
    shares = {y: compare_years(reports[y - 1], reports[y]) for y in YEARS[1:]}
    for result in shares.values():
        assert 0.0 <= result.reused_share <= 1.0 and result.reused <= result.sentences
    assert shares[2020].reused_share > 0 and shares[2021].reused_share > 0  # sentences kept from the year before
    same = compare_years(reports[2021], reports[2021])
    assert same.reused_share == 1.0 and {b.kind for b in same.text} == {"same"}


@pytest.mark.parametrize("year", YEARS[1:])
def test_the_text_diff_accounts_for_every_sentence_in_order(reports, year: int) -> None:
    older, newer = reports[year - 1], reports[year]
    result = compare_years(older, newer)
    kinds = {b.kind for b in result.text}
    assert {"added", "removed"} <= kinds
    for side, rep in (("old", older), ("new", newer)):
        for section in {s.section for s in rep.sentences}:
            told = [t for b in result.text if b.section == section for t in getattr(b, side)]
            assert told == [s.text for s in rep.sentences if s.section == section]
    for block in result.text:
        if block.kind == "changed":
            assert len(block.old) == len(block.new) and 0.6 <= block.similarity <= 1.0
        if block.kind == "added":
            assert block.new and not block.old
        if block.kind == "removed":
            assert block.old and not block.new


def test_stored_reports_compare_like_parsed_ones(reports, tmp_path) -> None:
    from extractor.store import database as storage
    from extractor.store.ingest import ingest

    folder = tmp_path / "in"
    folder.mkdir()
    for y in (2021, 2022):
        shutil.copy(REAL / f"pingtan{y}.html", folder / f"pingtan{y}.html")
    db = tmp_path / "r.db"
    ingest([str(folder)], str(db), workers=1, progress="none")
    conn = storage.connect(str(db))
    try:
        ids = {rep.year: rid for rid, _, rep in storage.load_reports(conn)}
        stored = compare_stored(conn, ids[2021], ids[2022]).to_dict()
        with pytest.raises(LookupError):
            compare_stored(conn, ids[2021], 999)
    finally:
        conn.close()
    parsed = compare_years(reports[2021], reports[2022]).to_dict()
    for key in ("cells", "checks", "text", "sentences", "reused", "reused_share", "consecutive"):
        assert stored[key] == parsed[key], key
    assert json.dumps(stored, ensure_ascii=False)  # plain data, ready for a JSON response
