"""Words, text lines and ruled tables from a PDF page's chars and ruling lines, for the pdfium engine.

These are pdfplumber's own algorithms, with the settings the reader uses: words and lines clustered
with its 3-point tolerances, text lines as its `extract_text_lines(layout=False)` gives them, and
tables by its 'lines' strategy (edges snapped and joined, intersections, cells, tables). They are
written again small because importing pdfplumber imports pdfminer (a tenth of a second at every
process start, for code the pdfium engine never runs), and because its general versions, dict
copies at every step, took a third of a PDF's parse. The results are the same:
tests/test_pdfium.py compares the pdfium engine, which uses this module, with pdfplumber itself on
every fixture PDF, and tests/test_pdf_layout.py compares each function with its pdfplumber original.

Objects are pdfplumber's dicts: chars with text, x0, x1, top, bottom, upright; lines, rects and
curves with x0, x1, top, bottom, width, height (and a curve's pts).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

Obj = dict[str, Any]
BBox = tuple[float, float, float, float]

X_TOLERANCE = 3
Y_TOLERANCE = 3
LIGATURES = {"ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}
_LINE = re.compile(r" *([^\n]+?) *(\n|$)")  # pdfplumber's stripped text line


# ---------------------------------------------------------------- clustering


def _cluster_index(values: Iterable[float], tolerance: float) -> dict[float, int]:
    """Each distinct value's cluster: sorted values within `tolerance` of the previous one chain."""
    index: dict[float, int] = {}
    group, last = -1, None
    for value in sorted(set(values)):
        if last is None or tolerance == 0 or value > last + tolerance:
            group += 1
        index[value] = group
        last = value
    return index


def cluster_objects(items: list, key: Callable[[Any], float], tolerance: float, preserve_order: bool = False) -> list[list]:
    """Items grouped by clusters of `key`: in cluster order (stable), or as consecutive runs."""
    keys = [key(item) for item in items]
    index = _cluster_index(keys, tolerance)
    if next(reversed(index.values()), 0) == 0:  # one cluster (the last value's is the highest): most cells, lines
        return [list(items)] if items else []
    pairs = [(item, index[k]) for item, k in zip(items, keys, strict=True)]
    if not preserve_order:
        pairs.sort(key=itemgetter(1))
    return [[item for item, _ in run] for _, run in itertools.groupby(pairs, key=itemgetter(1))]


_X0, _TOP, _X1, _BOTTOM = itemgetter("x0"), itemgetter("top"), itemgetter("x1"), itemgetter("bottom")


def bbox_of(objects: list[Obj]) -> BBox:
    return (min(map(_X0, objects)), min(map(_TOP, objects)), max(map(_X1, objects)), max(map(_BOTTOM, objects)))


# ---------------------------------------------------------------- words and lines


Word = tuple[str, float, float, float, float]  # text, x0, top, x1, bottom


def _begins_upright_word(prev: Obj, char: Obj) -> bool:
    """A char starts a new word when it goes back, leaves a gap beyond the tolerance, or moves across
    the line (upright text runs along x; `_begins_rotated_word` for text running top to bottom)."""
    return char["x0"] < prev["x0"] or char["x0"] > prev["x1"] + X_TOLERANCE or abs(char["top"] - prev["top"]) > Y_TOLERANCE


def _begins_rotated_word(prev: Obj, char: Obj) -> bool:
    return char["top"] < prev["top"] or char["top"] > prev["bottom"] + Y_TOLERANCE or abs(char["x0"] - prev["x0"]) > X_TOLERANCE


def _split_words(line: list[Obj], upright: bool) -> Iterable[list[Obj]]:
    begins_word = _begins_upright_word if upright else _begins_rotated_word
    current: list[Obj] = []
    for char in line:
        text = char["text"]
        if text.isspace():
            if current:
                yield current
            current = []
        elif text == "":  # pdfplumber's punctuation test matches an empty text: a word of its own
            if current:
                yield current
            yield [char]
            current = []
        elif current and begins_word(current[-1], char):
            yield current
            current = [char]
        else:
            current.append(char)
    if current:
        yield current


