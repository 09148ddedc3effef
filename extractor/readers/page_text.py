"""Helpers shared by the readers that rebuild lines and tables from page geometry (the PDF text
layer and OCR), so neither reader has to import the other."""

from __future__ import annotations

import re

_PAGE_NUMBER = re.compile(r"^\s*(?:[-—–]\s*\d+\s*[-—–]|第\s*\d+\s*页(?:\s*[,，/共]\s*\d+\s*页)?|\d+\s*/\s*\d+)\s*$")
_BARE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")  # a page number only when it is a page's last line


def is_text_frame(rows: list[list[str | None]]) -> bool:
    """A box drawn around running text: some text, never more than one filled cell in a row.
    (A grid of empty cells is a real table left blank.)"""
    return any(c for row in rows for c in row) and all(sum(1 for c in row if c not in (None, "")) <= 1 for row in rows)


def is_page_number(line: str, last: bool) -> bool:
    """A printed page number (「- 3 -」, 「第3页」), or a bare number as the page's last line."""
    return bool(_PAGE_NUMBER.match(line) or (last and _BARE_NUMBER.match(line)))
