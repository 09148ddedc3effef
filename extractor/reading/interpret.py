"""Interpret: turn the rows of each table region into coded cells.

Rows are matched by their labels, never by position alone, so a missing, repeated or reordered row
does not shift the others. Position is used only where the labels are gone: 表四's fifteen fixed
slots, and 表三 value rows whose labels were lost in conversion, which are placed into the template
slots left free between their labelled neighbours — and only when their count fits exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractor.document import BBox
from extractor.lexicon.labels import (
    cell_catalogue,
    t2_columns,
    t2_ignored_rows,
    t2_rows,
    t3_columns,
    t3_row_label,
    t3_rows,
    t3_sequence,
    t3_subtotal_labels,
    vocabulary,
)
from extractor.lexicon.textnorm import clean, norm
from extractor.lexicon.values import parse_value
from extractor.readers.ocr_calibration import REVIEW_THRESHOLD
from extractor.reading.locate import Layout, Row
from extractor.report import Cell, Finding

T3_WIDTH = 7
T4_WIDTH = 15
GAP_FILL_CONFIDENCE = 0.8
BLANK_ROW_CONFIDENCE = 0.7


@dataclass
class SplitRow:
    """A row cut into its label part and its value part."""

    row: Row
    label: str
    values: list[str]
    loose: bool  # values came from splitting a text line on spaces (blank cells are lost)
    value_slots: list[int] | None = None  # grid column of each value (grids only)
    value_boxes: list[BBox | None] = field(default_factory=list)  # page box of each value (None: unknown)

    def __post_init__(self) -> None:
        if len(self.value_boxes) != len(self.values):
            self.value_boxes = [None] * len(self.values)

    def keep(self, values: list[str], boxes: list[BBox | None]) -> None:
        """Replace the values (trimmed or reordered) together with their boxes."""
        self.values, self.value_boxes = values, boxes


@dataclass
class TableResult:
    table: str
    cells: list[Cell] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    template: str | None = None
    empty: bool = False


_PROSE = re.compile(r"[。；;]|\d\s*(?:件|条|项|个|次|万元|元|人|%)")


def looks_like_prose(label: str) -> bool:
    """A sentence that happens to end with a number ('…作出行政许可决定 542') is not a table row."""
    return bool(_PROSE.search(label)) or len(norm(label)) > 60


def split_row(row: Row) -> SplitRow:
    cells = row.cells
    if len(cells) == 1:
        tokens = cells[0].split()
        values: list[str] = []
        while tokens and parse_value(tokens[-1]).ok:
            values.insert(0, tokens.pop())
        label = " ".join(tokens)
        if values and looks_like_prose(label):
            return SplitRow(row, cells[0], [], loose=True)
        return SplitRow(row, label, values, loose=True, value_boxes=_word_boxes(row, values))
    last_label = -1
    seen_value = False
    for i, cell in enumerate(cells):
        if cell and not parse_value(cell).ok and not (seen_value and last_label >= 0 and _doubtful_ocr(row, i)):
            last_label = i
        seen_value = seen_value or (last_label >= 0 and i > last_label and bool(cell) and parse_value(cell).ok)
    label = " ".join(c for c in cells[: last_label + 1] if c)
    slots = row.slots[last_label + 1 :] if row.slots else None
    boxes = list(row.boxes[last_label + 1 :]) if row.boxes else []
    return SplitRow(row, label, list(cells[last_label + 1 :]), loose=False, value_slots=slots, value_boxes=boxes)


def _doubtful_ocr(row: Row, i: int) -> bool:
    """Cell i of the row was read by OCR with doubt: among the values after the label, such a cell
    is a value the recogniser could not read ('α' for a smudged digit), not more of the label."""
    return bool(row.confidence) and i < len(row.confidence) and row.confidence[i] is not None and row.confidence[i] < REVIEW_THRESHOLD  # type: ignore[index,operator]


def _word_boxes(row: Row, values: list[str]) -> list[BBox | None]:
    """Boxes of a text line's trailing values from its words, when the words end with exactly these
    values (the reader's word split and the text's may differ: then no boxes rather than wrong ones)."""
    words = row.words or []
    if not values or len(words) < len(values) or [w for w, _ in words[-len(values) :]] != values:
        return []
    return [box for _, box in words[-len(values) :]]


def _trim_span(values: list[str], width: int) -> slice:
    """Drop blank cells at the ends (trailing first) while there are more cells than the table has
    columns; a slice, so that the values' boxes are cut the same way."""
    start, end = 0, len(values)
    while end - start > width and not values[end - 1].strip():
        end -= 1
    while end - start > width and not values[start].strip():
        start += 1
    return slice(start, end)