_TEXT, _UPRIGHT, _ROTATED_ORDER = itemgetter("text"), itemgetter("upright"), itemgetter("top", "bottom")


def words(chars: list[Obj]) -> list[tuple[Word, list[Obj]]]:
    """The words of `chars` (in their order, runs of upright and rotated chars apart), each with its
    chars: chars clustered into lines, ordered along the line, split at gaps and spaces."""
    out: list[tuple[Word, list[Obj]]] = []
    for upright, run in itertools.groupby(chars, key=_UPRIGHT):
        run_chars = list(run)
        if upright:
            lines = cluster_objects(run_chars, _TOP, Y_TOLERANCE)
            order = _X0
        else:
            lines = cluster_objects(run_chars, _X0, X_TOLERANCE)
            order = _ROTATED_ORDER
        for line in lines:
            line.sort(key=order)
            for word_chars in _split_words(line, bool(upright)):
                x0, top, x1, bottom = bbox_of(word_chars)
                text = "".join([LIGATURES.get(t, t or "") for t in map(_TEXT, word_chars)])
                out.append(((text, x0, top, x1, bottom), word_chars))
    return out


def extract_text(chars: list[Obj]) -> str:
    """The text of `chars` (a table cell's): words joined by a space, lines by a newline."""
    if not chars:
        return ""
    lines = cluster_objects([w for w, _ in words(chars)], itemgetter(2), Y_TOLERANCE)
    return "\n".join(" ".join(w[0] for w in line) for line in lines)


def text_lines(chars: list[Obj]) -> list[Obj]:
    """The lines of text of `chars` in their order, each with its text, box and chars."""
    letters: list[str] = []
    owners: list[Obj | None] = []
    lines = cluster_objects(words(chars), lambda pair: pair[0][2], Y_TOLERANCE, preserve_order=True)
    for i, line in enumerate(lines):
        if i:
            letters.append("\n")
            owners.append(None)
        length = 0
        for _, word_chars in line:
            if length:
                letters.append(" ")
                owners.append(None)
                length += 1
            for char in word_chars:
                piece = LIGATURES.get(char["text"], char["text"])
                letters.append(piece)
                owners.extend([char] * len(piece))  # one owner a letter
                length += len(piece)
    out = []
    for match in _LINE.finditer("".join(letters)):
        if not match.group(1).strip():
            continue
        line_chars = [c for c in owners[match.start(1) : match.end(1)] if c is not None]
        x0, top, x1, bottom = bbox_of(line_chars)
        out.append({"text": match.group(1), "x0": x0, "top": top, "x1": x1, "bottom": bottom, "chars": line_chars})
    return out


def outside(objects: list[Obj], bbox: BBox) -> list[Obj]:
    """The objects that do not touch `bbox` (an overlap of zero width and height does not count)."""
    left, top, right, bottom = bbox
    kept = []
    for o in objects:
        # min() and max() written out (they are most of the time here), keeping their choice on ties
        x0, x1, o_top, o_bottom = o["x0"], o["x1"], o["top"], o["bottom"]
        width = (right if right < x1 else x1) - (left if left > x0 else x0)
        height = (bottom if bottom < o_bottom else o_bottom) - (top if top > o_top else o_top)
        if not (width >= 0 and height >= 0 and width + height > 0):
            kept.append(o)
    return kept


# ---------------------------------------------------------------- ruling lines to tables


