"""pdf_layout against pdfplumber, function by function, on generated pages: chars in lines and in
rotated runs, ligatures, spaces and empty texts; ruling lines as lines, rects and curves, near each
other (snapped), in pieces (joined), and too short. tests/test_pdfium.py compares whole documents."""

from __future__ import annotations

import random

import pytest
from pdfplumber import table as plumber_table
from pdfplumber import utils as plumber_utils
from pdfplumber.utils.text import chars_to_textmap

from extractor.readers import pdf_layout

SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines", "snap_tolerance": 3, "join_tolerance": 3}


def char(text: str, x0: float, top: float, size: float = 10.0, upright: bool = True) -> dict:
    return {"text": text, "x0": x0, "x1": x0 + size, "top": top, "bottom": top + size, "upright": upright, "doctop": top, "size": size}


def random_chars(rng: random.Random) -> list[dict]:
    """Lines of words at slightly uneven heights and gaps, some rotated runs, odd texts."""
    out = []
    top = rng.uniform(0, 20)
    for _ in range(rng.randint(1, 8)):
        x = rng.uniform(0, 30)
        upright = rng.random() > 0.15
        for _ in range(rng.randint(1, 12)):
            text = rng.choice(["年", "公", "开", "1", "2", " ", "ﬁ", "", "\u3000", "a"])
            jitter = rng.choice([0, 0, 0.5, 2.9, 3.1, -1.5])
            if upright:
                out.append(char(text, x, top + jitter))
                x += 10 + rng.choice([0, 0, 1, 2.9, 3.2, 8, -4])
            else:
                out.append(char(text, top + jitter, x, upright=False))
                x += 10 + rng.choice([0, 0, 2.9, 3.2, 8])
        top += rng.choice([12, 14, 2, 3.1, 20])
    rng.shuffle(out) if rng.random() < 0.2 else None
    return out


@pytest.mark.parametrize("seed", range(60))
def test_words_lines_and_cell_text_match_pdfplumber(seed):
    chars = random_chars(random.Random(seed))
    assert pdf_layout.extract_text(chars) == plumber_utils.extract_text(chars)
    theirs = chars_to_textmap(chars, layout=False, presorted=True).extract_text_lines(strip=True, return_chars=True)
    ours = pdf_layout.text_lines(chars)
    assert [(line["text"], line["x0"], line["top"], line["x1"], line["bottom"]) for line in ours] == [
        (line["text"], line["x0"], line["top"], line["x1"], line["bottom"]) for line in theirs
    ]
    assert [[id(c) for c in line["chars"]] for line in ours] == [[id(c) for c in line["chars"]] for line in theirs]


def segment(x0: float, top: float, x1: float, bottom: float) -> dict:
    return {"object_type": "line", "x0": x0, "x1": x1, "top": top, "bottom": bottom, "width": x1 - x0, "height": bottom - top, "doctop": top}


def rect(x0: float, top: float, x1: float, bottom: float) -> dict:
    return {**segment(x0, top, x1, bottom), "object_type": "rect", "y0": 800 - bottom, "y1": 800 - top}


def curve(points: list[tuple[float, float]]) -> dict:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return {**segment(min(xs), min(ys), max(xs), max(ys)), "object_type": "curve", "pts": points}