def _trim(values: list[str], width: int) -> list[str]:
    return values[_trim_span(values, width)]


def _trimmed(split: SplitRow, width: int) -> tuple[list[str], list[BBox | None]]:
    span = _trim_span(split.values, width)
    return split.values[span], split.value_boxes[span]


def _ocr_confidence(row: Row, raw: str, box: BBox | None = None) -> float | None:
    """The OCR confidence of the cell a value came from: the cell with this box, else (no geometry)
    the least one of the cells with this text; None when the row was not OCR'd. By box, because a
    row often prints the same number twice (a total and its only part) and a doubtful reading of one
    must not make the other doubtful."""
    if not row.confidence:
        return None
    cells = list(zip(row.cells, row.confidence, row.boxes or [None] * len(row.cells), strict=False))
    if box is not None:
        exact = [c for text, c, b in cells if c is not None and text == raw and b == box]
        if exact:
            return min(exact)
    found = [c for text, c, _ in cells if c is not None and text == raw]
    return min(found) if found else None


def _cell(code: str, raw: str, row: Row, label: str, confidence: float = 1.0, box: BBox | None = None) -> Cell:
    value = parse_value(raw)
    ocr = _ocr_confidence(row, raw, box)
    if ocr is not None:
        confidence = min(confidence, ocr)
    return Cell(
        code=code,
        value=value.number,
        raw=raw,
        page=row.page,
        confidence=round(min(confidence, value.confidence) if value.ok else 0.0, 3),
        label=clean(label),
        bbox=box,
    )


def _all_blank(cells: list[Cell]) -> bool:
    return bool(cells) and all(not c.raw.strip() for c in cells)


# ---------------------------------------------------------------------------------------------- 表二


def _header_columns(header_rows: list[SplitRow]) -> list[str]:
    """Column keys of a block header, which may be wrapped over several rows or lines.

    Rows of one grid with the same number of cells are joined cell by cell ('本年废' + '止件数'),
    anything else is joined in reading order.
    """
    cells = [r.row.cells for r in header_rows]
    run = 1  # the trailing rows that have the same number of cells are joined cell by cell
    while run < len(cells) and len(cells[-run - 1]) == len(cells[-1]) > 1:
        run += 1
    joined = ["".join(c[i] or "" for c in cells[-run:]) for i in range(len(cells[-1]))]
    text = " ".join([*(r.row.text for r in header_rows[:-run]), *joined])
    return [key for _, key in t2_columns().find_all(text)]


@dataclass
class ColumnSpans:
    """Where the value columns of a 表二 block lie across the page, from its header words' boxes.

    A table printed without ruling lines reaches us as text lines, and a line with a blank cell has
    fewer numbers than the block has columns: only the x-position of each number says which column
    it is in. The header words say where the columns are, even where no row prints a number.
    """

    keys: list[str]  # column keys, left to right
    bounds: list[tuple[float, float]]  # x range of each column

    def place(self, boxes: list[BBox | None]) -> list[int] | None:
        """The column of each value, left to right; None when a value is not wholly inside one
        column, or two values fall in one column (then the position does not decide)."""
        columns: list[int] = []
        for box in boxes:
            if box is None:
                return None
            inside = [k for k, (lo, hi) in enumerate(self.bounds) if lo <= box[0] and box[2] <= hi]
            if len(inside) != 1 or (columns and inside[0] <= columns[-1]):
                return None
            columns.append(inside[0])
        return columns

    def left(self) -> float:
        return self.bounds[0][0]


Stack = list[tuple[str, BBox]]