def edges(lines: list[Obj], rects: list[Obj], curves: list[Obj]) -> list[Obj]:
    """The page's edges: each line, the four sides of each rect, each segment of each curve."""
    out = []
    for line in lines:
        out.append({**line, "orientation": "h" if line["top"] == line["bottom"] else "v"})
    for rect in rects:
        x0, x1, top, height, width = rect["x0"], rect["x1"], rect["top"], rect["height"], rect["width"]
        out.append({"x0": x0, "x1": x1, "top": top, "bottom": top, "width": width, "height": 0, "orientation": "h"})
        out.append({"x0": x0, "x1": x1, "top": top + height, "bottom": rect["bottom"], "width": width, "height": 0, "orientation": "h"})
        out.append({"x0": x0, "x1": x0, "top": top, "bottom": rect["bottom"], "width": 0, "height": height, "orientation": "v"})
        out.append({"x0": x1, "x1": x1, "top": top, "bottom": rect["bottom"], "width": 0, "height": height, "orientation": "v"})
    for curve in curves:
        for (ax, ay), (bx, by) in itertools.pairwise(curve["pts"]):
            orientation = "v" if ax == bx else ("h" if ay == by else None)
            out.append({"x0": min(ax, bx), "x1": max(ax, bx), "top": min(ay, by), "bottom": max(ay, by), "width": abs(ax - bx), "height": abs(ay - by), "orientation": orientation})
    return out


def _object_edges(objects: list[Obj] | None) -> list[Obj]:
    """The edges of explicit line objects (lines, rects, curves; positions alone are not supported)."""
    if not objects:
        return []
    if not all(isinstance(o, dict) for o in objects):
        raise ValueError("explicit lines must be objects")
    out = []
    for o in objects:
        kind = o["object_type"]
        out += edges([o] if kind == "line" else [], [o] if kind == "rect" else [], [o] if kind == "curve" else [])
    return out


def _long_enough(edge: Obj, min_length: float) -> bool:
    return edge["height" if edge["orientation"] == "v" else "width"] >= min_length


def _snap(group: list[Obj], attr: str, other: str, tolerance: float) -> list[Obj]:
    """Edges within `tolerance` of each other moved to their mean position."""
    out = []
    for cluster in cluster_objects(group, itemgetter(attr), tolerance):
        mean = sum(e[attr] for e in cluster) / len(cluster)
        for e in cluster:
            shift = mean - e[attr]
            out.append({**e, attr: e[attr] + shift, other: e[other] + shift})
    return out


def _join(group: list[Obj], lo: str, hi: str, size: str, tolerance: float) -> list[Obj]:
    """Edges of one line that overlap or nearly touch joined into one."""
    ordered = sorted(group, key=itemgetter(lo))
    joined = [ordered[0]]
    for e in ordered[1:]:
        last = joined[-1]
        if e[lo] <= last[hi] + tolerance:
            if e[hi] > last[hi]:
                grown = e[hi] - last[hi]
                joined[-1] = {**last, hi: e[hi], size: (e[hi] - last[lo]) if size == "width" else last[size] + grown}
        else:
            joined.append(e)
    return joined


def table_edges(all_edges: list[Obj], settings: dict) -> list[Obj]:
    """The 'lines' strategy's edges: long enough, snapped, joined, long enough again."""
    snap, join = settings.get("snap_tolerance", 3), settings.get("join_tolerance", 3)
    prefilter, min_length = settings.get("edge_min_length_prefilter", 1), settings.get("edge_min_length", 3)
    vertical = [e for e in all_edges if e["orientation"] == "v" and _long_enough(e, prefilter)]
    horizontal = [e for e in all_edges if e["orientation"] == "h" and _long_enough(e, prefilter)]
    # lines not drawn on the page (a scan's, found in its image): objects whose edges join unfiltered
    vertical += [e for e in _object_edges(settings.get("explicit_vertical_lines")) if e["orientation"] == "v"]
    horizontal += [e for e in _object_edges(settings.get("explicit_horizontal_lines")) if e["orientation"] == "h"]
    if snap > 0:
        vertical, horizontal = _snap(vertical, "x0", "x1", snap), _snap(horizontal, "top", "bottom", snap)

    def line_of(edge: Obj) -> tuple[str, float]:
        return ("h", edge["top"]) if edge["orientation"] == "h" else ("v", edge["x0"])

    merged: list[Obj] = []
    for (orientation, _), group in itertools.groupby(sorted(vertical + horizontal, key=line_of), key=line_of):
        if orientation == "h":
            merged += _join(list(group), "x0", "x1", "width", join)
        else:
            merged += _join(list(group), "top", "bottom", "height", join)
    return [e for e in merged if _long_enough(e, min_length)]


