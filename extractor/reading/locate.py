"""Locate: flatten a Document into rows, find the six section headings and the three table regions.

Everything downstream works on one stream of `Row`s in reading order: a paragraph is a row of one
cell, a grid row is a row of its cells. This makes a table split across pages, a table whose rows
were printed as loose text lines, and a 'table' that is really a text frame look the same.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from extractor.document import BBox, Document, Grid, Paragraph
from extractor.lexicon.labels import sections, table_markers
from extractor.lexicon.textnorm import norm, ratio_at_least
from extractor.lexicon.values import parse_value

SECTION_ORDER = ["overview", "active", "requests", "review", "problems", "other"]
SECTION_NUMERALS = dict(zip(SECTION_ORDER, "一二三四五六", strict=True))
MAX_HEADING_CHARS = 48
MIN_HEADING_SCORE = 0.6
_HEADING_NUMBER = re.compile(
    r"^[|丨lI]?(?:(?P<part>第(?P<pn>[一二三四五六七八九十])(?:部分|章|节|项))|(?P<main>(?P<mn>[一二三四五六七八九十])[、.,:])|(?P<sub>\([一二三四五六七八九十]\))|(?P<arabic>(?P<an>\d)[、.]))"
)
_YEAR_PREFIX = re.compile(r"^(?:\d{4}年度?|本年度|本年)")


@dataclass
class Row:
    cells: list[str]  # the row's cells in order, merged-over slots left out
    page: int | None
    index: int
    grid: int | None = None  # index of the Grid block, None for a paragraph
    slots: list[int] | None = None  # grid column of each cell (None for a paragraph)
    confidence: list[float | None] | None = None  # OCR confidence of each cell (None: not OCR'd)
    boxes: list[BBox | None] | None = None  # each cell's box on `page` (None: the reader has no geometry)
    words: list[tuple[str, BBox]] | None = None  # a paragraph's words with their boxes (PDF lines)

    @property
    def text(self) -> str:
        return " ".join(c for c in self.cells if c)

    @property
    def is_line(self) -> bool:
        return sum(1 for c in self.cells if c and c.strip()) <= 1


@dataclass
class SectionHit:
    code: str
    index: int  # row index
    heading: str
    page: int | None
    score: float
    inline: bool = False


@dataclass
class Layout:
    rows: list[Row]
    sections: dict[str, SectionHit] = field(default_factory=dict)
    regions: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> [start, end)

    def section_of(self, index: int) -> str | None:
        """The section a row falls in: the last section heading at or before it."""
        section, start = None, -1
        for code, hit in self.sections.items():
            if start <= hit.index <= index:  # ties (headings inline in one paragraph): the later one
                section, start = code, hit.index
        return section

    def region_rows(self, table: str) -> list[Row]:
        if table not in self.regions:
            return []
        start, end = self.regions[table]
        return self.rows[start:end]


def flatten(doc: Document) -> list[Row]:
    rows: list[Row] = []
    for block_index, block in enumerate(doc.blocks):
        if isinstance(block, Paragraph):
            rows.append(Row(cells=[block.text], page=block.page, index=len(rows), words=block.words or None))
        elif isinstance(block, Grid):
            for r, slots in enumerate(block.rows):
                filled = [(c, cell.strip()) for c, cell in enumerate(slots) if cell is not None]
                cells = [text for _, text in filled]
                if not any(cells) and len(cells) <= 1:
                    continue  # an empty spacer row (a row of several empty cells is a blank table row)
                confidence = [block.confidence.get((r, c)) for c, _ in filled] if block.confidence else None
                boxes = [block.cell_boxes.get((r, c)) for c, _ in filled] if block.cell_boxes else None
                rows.append(
                    Row(
                        cells=cells,
                        page=block.page_of_row(r),
                        index=len(rows),
                        grid=block_index,
                        slots=[c for c, _ in filled],
                        confidence=confidence,
                        boxes=boxes,
                    )
                )
    return rows


def _title_score(title: str, variants: list[str]) -> float:
    best = 0.0
    for variant in variants:
        if title == variant:
            return 1.0
        if title.startswith(variant) or (variant in title and len(title) - len(variant) <= 8):
            best = max(best, 0.9)  # a heading with its first words run on, or a year/agency prefix
        elif len(title) >= 4:
            ratio = ratio_at_least(title, variant, 0.8)
            if ratio >= 0.8:
                best = max(best, ratio * 0.9)
    return best


def heading_candidates(row: Row) -> list[tuple[str, float, str, bool]]:
    """(section code, score, heading text, inline) for every section this row could be the heading of."""
    if not row.is_line:
        return []
    return list(_line_candidates(row.text))


@functools.lru_cache(maxsize=16384)
def _line_candidates(line: str) -> tuple[tuple[str, float, str, bool], ...]:
    """`heading_candidates` of a one-cell row, by its text: cached, since every report repeats the
    official headings and table labels, and fuzzy scoring against every section's variants is the
    costliest part of locating."""
    text = norm(line)
    if not text:
        return ()
    out: list[tuple[str, float, str, bool]] = []
    if len(text) <= MAX_HEADING_CHARS:
        m = _HEADING_NUMBER.match(text)
        numeral = None
        if m is None:
            factor, title = 0.85, text
        elif m.group("sub"):
            factor, title = 0.7, text[m.end():]
        else:
            factor, title = 1.0, text[m.end():]
            numeral = m.group("pn") or m.group("mn")
        title = _YEAR_PREFIX.sub("", title).rstrip("。:;,.")
        title = re.sub(r"^(?:政府信息公开|政务公开)?(?:工作)?", "", title) if title.startswith(("政府信息公开工作", "政务公开工作")) and "存在" in title else title
        if parse_value(title.split(" ")[-1]).ok and any(ch.isdigit() for ch in title[-3:]):
            return ()  # a table row printed as text ('四、结转下年度继续办理 0 0 …')
        for code, variants in sections().items():
            score = _title_score(title, variants)
            if score <= 0:
                continue
            score *= factor
            if numeral and numeral == SECTION_NUMERALS[code]:
                score = min(1.0, score + 0.05)
            if score >= MIN_HEADING_SCORE:
                out.append((code, score, display_heading(line), False))
    else:
        for code, variants in sections().items():
            numeral = SECTION_NUMERALS[code]
            for variant in variants:
                if f"{numeral}、{variant}" in text or f"{numeral}.{variant}" in text:
                    out.append((code, 0.85, f"{numeral}、{variant}", True))
                    break
    return tuple(out)


def display_heading(text: str) -> str:
    """A heading as printed, without Markdown markup."""
    return re.sub(r"^#+\s*|\*\*|__", "", text.strip()).strip()


def find_sections(rows: list[Row]) -> dict[str, SectionHit]:
    """Pick at most one heading per section, in the standard order, maximising the total score."""
    candidates: list[tuple[int, str, float, str, bool]] = []
    for row in rows:
        for code, score, heading, inline in heading_candidates(row):
            candidates.append((row.index, code, score, heading, inline))
    if not candidates:
        return {}
    order = {code: i for i, code in enumerate(SECTION_ORDER)}
    # best[i] = (total score, chain) of the best chain ending with candidate i
    best: list[tuple[float, list[int]]] = []
    for i, (idx, code, score, _, _) in enumerate(candidates):
        chain_score, chain = score, [i]
        for j in range(i):
            jdx, jcode = candidates[j][0], candidates[j][1]
            if jdx < idx and order[jcode] < order[code] and best[j][0] + score > chain_score:
                chain_score, chain = best[j][0] + score, best[j][1] + [i]
        best.append((chain_score, chain))
    _, chain = max(best, key=lambda item: item[0])
    hits = {}
    for i in chain:
        idx, code, score, heading, inline = candidates[i]
        hits[code] = SectionHit(code=code, index=idx, heading=heading, page=rows[idx].page, score=score, inline=inline)
    return hits


def _first_marker(rows: list[Row], table: str, start: int) -> int | None:
    markers = table_markers()[table]
    for row in rows[start:]:
        text = norm(row.text)
        if len(text) > 120 and row.is_line:
            continue
        if any(m in text for m in markers):
            return row.index
    return None


def find_regions(rows: list[Row], hits: dict[str, SectionHit]) -> dict[str, tuple[int, int]]:
    starts: dict[str, int] = {}
    previous = 0
    for table, section in (("t2", "active"), ("t3", "requests"), ("t4", "review")):
        heading = hits[section].index if section in hits else None
        marker = _first_marker(rows, table, previous)
        candidates = [i for i in (heading, marker) if i is not None and i >= previous]
        if heading is not None and marker is not None and marker < heading:
            # a marker before the heading belongs to an earlier table only if the heading is far
            candidates = [heading] if heading - marker > 200 else [marker]
        if candidates:
            starts[table] = min(candidates)
            previous = starts[table] + 1
    boundaries = sorted({hit.index for hit in hits.values()} | set(starts.values()))
    regions = {}
    for table, start in starts.items():
        end = next((b for b in boundaries if b > start), len(rows))
        regions[table] = (start, end)
    return regions


def locate(doc: Document) -> Layout:
    rows = flatten(doc)
    hits = find_sections(rows)
    return Layout(rows=rows, sections=hits, regions=find_regions(rows, hits))
