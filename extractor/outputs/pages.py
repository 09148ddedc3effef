"""Page images with cells outlined: what the web page and the audit report show beside a finding.
A page of a PDF, or of a scanned image file (PNG/JPEG/TIFF…, a frame per page).

Boxes are `Cell.bbox` / `TableBox.bbox`: PDF points, top-left origin, in pdfplumber's frame for the
page (the page as displayed: /Rotate applied, MediaBox offsets kept). pypdfium2 renders the page's
CropBox as displayed, so a box maps to pixels exactly as pdfplumber's own `to_image` maps it: minus the
CropBox's corner in that frame, times the scale. The pixel count is capped, so a page with a huge
MediaBox cannot eat memory.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from contextlib import contextmanager

from extractor.document import BBox, ReadError
from extractor.readers.pdfium_lock import PDFIUM_LOCK

DEFAULT_DPI = 110.0
MAX_PIXELS = 12_000_000  # ≈ an A3 page at 250 dpi; bigger renders are scaled down to fit
OUTLINE = (220, 20, 60)  # crimson: the cells a finding is about
OUTLINE_WIDTH_PT = 1.2
TITLE_REACH_PT = 120.0  # how far above a table its title may be printed

Source = str | os.PathLike | bytes


def render_page(source: Source, page: int, boxes: Sequence[BBox] | None = None, dpi: float = DEFAULT_DPI) -> bytes:
    """PNG of page `page` (1-based) with each box outlined."""
    return _render(source, page, boxes or [], dpi, region=None)


def render_region(
    source: Source,
    page: int,
    bbox: BBox,
    highlight_boxes: Sequence[BBox] | None = None,
    margin: float = 8.0,
    title: str | None = None,
    dpi: float = DEFAULT_DPI,
) -> bytes:
    """PNG of the part of a page around `bbox` (a table), with `highlight_boxes` (its cells a finding is
    about) outlined. `title`: the table's heading as printed; when it is found in the text layer
    just above the box, the crop reaches up to include it, so the image says which table it is."""
    region = _union([bbox, *(highlight_boxes or [])])
    if title:
        found = _title_box(source, page, title, region)
        if found is not None:
            region = _union([region, found])
    x0, top, x1, bottom = region
    return _render(source, page, highlight_boxes or [], dpi, region=(x0 - margin, top - margin, x1 + margin, bottom + margin))


def page_frame(pdf_page) -> tuple[float, float, float]:
    """(x, top) of the rendered area's top-left corner in pdfplumber's frame, and the mediabox height
    that frame is flipped by — from the raw boxes and /Rotate, as pdfplumber derives them."""
    rotation = pdf_page.get_rotation() % 360

    def normal(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x0, x1 = sorted((box[0], box[2]))
        y0, y1 = sorted((box[1], box[3]))
        return (y0, x0, y1, x1) if rotation in (90, 270) else (x0, y0, x1, y1)

    media = normal(pdf_page.get_mediabox())
    crop = normal(pdf_page.get_cropbox())
    height = media[3] - media[1]
    return crop[0], height - crop[3], height


def _render(source: Source, page: int, boxes: Sequence[BBox], dpi: float, region: BBox | None) -> bytes:
    from PIL import ImageDraw

    render = _scan_image if _is_image(source) else _pdf_image
    image, scale, (ox, oy) = render(source, page, region, dpi)
    draw = ImageDraw.Draw(image)
    line = max(1, round(OUTLINE_WIDTH_PT * scale))
    for box in boxes:
        x0, y0, x1, y1 = ((box[0] - ox) * scale, (box[1] - oy) * scale, (box[2] - ox) * scale, (box[3] - oy) * scale)
        if x1 < 0 or y1 < 0 or x0 > image.width or y0 > image.height:
            continue  # a box off this crop
        draw.rectangle([x0 - line, y0 - line, x1 + line, y1 + line], outline=OUTLINE, width=line)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _clip(region: BBox | None, left: float, top: float, width: float, height: float) -> BBox:
    """The region (box frame) as an area of the rendered page (0..width, 0..height), clipped to it."""
    if region is None:
        return (0.0, 0.0, width, height)
    x0, y0 = max(region[0] - left, 0.0), max(region[1] - top, 0.0)
    x1, y1 = min(region[2] - left, width), min(region[3] - top, height)
    if x1 <= x0 or y1 <= y0:
        raise ValueError("the region lies outside the page")
    return (x0, y0, x1, y1)


def _pdf_image(source: Source, page: int, region: BBox | None, dpi: float):
    """(RGB image, pixels per point, the image's top-left corner in the box frame) of a PDF page."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = _open(source)
        try:
            pdf_page = _page(pdf, page)
            width, height = pdf_page.get_size()
            left, top, _ = page_frame(pdf_page)
            x0, y0, x1, y1 = _clip(region, left, top, width, height)
            scale = capped_scale(x1 - x0, y1 - y0, dpi)
            crop = (x0, height - y1, width - x1, y0)  # points cut off each side: left, bottom, right, top
            try:
                image = pdf_page.render(scale=scale, crop=crop, may_draw_forms=True).to_pil().convert("RGB")
            except pdfium.PdfiumError as exc:
                raise ReadError(f"cannot render page {page} ({exc})") from None
            return image, scale, (left + x0, top + y0)
        finally:
            pdf.close()


def _page(pdf, page: int):
    if not 1 <= page <= len(pdf):
        raise ValueError(f"page {page} is out of range (the PDF has {len(pdf)} pages)")
    return pdf[page - 1]


def page_size(source: Source, page: int) -> tuple[float, float]:
    """(width, height) in points of page `page` (1-based) as rendered — the CropBox as displayed,
    the size `render_page` draws at 72 dpi; for a scanned image its pixels × 72 / its resolution."""
    if _is_image(source):
        with _frame(source, page) as (frame, native):
            return frame.width / native, frame.height / native
    with PDFIUM_LOCK:
        pdf = _open(source)
        try:
            width, height = _page(pdf, page).get_size()
            return float(width), float(height)
        finally:
            pdf.close()


def _is_image(source: Source) -> bool:
    from extractor.readers import sniff

    if isinstance(source, bytes):
        return sniff(source[:2048]) == "image"
    try:
        with open(source, "rb") as fh:
            return sniff(fh.read(2048)) == "image"
    except OSError:
        return False  # let the PDF path give the one-line error


def _scan_image(source: Source, page: int, region: BBox | None, dpi: float):
    """The same for a scanned image (PNG/JPEG/TIFF…, `page` = frame): its boxes are pixels × 72 / the
    resolution OCR read it at (`readers.ocr.image_dpi`), so the same frame is used here."""
    from PIL import Image

    with _frame(source, page) as (frame, native):
        x0, y0, x1, y1 = _clip(region, 0.0, 0.0, frame.width / native, frame.height / native)
        scale = capped_scale(x1 - x0, y1 - y0, dpi)
        part = frame.crop(tuple(round(v * native) for v in (x0, y0, x1, y1))).convert("RGB")
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    return part.resize(size, Image.Resampling.LANCZOS), scale, (x0, y0)


@contextmanager
def _frame(source: Source, page: int):
    """(frame `page` of an image file, its pixels per point as OCR read it); ReadError if unreadable."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    from extractor.readers.ocr import image_dpi

    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source)) as opened:
            try:
                frame = ImageSequence.Iterator(opened)[page - 1] if page >= 1 else None
            except IndexError:
                frame = None
            if frame is None:
                raise ValueError(f"page {page} is out of range (the image has {getattr(opened, 'n_frames', 1)} pages)")
            yield frame, image_dpi(frame) / 72.0
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ReadError(f"corrupt or unreadable image ({exc.__class__.__name__})", "corrupt") from None


def capped_scale(width_pt: float, height_pt: float, dpi: float) -> float:
    """Pixels per point for `dpi`, lowered so the image has at most MAX_PIXELS pixels."""
    scale = max(dpi, 1.0) / 72.0
    pixels = width_pt * height_pt * scale * scale
    if pixels > MAX_PIXELS:
        scale *= (MAX_PIXELS / pixels) ** 0.5
    return scale


def _open(source: Source):
    """The pdfium document (the reader's own opening: one-line ReadError for encrypted or corrupt)."""
    from extractor.readers.pdfium_page import open_document

    try:
        return open_document(source if isinstance(source, bytes) else os.fspath(source))
    except FileNotFoundError:
        raise ReadError(f"{source}: no such file", "not_a_file") from None


def _union(boxes: Sequence[BBox]) -> BBox:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _title_box(source: Source, page: int, title: str, region: BBox) -> BBox | None:
    """The box of `title` as printed on the page (characters may be spaced out), nearest above `region`."""
    import pdfplumber
    import regex

    chars = [ch for ch in title if not ch.isspace()]
    if not chars:
        return None
    pattern = r"\s*".join(regex.escape(ch) for ch in chars)
    opened = pdfplumber.open(io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source))
    with opened as pdf:
        if not 1 <= page <= len(pdf.pages):
            return None
        hits = pdf.pages[page - 1].search(pattern, regex=True, return_chars=False)
    above = [h for h in hits if h["bottom"] <= region[1] + 2 and region[1] - h["bottom"] <= TITLE_REACH_PT]
    if not above:
        return None
    best = max(above, key=lambda h: h["bottom"])
    return (best["x0"], best["top"], best["x1"], best["bottom"])