def intersections(table_edges: list[Obj], tolerance: float = 3) -> dict[tuple[float, float], dict[str, list[Obj]]]:
    """Where vertical and horizontal edges cross (within `tolerance`), with the edges crossing there."""
    out: dict[tuple[float, float], dict[str, list[Obj]]] = {}
    vertical = sorted((e for e in table_edges if e["orientation"] == "v"), key=itemgetter("x0", "top"))
    horizontal = sorted((e for e in table_edges if e["orientation"] == "h"), key=itemgetter("top", "x0"))
    tops = [h["top"] for h in horizontal]
    reach = tolerance + 1e-6  # the window a little wider than the test below, which decides
    for v in vertical:
        x, v_top, v_bottom = v["x0"], v["top"], v["bottom"]
        # only the horizontals whose line lies near the vertical's span (they are sorted by top)
        for h in horizontal[bisect.bisect_left(tops, v_top - reach) : bisect.bisect_right(tops, v_bottom + reach)]:
            if v_top <= h["top"] + tolerance and v_bottom >= h["top"] - tolerance and h["x0"] - tolerance <= x <= h["x1"] + tolerance:
                point = out.setdefault((x, h["top"]), {"v": [], "h": []})
                point["v"].append(v)
                point["h"].append(h)
    return out


def cells(points: dict[tuple[float, float], dict[str, list[Obj]]]) -> list[BBox]:
    """The smallest cell each intersection (in sorted order) is the top-left corner of: the points
    directly below and right of it joined to it and to a common corner by edges."""
    box = itemgetter("x0", "top", "x1", "bottom")
    vertical = {p: {box(e) for e in crossing["v"]} for p, crossing in points.items()}
    horizontal = {p: {box(e) for e in crossing["h"]} for p, crossing in points.items()}

    ordered = sorted(points)
    same_x: dict[float, list] = {}
    same_y: dict[float, list] = {}
    position = {}  # point -> its place in its column and in its row
    for point in ordered:  # in sorted order, so each list is too
        column, row = same_x.setdefault(point[0], []), same_y.setdefault(point[1], [])
        position[point] = (len(column), len(row))
        column.append(point)
        row.append(point)
    # points of one column are joined by a vertical edge they share, points of one row by a
    # horizontal one (a point below shares the x, one to the right the y, the corner both in turn)
    out = []
    for point in ordered[:-1]:
        ix, iy = position[point]
        down, across = vertical[point], horizontal[point]
        rights = None
        found = None
        for below in same_x[point[0]][ix + 1 :]:
            if down.isdisjoint(vertical[below]):
                continue
            if rights is None:
                rights = [r for r in same_y[point[1]][iy + 1 :] if not across.isdisjoint(horizontal[r])]
                if not rights:
                    break  # nothing joined to the right: no cell starts here
            for right in rights:
                corner = (right[0], below[1])
                if corner in points and not vertical[corner].isdisjoint(vertical[right]) and not horizontal[corner].isdisjoint(horizontal[below]):
                    found = (point[0], point[1], corner[0], corner[1])
                    break
            if found:
                break
        if found:
            out.append(found)
    return out


def _corners(cell: BBox) -> tuple:
    x0, top, x1, bottom = cell
    return ((x0, top), (x0, bottom), (x1, top), (x1, bottom))