def _column_spans(header_rows: list[SplitRow]) -> ColumnSpans | None:
    """The columns of a block header printed as text lines, possibly wrapped ('处理决' above and '定数量'
    below '上一年项目数量'). The header words are stacked by horizontal overlap, from the last header
    line upwards while the lines fit (each word on at most one stack; the block title joins the label
    column's stack; a line of prose or one that spans two columns ends the header). Every stack must
    name one column, except one stack left of them all: the label column."""
    lines = [r.row for r in header_rows]
    stacks: list[Stack] = []
    for line in reversed(lines):
        words = line.words or []
        if not words or line.page != lines[-1].page or looks_like_prose(line.text):
            break
        trial = [list(st) for st in stacks]
        if not _stack_words(trial, words):
            break
        stacks = trial
    named = _named(stacks)
    if not named:
        return None
    unnamed = [(min(b[0] for _, b in st), max(b[2] for _, b in st)) for st in stacks if not _keys_of(st)]
    if len(unnamed) > 1 or any(x1 > named[0][0] for _, x1 in unnamed):
        return None  # header words that name no column: the header is not understood
    centres = [(x0 + x1) / 2 for x0, x1, _ in named]
    if len(centres) >= 2:
        first_cut = centres[0] - (centres[1] - centres[0]) / 2
        last_cut = centres[-1] + (centres[-1] - centres[-2]) / 2
    elif unnamed:
        label = (min(x0 for x0, _ in unnamed) + max(x1 for _, x1 in unnamed)) / 2
        first_cut = (label + centres[0]) / 2
        last_cut = centres[0] + (centres[0] - first_cut)
    else:
        return None
    cuts = [first_cut, *((a + b) / 2 for a, b in zip(centres, centres[1:], strict=False)), last_cut]
    return ColumnSpans([key for _, _, key in named], list(zip(cuts, cuts[1:], strict=False)))


def _overlapping(stacks: list[Stack], box: BBox) -> list[Stack]:
    return [st for st in stacks if any(box[0] < b[2] and b[0] < box[2] for _, b in st)]


def _stack_words(stacks: list[Stack], words: list[tuple[str, BBox]]) -> bool:
    """Put each word on the stack it overlaps (a new stack if none); False if one overlaps two."""
    for word, box in words:
        hits = _overlapping(stacks, box)
        if len(hits) > 1:
            return False
        if hits:
            hits[0].append((word, box))
        else:
            stacks.append([(word, box)])
    return True


def _keys_of(stack: Stack) -> list[str]:
    """The column keys a stack of header words names, read top to bottom."""
    text = "".join(w for w, _ in sorted(stack, key=lambda wb: (wb[1][1], wb[1][0])))
    return [key for _, key in t2_columns().find_all(text)]


def _named(stacks: list[Stack]) -> list[tuple[float, float, str]] | None:
    """(x0, x1, column key) of the stacks that name a column, left to right; None if one names two."""
    out = []
    for st in stacks:
        keys = _keys_of(st)
        if len(keys) > 1:
            return None
        if keys:
            out.append((min(b[0] for _, b in st), max(b[2] for _, b in st), keys[0]))
    return sorted(out)


def _spans_for(spans: ColumnSpans | None, header: list[str], label: str) -> ColumnSpans | None:
    """The block's column spans, if they are the current header's and name columns the row has."""
    if spans is None or spans.keys != header:
        return None
    match = t2_rows().match(label, fuzzy=len(norm(label)) >= 5)
    catalogue = cell_catalogue()
    if match is None or not all(f"t2.{match.key}.{c}" in catalogue for c in spans.keys):
        return None
    return spans


def _place_by_spans(split: SplitRow, spans: ColumnSpans) -> bool:
    """Lay a text line's values out under its block's header columns ('' where a column has none).
    The line may be on the page after the header's (a block split by a page break keeps its
    columns), but its label must sit in the label column, left of every value column."""
    words = split.row.words or []
    if not split.loose or not split.values or len(words) <= len(split.values):
        return False
    if any(box[2] > spans.left() for _, box in words[: -len(split.values)]):
        return False
    columns = spans.place(split.value_boxes)
    if columns is None:
        return False
    values: list[str] = [""] * len(spans.keys)
    boxes: list[BBox | None] = [None] * len(spans.keys)
    for k, raw, box in zip(columns, split.values, split.value_boxes, strict=True):
        values[k], boxes[k] = raw, box
    split.keep(values, boxes)
    return True


