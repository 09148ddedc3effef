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


def page_frame(path: str, page: int, scanned_image: bool = False) -> tuple[float, float, float, float] | None:
    """(x, top, width, height) in points of the area the page image shows, in the frame cell boxes use
    (outputs.pages.page_frame: CropBox offsets kept), so boxes drawn over the image land on their cells.
    A scanned image's frame starts at 0, 0."""
    try:
        from extractor.outputs import pages

        width, height = pages.page_size(path, page)
        if scanned_image:
            return 0.0, 0.0, width, height
        import pypdfium2 as pdfium

        from extractor.readers.pdfium_lock import PDFIUM_LOCK

        with PDFIUM_LOCK:  # pdfium is not thread-safe; routes run in threads
            pdf = pdfium.PdfDocument(path)
            try:
                x, top, _ = pages.page_frame(pdf[page - 1])
            finally:
                pdf.close()
        return x, top, width, height
    except Exception:  # a file that moved or broke since ingest: the page says there is no image
        return None
