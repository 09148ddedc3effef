"""表二 printed without ruling lines and with zeros left blank: values placed by the header's columns.

Why: such a table reaches the interpreter as text lines, and a line with a blank cell carries fewer
numbers than its block has columns ('规章 25' under 本年新制作数量 / 本年新公开数量 / 对外公开总数量).
Read left to right, the 25 lands in the wrong column, or a column is lost. The header words' boxes say
where the columns are; a value they cannot place must come out flagged, never as a silent number.
These tests feed the interpreter lines shaped as the PDF reader makes them.
"""

from __future__ import annotations

from extractor.reading.interpret import interpret_t2
from extractor.reading.locate import Row

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