def random_grid(rng: random.Random) -> tuple[list, list, list]:
    """A ruled table drawn the ways producers draw them: one line per rule or rules in pieces,
    cell rects, a polyline border, rules a point or three off, and short ticks."""
    columns = sorted(rng.sample(range(40, 500, 7), rng.randint(2, 7)))
    rows = sorted(rng.sample(range(40, 700, 9), rng.randint(2, 9)))
    lines, rects, curves = [], [], []
    style = rng.choice(["lines", "pieces", "rects", "mixed"])
    off = lambda: rng.choice([0, 0, 0, 0.4, 1.7, 2.9, 3.5])  # noqa: E731
    if style in ("lines", "mixed"):
        for y in rows:
            lines.append(segment(columns[0], y + off(), columns[-1], y + 0))
        for x in columns:
            lines.append(segment(x + off(), rows[0], x + 0, rows[-1]))
    if style == "pieces":
        for y in rows:
            for a, b in zip(columns, columns[1:], strict=False):
                lines.append(segment(a - rng.choice([0, 1, 2.5]), y + off(), b + rng.choice([0, 1, 4]), y))
        for x in columns:
            for a, b in zip(rows, rows[1:], strict=False):
                lines.append(segment(x + off(), a, x, b + rng.choice([0, 0.5, 5])))
    if style in ("rects", "mixed"):
        for a, b in zip(columns, columns[1:], strict=False):
            for c, d in zip(rows, rows[1:], strict=False):
                if rng.random() < 0.8:
                    rects.append(rect(a + off(), c, b, d + off()))
    if rng.random() < 0.5:
        x0, x1, y0, y1 = columns[0], columns[-1], rows[0], rows[-1]
        curves.append(curve([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]))
    for _ in range(rng.randint(0, 5)):
        x, y = rng.uniform(0, 500), rng.uniform(0, 700)
        lines.append(segment(x, y, x + rng.choice([0.5, 2, 2.9]), y))
    return lines, rects, curves


def plumber_tables(lines: list, rects: list, curves: list) -> tuple[list, list[list]]:
    """pdfplumber's TableFinder steps on the same objects (its Page would need a PDF): the merged
    edges and the tables' cells."""
    edges = [plumber_utils.line_to_edge(x) for x in lines]
    edges += [e for r in rects for e in plumber_utils.rect_to_edges(r)] + [e for c in curves for e in plumber_utils.curve_to_edges(c)]
    v = plumber_utils.filter_edges(edges, "v", min_length=1)
    h = plumber_utils.filter_edges(edges, "h", min_length=1)
    merged = plumber_utils.filter_edges(plumber_table.merge_edges(v + h, 3, 3, 3, 3), min_length=3)
    points = plumber_table.edges_to_intersections(merged, 3, 3)
    return merged, plumber_table.cells_to_tables(plumber_table.intersections_to_cells(points))


def edge_facts(edges: list) -> list:
    return [(e["orientation"], e["x0"], e["top"], e["x1"], e["bottom"], e["width"], e["height"]) for e in edges]


@pytest.mark.parametrize("seed", range(60))
def test_ruled_tables_match_pdfplumber(seed):
    lines, rects, curves = random_grid(random.Random(seed))
    ours = pdf_layout.find_tables([], pdf_layout.edges(lines, rects, curves), SETTINGS)
    merged, theirs = plumber_tables(lines, rects, curves)
    assert edge_facts(pdf_layout.table_edges(pdf_layout.edges(lines, rects, curves), SETTINGS)) == edge_facts(merged)
    assert [t.cells for t in ours] == theirs
    for table, cells in zip(ours, theirs, strict=True):
        plumber = plumber_table.Table(None, cells)
        assert [r.cells for r in table.rows] == [r.cells for r in plumber.rows]
        assert table.bbox == plumber.bbox


def test_cell_texts_and_outside_match_pdfplumber():
    rng = random.Random(7)
    lines, rects, curves = random_grid(rng)
    chars = [char(rng.choice("年度公开12"), rng.uniform(0, 520), rng.uniform(0, 720)) for _ in range(400)]
    tables = pdf_layout.find_tables(chars, pdf_layout.edges(lines, rects, curves), SETTINGS)
    assert tables
    for table in tables:

        class Page:  # what pdfplumber's Table.extract reads of its page
            pass

        page = Page()
        page.chars = chars
        assert table.extract() == plumber_table.Table(page, table.cells).extract()
        assert pdf_layout.outside(chars, table.bbox) == plumber_utils.outside_bbox(chars, table.bbox)
