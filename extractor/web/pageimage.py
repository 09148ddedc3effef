"""Page images with highlighted cell boxes, through `extractor.outputs.pages` (a thin adapter: the
page shows no image, and says so, until that module is there)."""

from __future__ import annotations

import os
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


def page_frame(path: str, page: int) -> tuple[float, float, float, float] | None:
    """(x, top, width, height) in PDF points of the area the page image shows, in the frame cell boxes
    use (outputs.pages.page_frame), so boxes drawn over the image as an SVG land on their cells."""
    try:
        import pypdfium2 as pdfium

        from extractor.outputs.pages import page_frame as frame

        pdf = pdfium.PdfDocument(path)
    except Exception:
        return None
    try:
        if not 1 <= page <= len(pdf):
            return None
        p = pdf[page - 1]
        x, top, _ = frame(p)
        width, height = p.get_size()
        return x, top, float(width), float(height)
    finally:
        pdf.close()
