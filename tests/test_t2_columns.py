"""表二 printed without ruling lines and with zeros left blank: values placed by the header's columns.

Why: such a table reaches the interpreter as text lines, and a line with a blank cell carries fewer
numbers than its block has columns ('规章 25' under 本年新制作数量 / 本年新公开数量 / 对外公开总数量).
Read left to right, the 25 lands in the wrong column, or a column is lost. The header words' boxes say
where the columns are; a value they cannot place must come out flagged, never as a silent number.
The PDF tests run on the corpus documents made for this layout (scripts/make_fixtures.py,
variant t2_noborders_blank); the rest feed the interpreter lines shaped as the PDF reader makes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import extractor
from extractor.reading.interpret import interpret_t2
from extractor.reading.locate import Row

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
PLACEMENT_RULES = ("structure.incomplete_row", "structure.extra_values")


def _report_and_truth(name: str) -> tuple[extractor.Report, dict]:
    truth = json.loads((CORPUS / f"{name}.truth.json").read_text(encoding="utf-8"))
    return extractor.parse(str(CORPUS / name)), {k: v for k, v in truth["cells"].items() if k.startswith("t2.")}


def _centre(cell) -> float:
    return (cell.bbox[0] + cell.bbox[2]) / 2


@pytest.mark.parametrize("name", ["c080_2019_t2_noborders_blank.pdf", "c081_2021_t2_noborders_blank.pdf", "c082_2021r1_t2_noborders_blank.pdf"])
def test_every_cell_of_a_borderless_t2_with_blank_zeros(name):
    report, truth = _report_and_truth(name)
    values = report.values()
    assert {code: values.get(code, "MISSING") for code in truth} == truth
    cells = report.cell_map()
    blanks = [code for code, value in truth.items() if value == 0]
    assert blanks and all(cells[c].raw == "" and cells[c].confidence == 1.0 for c in blanks)
    assert not [f for f in report.findings if f.rule in PLACEMENT_RULES or f.section == "active"]


def test_a_value_goes_under_its_own_header_column():
    """2019: 规章 prints only 对外公开总数量, 行政事业性收费 only 上一年项目数量; a whole row is blank."""
    report, _ = _report_and_truth("c080_2019_t2_noborders_blank.pdf")
    cells = report.cell_map()
    assert cells["t2.rules.total_published"].value == 25
    assert abs(_centre(cells["t2.rules.total_published"]) - _centre(cells["t2.normative.total_published"])) < 10
    assert abs(_centre(cells["t2.fees.prev_items"]) - _centre(cells["t2.penalty.prev_items"])) < 10
    assert all(cells[f"t2.other_services.{c}"].value == 0 for c in ("prev_items", "change", "decisions"))
    assert cells["t2.other_services.prev_items"].bbox is None  # a blank has nothing printed to box


def test_header_wrapped_over_three_lines_and_a_row_on_the_next_page():
    """2021: '本年制'/'发件数' above and below '现行有效件数' (c082); 行政规范性文件 on the page after its
    header (c081) — a block split by a page break keeps its columns."""
    wrapped, _ = _report_and_truth("c082_2021r1_t2_noborders_blank.pdf")
    assert wrapped.values()["t2.normative.in_force"] == 153 and wrapped.values()["t2.normative.issued"] == 10
    split, _ = _report_and_truth("c081_2021_t2_noborders_blank.pdf")
    cells = split.cell_map()
    assert cells["t2.rules.in_force"].page == 1 and cells["t2.normative.in_force"].page == 2
    assert (cells["t2.normative.issued"].value, cells["t2.normative.repealed"].raw, cells["t2.normative.in_force"].value) == (2, "", 47)


# --------------------------------------------------------------------- lines as the PDF reader makes them

HEADER_2019 = [("信息内容", 95, 135), ("本年新制作数量", 202, 272), ("本年新公开数量", 324, 394), ("对外公开总数量", 445, 515)]


def _line(index: int, words: list[tuple[str, float, float]], page: int = 1) -> Row:
    top = 100.0 + 15 * index
    return Row(cells=[" ".join(w for w, _, _ in words)], page=page, index=index, words=[(w, (x0, top, x1, top + 10)) for w, x0, x1 in words])


def _t2(lines: list[list[tuple[str, float, float]]]):
    rows = [_line(0, [("第二十条第（一）项", 57, 147)])] + [_line(i + 1, words) for i, words in enumerate(lines)]
    result = interpret_t2(rows)
    return {c.code: c for c in result.cells}, result.findings


def test_a_blank_between_numbers_keeps_the_columns():
    cells, findings = _t2([HEADER_2019, [("规章", 105, 125), ("3", 234, 240), ("9", 477, 483)]])
    assert [(cells[f"t2.rules.{c}"].raw, cells[f"t2.rules.{c}"].confidence) for c in ("made", "published", "total_published")] == [("3", 1.0), ("", 1.0), ("9", 1.0)]
    assert findings == []


def test_a_value_between_two_columns_is_flagged_not_placed():
    """A number across the line between two columns: its column is not known, so the row is read
    left to right at low confidence with a finding — as before, never silently."""
    cells, findings = _t2([HEADER_2019, [("规章", 105, 125), ("12", 290, 305)]])
    assert cells["t2.rules.made"].confidence == 0.5
    assert [f.rule for f in findings] == ["structure.incomplete_row"]


def test_a_label_alone_is_a_blank_row_only_when_no_values_are_beside_it():
    cells, findings = _t2([HEADER_2019, [("规章", 105, 125)], [("规范性文件", 90, 140), ("4", 234, 240), ("4", 355, 361), ("20", 474, 487)]])
    assert [cells[f"t2.rules.{c}"].value for c in ("made", "published", "total_published")] == [0, 0, 0]
    assert findings == []
    # the row's numbers on a line of their own under the label: not a blank row
    cells, _ = _t2([HEADER_2019, [("规章", 105, 125)], [("5", 234, 240), ("2", 355, 361), ("7", 477, 483)]])
    assert "t2.rules.made" not in cells
    # a label that does not sit in the label column is not a row of blanks either
    cells, _ = _t2([HEADER_2019, [("规章", 230, 250)]])
    assert "t2.rules.made" not in cells


def test_more_values_than_the_columns_read_is_flagged():
    """A header only partly understood (one column named, the other words not): extra values are
    not dropped in silence."""
    lines = [[("信息内容", 95, 135), ("现行", 222, 252), ("有效件数", 450, 510)], [("规章", 105, 125), ("10", 231, 243), ("153", 471, 490)]]
    cells, findings = _t2(lines)
    assert [f.rule for f in findings] == ["structure.extra_values"]
    assert all(c.confidence <= 0.5 for c in cells.values())
