"""Narrative sentences and table positions, taken from the located document for the audit rules.

The text rules (percentages, parts against their whole, working year, empty sections) need the
prose, and the cross-year rule on reused text needs one comparable key per sentence; the audit
report needs to know where each table was printed on a PDF page. Both are computed once, in the
parse stage, and kept on the Report.
"""

from __future__ import annotations

import hashlib
import re

from extractor.document import Document, Grid
from extractor.lexicon.labels import sections
from extractor.lexicon.textnorm import han_count, norm
from extractor.reading.locate import Layout
from extractor.report import Sentence, TableBox

_SPLIT = re.compile(r"(?<=[。！？!?])")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
TABLE_SECTIONS = {"t2": "active", "t3": "requests", "t4": "review"}


def sentence_key(text: str) -> str:
    """Key of a sentence for 'same sentence as last year': normalised, numbers masked (years and
    counts change every year while a copied sentence stays the same)."""
    masked = _DIGITS.sub("#", norm(text))
    return hashlib.sha1(masked.encode("utf-8")).hexdigest()[:16]


def extract_sentences(layout: Layout) -> list[Sentence]:
    """Sentences of the prose rows (not table rows, not the section headings), with page and section."""
    heads = {hit.index: hit for hit in layout.sections.values()}
    out: list[Sentence] = []
    carry = ""  # a PDF line ends mid-sentence: join rows until a sentence end
    carry_page: int | None = None
    carry_section: str | None = None
    for row in layout.rows:
        if row.grid is not None or not row.is_line:
            continue
        text = row.text.strip()
        hit = heads.get(row.index)
        if hit is not None:
            if carry:
                out.append(_sentence(carry, carry_page, carry_section))
                carry = ""
            text = _after_heading(text, hit.code)
        if not text:
            continue
        section = layout.section_of(row.index)
        if carry and section != carry_section:
            out.append(_sentence(carry, carry_page, carry_section))
            carry = ""
        if not carry:
            carry_page, carry_section = row.page, section
        carry += text
        parts = [p for p in _SPLIT.split(carry) if p]
        ended = carry.rstrip().endswith(("。", "！", "？", "!", "?")) or row.page is None
        complete = parts if ended else parts[:-1]
        for part in complete:
            out.append(_sentence(part, carry_page, carry_section))
        carry = "" if ended else parts[-1] if parts else ""
    if carry:
        out.append(_sentence(carry, carry_page, carry_section))
    return [s for s in out if s.text]


def _after_heading(text: str, code: str) -> str:
    """What a heading row says after the section title ('六、其他需要报告的事项2021年，无收取信息处理费情况。')."""
    compact = norm(text)
    for variant in sorted(sections().get(code, []), key=len, reverse=True):
        i = compact.find(norm(variant))
        if i >= 0:
            return compact[i + len(norm(variant)) :].lstrip(":：,，。.、 ")
    return ""


def _sentence(text: str, page: int | None, section: str | None) -> Sentence:
    text = " ".join(text.split())
    return Sentence(text=text, page=page, section=section, key=sentence_key(text), chars=han_count(text))


def extract_table_boxes(doc: Document, layout: Layout) -> list[TableBox]:
    """Per table and page, the union of the bounding boxes of the grids in its region (PDF pages and
    scanned images, read from the text layer or by OCR: both give boxes in page points)."""
    if doc.format not in ("pdf", "image-pdf", "image"):
        return []
    boxes: dict[tuple[str, int], list[float]] = {}
    for table, (start, end) in sorted(layout.regions.items()):
        for row in layout.rows[start:end]:
            if row.grid is None:
                continue
            block = doc.blocks[row.grid] if row.grid < len(doc.blocks) else None
            page = row.page or (block.page if isinstance(block, Grid) else None)
            if not isinstance(block, Grid) or block.bbox is None or page is None:
                continue
            key = (table, page)
            x0, y0, x1, y1 = block.bbox
            if key in boxes:
                b = boxes[key]
                boxes[key] = [min(b[0], x0), min(b[1], y0), max(b[2], x1), max(b[3], y1)]
            else:
                boxes[key] = [x0, y0, x1, y1]
    return [TableBox(table=t, page=p, bbox=(b[0], b[1], b[2], b[3])) for (t, p), b in sorted(boxes.items())]