def _blank_by_spans(rows: list[Row], i: int, split: SplitRow, spans: ColumnSpans | None) -> bool:
    """A text line that is a row label alone, under a header whose columns are known, and with no
    word in any column: the row's cells are all blank (a table that prints zeros as blanks). Not when
    a neighbouring line carries values without a label (the row's numbers printed on a line of their own)."""
    row = split.row
    if spans is None or not split.loose or split.values or not row.words:
        return False
    match = t2_rows().match(split.label, fuzzy=False)
    if match is None or match.score < 1.0 or len(norm(split.label)) > len(match.variant) + 4:
        return False
    if any(box[2] > spans.left() for _, box in row.words):
        return False
    for j in (i - 1, i + 1):
        if 0 <= j < len(rows):
            near = split_row(rows[j])
            if not near.label and near.values:
                return False
    split.keep([""] * len(spans.keys), [None] * len(spans.keys))
    return True


def interpret_t2(rows: list[Row]) -> TableResult:
    result = TableResult("t2")
    catalogue = cell_catalogue()
    vocab = vocabulary()["t2"]
    header: list[str] = []
    header_rows: list[SplitRow] = []
    spans: ColumnSpans | None = None  # the block's columns on the page, when its header is text lines
    seen_columns: set[str] = set()
    pending: list[tuple[str, SplitRow, float, list[str]]] = []  # (row key, split row, match score, header columns)
    for i, row in enumerate(rows):
        split = split_row(row)
        numbers = [v for v in split.values if v.strip() and parse_value(v).ok]
        if not numbers:
            if t2_rows().match(split.label, fuzzy=False) is None or t2_columns().find_all(split.label):
                header_rows.append(split)
                columns = _header_columns(header_rows)
                found = _column_spans(header_rows)
                if found is not None and set(columns) <= set(found.keys):
                    columns, spans = found.keys, found  # also the columns whose header words were wrapped apart
                elif columns:
                    spans = None
                if columns:
                    header = columns
                    seen_columns.update(columns)
                if not split.values:
                    continue
            elif not split.values and not _blank_by_spans(rows, i, split, _spans_for(spans, header, split.label)):
                continue  # a label alone, not known to be a row of blanks
        else:
            header_rows = []
            if (fit := _spans_for(spans, header, split.label)) is not None:
                _place_by_spans(split, fit)
        if not split.label or t2_ignored_rows().match(split.label, fuzzy=False):
            continue
        match = t2_rows().match(split.label, fuzzy=len(norm(split.label)) >= 5)
        if match is None or not split.values:
            continue
        header_rows = []
        pending.append((match.key, split, match.score, header))
    template = None
    if seen_columns & set(vocab["template_columns"]["2021"]):
        template = "2021"
    elif seen_columns & set(vocab["template_columns"]["2019"]):
        template = "2019"
    result.template = template
    done: set[str] = set()
    for key, split, score, header_cols in pending:
        columns, confidence = _t2_columns_for(key, split, header_cols, template)
        confidence = min(confidence, score)
        if columns is None:
            continue
        values, boxes = _trimmed(split, len(columns))
        label, n = clean(split.label), len(values)
        if n != len(columns):
            confidence = min(confidence, 0.5)
            if n < len(columns):
                rule, message = "structure.incomplete_row", f"表二「{label}」只读到 {n} 个数值，应有 {len(columns)} 个；按从左到右对应，请核对"
            else:
                rule, message = "structure.extra_values", f"表二「{label}」读到 {n} 个数值，多于该行的 {len(columns)} 栏；按从左到右取前 {len(columns)} 个，请核对"
            codes = [f"t2.{key}.{c}" for c in columns]
            result.findings.append(Finding(rule=rule, severity="warning", message=message, codes=codes, section="active", page=split.row.page))
        for col, raw, box in zip(columns, values, boxes, strict=False):
            code = f"t2.{key}.{col}"
            if code in done or code not in catalogue:
                continue
            done.add(code)
            result.cells.append(_cell(code, raw, split.row, split.label, confidence, box))
    if result.cells and _all_blank(result.cells):
        result.empty = True
    return result