def cells_to_tables(found: list[BBox]) -> list[list[BBox]]:
    """Cells grouped into tables of cells that share corners, top to bottom; lone cells dropped."""
    remaining = list(found)
    corners: set = set()
    current: list[BBox] = []
    tables = []
    while remaining:
        before = len(current)
        unclaimed = []
        for cell in remaining:
            own = _corners(cell)
            if not current or not corners.isdisjoint(own):
                corners.update(own)
                current.append(cell)
            else:
                unclaimed.append(cell)
        remaining = unclaimed
        if len(current) == before:
            tables.append(list(current))
            corners.clear()
            current.clear()
    if current:
        tables.append(list(current))
    tables.sort(key=lambda t: min((c[1], c[0]) for c in t))
    return [t for t in tables if len(t) > 1]


class Row:
    """A table row: one slot per column of the table, None where no cell starts."""

    def __init__(self, slots: list[BBox | None]):
        self.cells = slots
        present = [c for c in slots if c is not None]
        self.bbox = (min(c[0] for c in present), min(c[1] for c in present), max(c[2] for c in present), max(c[3] for c in present))


class Table:
    """A ruled table found on a page: its cells, rows, box and texts."""

    def __init__(self, chars: list[Obj], table_cells: list[BBox]):
        self.chars = chars
        self.cells = table_cells

    @functools.cached_property
    def bbox(self) -> BBox:
        c = self.cells
        return (min(x[0] for x in c), min(x[1] for x in c), max(x[2] for x in c), max(x[3] for x in c))

    @functools.cached_property
    def rows(self) -> list[Row]:
        """The rows, computed once: `extract` and the reader's cell boxes both read them."""
        columns = sorted({c[0] for c in self.cells})
        out = []
        for _, row_cells in itertools.groupby(sorted(self.cells, key=itemgetter(1, 0)), itemgetter(1)):
            at = {cell[0]: cell for cell in row_cells}
            out.append(Row([at.get(x) for x in columns]))
        return out

    def extract(self) -> list[list[str | None]]:
        """Each cell's text from the chars whose centre lies in it (None for a slot no cell starts):
        a row takes its chars from an index sorted by height, a cell its own from the row's sorted
        by width, instead of testing every char (each in the order of `chars`)."""
        chars = self.chars
        mid_x = [(ch["x0"] + ch["x1"]) / 2 for ch in chars]
        mid_y = [(ch["top"] + ch["bottom"]) / 2 for ch in chars]
        by_y = sorted(range(len(chars)), key=mid_y.__getitem__)
        y_keys = [mid_y[i] for i in by_y]
        table: list[list[str | None]] = []
        for row in self.rows:
            x0, top, x1, bottom = row.bbox
            in_row = by_y[bisect.bisect_left(y_keys, top) : bisect.bisect_left(y_keys, bottom)]
            by_x = sorted((i for i in in_row if x0 <= mid_x[i] < x1), key=mid_x.__getitem__)
            x_keys = [mid_x[i] for i in by_x]
            texts: list[str | None] = []
            for cell in row.cells:
                if cell is None:
                    texts.append(None)
                    continue
                cx0, ctop, cx1, cbottom = cell
                in_cell = by_x[bisect.bisect_left(x_keys, cx0) : bisect.bisect_left(x_keys, cx1)]
                texts.append(extract_text([chars[i] for i in sorted(i for i in in_cell if ctop <= mid_y[i] < cbottom)]))
            table.append(texts)
        return table


def find_tables(chars: list[Obj], all_edges: list[Obj], settings: dict) -> list[Table]:
    """The ruled tables of a page, as pdfplumber's `find_tables` with the 'lines' strategies."""
    tolerance = settings.get("intersection_tolerance", 3)
    crossings = intersections(table_edges(all_edges, settings), tolerance)
    return [Table(chars, group) for group in cells_to_tables(cells(crossings))]
