"""Page images with highlighted cell boxes, through `extractor.outputs.pages` (a thin adapter: the
page shows no image, and says so, until that module is there)."""

from __future__ import annotations

import os
import struct
from typing import Any

DPI = 110


def available() -> bool:
    try:
        from extractor.outputs import pages  # noqa: F401
    except ImportError:
        return False
    return True


def render(path: str, page: int, boxes: list[Any], dpi: int = DPI) -> bytes | None:
    """PNG of one page of the PDF at `path` with `boxes` highlighted, or None when it cannot be made."""
    if not os.path.isfile(path):
        return None
    try:
        from extractor.outputs.pages import render_page
    except ImportError:
        return None
    try:
        return render_page(path, page, boxes, dpi)
    except Exception:  # a file that changed since ingest: no image, the report page still works
        return None


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG from its header."""
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def page_size(path: str, page: int) -> tuple[float, float] | None:
    """(width, height) in PDF points of page `page` (1-based), for laying cell boxes over its image."""
    try:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(path)
    except Exception:
        return None
    try:
        if not 1 <= page <= len(pdf):
            return None
        width, height = pdf[page - 1].get_size()
        return float(width), float(height)
    finally:
        pdf.close()