def _t2_columns_for(key: str, split: SplitRow, header: list[str], template: str | None) -> tuple[list[str] | None, float]:
    """The columns of one 表二 row: its block's printed header when that fits the row, else the
    template's columns for the row when their number matches the values printed."""
    catalogue = cell_catalogue()
    defaults = vocabulary()["t2"]["default_columns"].get(template or "2021", {}).get(key)
    n_values = len(_trim(split.values, len(header) if header else len(defaults or split.values)))
    header_ok = bool(header) and all(f"t2.{key}.{c}" in catalogue for c in header)
    if header_ok and len(header) == n_values:
        return header, 1.0
    if defaults and len(_trim(split.values, len(defaults))) == len(defaults):
        return defaults, 0.9
    if header_ok:
        return header, 0.7
    return defaults, 0.6


# ---------------------------------------------------------------------------------------------- 表三


def _t3_header_columns(rows: list[Row]) -> dict[int | None, dict[int, str]]:
    """Per grid: grid column → applicant column, read from the header cells (自然人 … 总计, 小计)."""
    columns = t3_columns()
    by_grid: dict[int | None, dict[int, str]] = {}
    for row in rows:
        if row.slots is None:
            continue
        for text, slot in zip(row.cells, row.slots, strict=True):
            match = columns.match(text, fuzzy=False) if 0 < len(norm(text)) <= 10 else None
            if match is not None and len(norm(text)) <= len(match.variant) + 1:
                by_grid.setdefault(row.grid, {})[slot] = match.key
    return by_grid


def _by_header(split: SplitRow, header: dict[int, str]) -> tuple[list[str], list[BBox | None]] | None:
    """The 7 values of a row placed by its grid's header, when the header names all 7 columns and
    the row is not in the standard layout (an extra 小计 column, columns in another order)."""
    order = vocabulary()["t3"]["columns"]
    if not split.value_slots or not all(col in header.values() for col in order):
        return None
    named = [header[s] for s in split.value_slots if s in header]
    if len(split.values) == T3_WIDTH and named == order:
        return None  # the standard layout: position is enough
    slot_of = {col: slot for slot, col in header.items() if col in order}
    values = dict(zip(split.value_slots, split.values, strict=True))
    boxes = dict(zip(split.value_slots, split.value_boxes, strict=True))
    return [values.get(slot_of[col], "") for col in order], [boxes.get(slot_of[col]) for col in order]


def _t3_value_rows(rows: list[Row], findings: list[Finding]) -> list[tuple[SplitRow, str | None, float]]:
    """Rows of 表三 that carry values, with the row code their label names (None when unlabelled).
    Group subtotal rows that some agencies add are left out, with a note in `findings`."""
    out = []
    headers = _t3_header_columns(rows)
    for row in rows:
        split = split_row(row)
        placed = _by_header(split, headers[row.grid]) if row.grid in headers else None
        values, boxes = placed if placed is not None else _trimmed(split, T3_WIDTH)
        if len(values) < T3_WIDTH - 1:
            continue
        split.keep(values, boxes)
        code, score = None, 0.0
        if split.label and not _is_subtotal(split.label):
            match = t3_rows().match(split.label)
            if match is not None:
                code, score = match.key, match.score
        if code is None and not any(v.strip() for v in values):
            continue  # a header or spacer row: nothing to place
        if code is None and _is_subtotal(split.label):
            findings.append(
                Finding(
                    rule="structure.subtotal_row",
                    severity="info",
                    message=f"表三「{clean(split.label)}」为格式之外的小计行，未计入",
                    section="requests",
                    page=row.page,
                )
            )
            continue
        out.append((split, code, score))
    return out


def _is_subtotal(label: str) -> bool:
    text = norm(label)
    return bool(text) and (text in t3_subtotal_labels() or text.replace("三、本年度办理结果", "", 1) in t3_subtotal_labels())


def _place_unlabelled(observed: list[tuple[SplitRow, str | None, float]], sequence: list[str]) -> dict[int, str] | None:
    """Assign unlabelled rows to the template slots between their labelled neighbours, or None if they don't fit."""
    position = {code: i for i, code in enumerate(sequence)}
    labelled = {code for _, code, _ in observed if code is not None}
    placement: dict[int, str] = {}
    run: list[int] = []
    previous = -1
    for k, (_, code, _) in enumerate([*observed, (None, "__end__", 0.0)]):
        if code is None:
            run.append(k)
            continue
        nxt = position.get(code, len(sequence)) if code != "__end__" else len(sequence)
        if code != "__end__" and code not in position:
            return None  # a labelled row of the other template: this sequence is the wrong one
        if run:
            free = [c for c in sequence[previous + 1 : nxt] if c not in labelled]
            if nxt <= previous or len(free) != len(run):
                return None
            placement.update(dict(zip(run, free, strict=True)))
            run = []
        previous = max(previous, nxt)
    return placement


