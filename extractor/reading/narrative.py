"""Numbers the narrative states about table cells ('全年共受理政府信息公开申请21件').

Part of the interpret stage: it reads the prose rows of the located document and returns
statements (cells, stated value, sentence, page); the checks compare them with the tables.
"""

from __future__ import annotations

import functools

import regex

from extractor.lexicon.labels import vocabulary
from extractor.lexicon.textnorm import norm
from extractor.reading.locate import Layout
from extractor.report import Statement

NUMBER = r"(?P<n>\d[\d,]*)"
CONTEXT_CHARS = 30


@functools.lru_cache(maxsize=1)
def _patterns() -> list[tuple[list[str], regex.Pattern]]:
    return [(entry["codes"], regex.compile(entry["pattern"].replace("{N}", NUMBER))) for entry in vocabulary()["narrative"]]


def extract_statements(layout: Layout) -> list[Statement]:
    """Join the prose rows (lines of one paragraph may be split, as in PDFs) and find the statements."""
    pieces: list[tuple[int, int | None, str | None]] = []  # (offset, page, section) where each row starts
    text_parts: list[str] = []
    offset = 0
    for row in layout.rows:
        if not row.is_line:
            continue
        piece = norm(row.text)
        if not piece:
            continue
        pieces.append((offset, row.page, layout.section_of(row.index)))
        text_parts.append(piece)
        offset += len(piece)
    text = "".join(text_parts)
    statements = []
    for codes, pattern in _patterns():
        for m in pattern.finditer(text):
            digits = m.group("n").replace(",", "")
            if not digits.isdigit():
                continue
            start = m.start()
            page, section = None, None
            for piece_offset, piece_page, piece_section in pieces:
                if piece_offset > start:
                    break
                page, section = piece_page, piece_section
            context = text[max(0, start - CONTEXT_CHARS // 2) : m.end() + 2]
            statements.append(Statement(codes=list(codes), value=int(digits), text=context, page=page, section=section))
    return statements