def interpret_t3(rows: list[Row], template_hint: str | None = None) -> TableResult:
    """`template_hint` (from 表二's headers) decides which （六） rows are expected when 表三 shows neither."""
    result = TableResult("t3")
    observed = _t3_value_rows(rows, result.findings)
    if not observed:
        return result
    labelled = [code for _, code, _ in observed if code]
    split_other = any(c.startswith("other.") for c in labelled)
    has_unlabelled = any(code is None for _, code, _ in observed)
    template = "2021" if split_other else ("2019" if "other" in labelled else None)
    placement: dict[int, str] = {}
    if has_unlabelled:
        options = [template] if template else ["2019", "2021"]
        for option in options:
            found = _place_unlabelled(observed, t3_sequence(option))
            if found is not None:
                placement, template = found, option
                break
        else:
            count = sum(1 for _, code, _ in observed if code is None)
            result.findings.append(
                Finding(
                    rule="structure.unplaced_rows",
                    severity="warning",
                    message=f"表三有 {count} 行数值缺少可识别的行标签，且无法按模板顺序确定位置，未采用",
                    section="requests",
                    page=next(s.row.page for s, code, _ in observed if code is None),
                )
            )
    result.template = template
    columns = vocabulary()["t3"]["columns"]
    seen: set[str] = set()
    for k, (split, code, score) in enumerate(observed):
        confidence = score
        if code is None and k in placement:
            code, confidence = placement[k], GAP_FILL_CONFIDENCE
        if code is None:
            continue
        if code in seen:
            result.findings.append(
                Finding(
                    rule="structure.duplicate_row",
                    severity="warning",
                    message=f"表三「{t3_row_label(code)}」出现两次，只采用第一次的数值",
                    codes=[f"t3.{code}.{c}" for c in columns],
                    section="requests",
                    page=split.row.page,
                )
            )
            continue
        seen.add(code)
        values = split.values
        if len(values) < T3_WIDTH:
            confidence = min(confidence, 0.5)
            result.findings.append(
                Finding(
                    rule="structure.incomplete_row",
                    severity="warning",
                    message=f"表三「{t3_row_label(code)}」只读到 {len(values)} 个数值（应有 7 个），缺少的单元格无法读取",
                    codes=[f"t3.{code}.{c}" for c in columns[len(values) :]],
                    section="requests",
                    page=split.row.page,
                )
            )
        label = split.label or t3_row_label(code)
        for i, col in enumerate(columns):
            if i < len(values):
                result.cells.append(_cell(f"t3.{code}.{col}", values[i], split.row, label, confidence, split.value_boxes[i]))
            else:
                result.cells.append(Cell(f"t3.{code}.{col}", None, "", split.row.page, 0.0, clean(label)))
    if result.cells and _all_blank(result.cells):
        result.empty = True
        return result
    if not any(f.rule == "structure.unplaced_rows" for f in result.findings):
        _blank_label_rows(rows, result, seen, template or template_hint, columns)
    _derive_other(result, seen, columns)
    _missing_t3_rows(result, seen, template or template_hint, columns)
    return result


def _blank_label_rows(rows: list[Row], result: TableResult, seen: set[str], template: str | None, columns: list[str]) -> None:
    """A table printed without ruling lines and with zeros left blank shows a row of zeros as its label
    alone. Where such a label line names a row that no value row gave, and the table leaves cells blank
    elsewhere, the row is read as blank (0) — with less confidence and a warning, never silently."""
    if not any(c.raw.strip() == "" and not c.derived for c in result.cells):
        return
    expected = set(t3_sequence(template or "2019"))
    for row in rows:
        if not row.is_line or split_row(row).values:
            continue
        match = t3_rows().match(row.text, fuzzy=False)
        if match is None or match.score < 1.0 or match.key in seen or match.key not in expected:
            continue
        if len(norm(row.text)) > len(match.variant) + 4:
            continue  # the label with other words: a wrapped fragment or prose, not a row of its own
        seen.add(match.key)
        for col in columns:
            result.cells.append(Cell(f"t3.{match.key}.{col}", 0, "", row.page, BLANK_ROW_CONFIDENCE, clean(row.text)))
        result.findings.append(
            Finding(
                rule="structure.blank_row",
                severity="warning",
                message=f"表三「{t3_row_label(match.key)}」只印出行标签、没有数值，按空白（0）读取，请核对",
                codes=[f"t3.{match.key}.{c}" for c in columns],
                section="requests",
                page=row.page,
            )
        )


def _derive_other(result: TableResult, seen: set[str], columns: list[str]) -> None:
    """Emit t3.other.* as the sum of the three （六） sub-rows when they are printed and the row is not."""
    parts = ["other.no_correction", "other.unpaid_fee", "other.other"]
    if "other" in seen or not all(p in seen for p in parts):
        return
    by_code = {c.code: c for c in result.cells}
    for col in columns:
        cells = [by_code.get(f"t3.{p}.{col}") for p in parts]
        if any(c is None or c.value is None for c in cells):
            value = None
        else:
            value = sum(c.value for c in cells)  # type: ignore[misc]
        result.cells.append(
            Cell(
                code=f"t3.other.{col}",
                value=value,
                raw="",
                page=cells[0].page if cells[0] else None,
                confidence=min((c.confidence for c in cells if c), default=0.0),
                label="（六）其他处理（三项之和）",
                derived=True,
            )
        )


def _missing_t3_rows(result: TableResult, seen: set[str], template: str | None, columns: list[str]) -> None:
    sequence = t3_sequence(template or "2019")
    if template is None:  # neither form of （六） printed: don't demand either
        sequence = [c for c in sequence if c != "other"]
    missing = [code for code in sequence if code not in seen]
    if not missing:
        return
    labels = "、".join(t3_row_label(code) for code in missing)
    result.findings.append(
        Finding(
            rule="structure.missing_rows",
            severity="error",
            message=f"表三缺少 {len(missing)} 行：{labels}",
            codes=[f"t3.{code}.{col}" for code in missing for col in columns],
            section="requests",
            page=result.cells[-1].page if result.cells else None,
        )
    )


# ---------------------------------------------------------------------------------------------- 表四


def interpret_t4(rows: list[Row]) -> TableResult:
    result = TableResult("t4")
    vocab = vocabulary()["t4"]
    codes = [f"t4.{g}.{c}" for g in vocab["groups"] for c in vocab["columns"]]
    runs: list[tuple[str, BBox | None, SplitRow]] = []
    for row in rows:
        split = split_row(row)
        label = norm(split.label)
        if len(split.values) < 3 or len(label) > 12:
            continue
        for raw, box in zip(split.values, split.value_boxes, strict=True):
            runs.append((raw, box, split))
    if not runs:
        return result
    exact = [s for s in {id(s): s for _, _, s in runs}.values() if len(_trim(s.values, T4_WIDTH)) == T4_WIDTH]
    confidence = 1.0
    if exact:
        values = [(raw, box, exact[0]) for raw, box in zip(*_trimmed(exact[0], T4_WIDTH), strict=True)]
    else:
        values = runs[:T4_WIDTH]
        if len(runs) != T4_WIDTH:
            confidence = 0.5
            result.findings.append(
                Finding(
                    rule="structure.incomplete_row",
                    severity="warning",
                    message=f"表四读到 {len(runs)} 个数值（应为 15 个），按固定顺序对应，请核对",
                    codes=codes[len(runs) :] if len(runs) < T4_WIDTH else codes,
                    section="review",
                    page=runs[0][2].row.page,
                )
            )
    for code, (raw, box, split) in zip(codes, values, strict=False):
        result.cells.append(_cell(code, raw, split.row, "", confidence, box))
    if _all_blank(result.cells):
        result.empty = True
    return result


def interpret(layout: Layout) -> dict[str, TableResult]:
    t2 = interpret_t2(layout.region_rows("t2"))
    return {
        "t2": t2,
        "t3": interpret_t3(layout.region_rows("t3"), template_hint=t2.template),
        "t4": interpret_t4(layout.region_rows("t4")),
    }
