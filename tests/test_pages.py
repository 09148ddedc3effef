"""Page images with the cells of a finding outlined (`extractor.outputs.pages`).

Why these tests: an outline drawn a few points off marks the wrong cell, which is worse than none.
The outline colour is looked for on the rendered PNG itself: around the cell's box and nowhere else;
on pages turned by /Rotate or with a MediaBox away from the origin the outline must land where
pdfplumber's own page image (the reference for the frame `Cell.bbox` is in) puts the same box.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pdfplumber
import pypdf
import pytest
from PIL import Image

import extractor
from extractor.document import ReadError
from extractor.outputs.pages import MAX_PIXELS, OUTLINE, capped_scale, render_page, render_region

ROOT = Path(__file__).resolve().parents[1]
HZQ = ROOT / "fixtures" / "real" / "hzq2023.pdf"


@pytest.fixture(scope="module")
def hzq():
    return extractor.parse(str(HZQ))


def _image(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _mask(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    return (np.abs(pixels - np.array(colour)).sum(axis=2) <= tolerance)


def _extent(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_the_outline_is_around_the_cell_and_nowhere_else(hzq) -> None:
    cell = hzq.cell_map()["t4.review.total"]
    dpi = 144
    scale = dpi / 72
    pixels = _image(render_page(HZQ, cell.page, [cell.bbox], dpi=dpi))
    with pdfplumber.open(HZQ) as pdf:
        width, height = pdf.pages[cell.page - 1].width, pdf.pages[cell.page - 1].height
    assert pixels.shape[:2] == (round(height * scale), round(width * scale))
    red = _mask(pixels, OUTLINE)
    x0, y0, x1, y1 = _extent(red)
    bx0, btop, bx1, bbottom = (v * scale for v in cell.bbox)
    slack = 6  # the stroke is drawn just outside the box, ~2 px wide at this scale
    assert abs(x0 - bx0) <= slack and abs(x1 - bx1) <= slack and abs(y0 - btop) <= slack and abs(y1 - bbottom) <= slack
    # the stroke runs all round: each side of the box is mostly outline colour
    assert red[int(y0) : int(y1), int(x0) : int(x0) + 3].any(axis=1).mean() > 0.9
    assert red[int(y0) : int(y0) + 3, int(x0) : int(x1)].any(axis=0).mean() > 0.9
    # inside, the printed digit (dark ink), not outline
    inside = pixels[int(btop) + 3 : int(bbottom) - 3, int(bx0) + 3 : int(bx1) - 3]
    assert (inside.sum(axis=2) < 200).any() and not _mask(inside, OUTLINE).any()
    plain = _image(render_page(HZQ, cell.page, None, dpi=dpi))
    assert not _mask(plain, OUTLINE).any()  # the page itself has no such colour: the outline is ours


def test_a_region_crops_the_table_with_its_title_and_outlines_the_cells(hzq) -> None:
    cells = hzq.cell_map()
    table = next(b for b in hzq.table_boxes if b.table == "t4")
    marked = [cells["t4.review.upheld"].bbox, cells["t4.review.total"].bbox]
    heading = next(s.heading for s in hzq.sections if s.code == "review")
    dpi = 144
    scale = dpi / 72
    plain = _image(render_region(HZQ, table.page, table.bbox, marked, margin=8, dpi=dpi))
    titled = _image(render_region(HZQ, table.page, table.bbox, marked, margin=8, title=heading, dpi=dpi))
    tx0, ttop, tx1, tbottom = table.bbox
    assert abs(plain.shape[1] - (tx1 - tx0 + 16) * scale) <= 3 and abs(plain.shape[0] - (tbottom - ttop + 16) * scale) <= 3
    assert titled.shape[0] > plain.shape[0] + 20 and titled.shape[1] >= plain.shape[1] - 2  # reaches up to the heading
    red = _mask(titled, OUTLINE)
    left, bottom = tx0 - 8, tbottom + 8  # the crop's left and bottom edges, in page points
    ys, xs = np.nonzero(red)
    outlined = set()
    for x, y in zip(xs / scale + left, bottom - (titled.shape[0] - ys) / scale, strict=True):
        hit = [i for i, b in enumerate(marked) if b[0] - 4 <= x <= b[2] + 4 and b[1] - 4 <= y <= b[3] + 4]
        assert hit, (x, y)  # every outline pixel belongs to one of the two cells
        outlined.update(hit)
    assert outlined == {0, 1}


def _variant(rotate: int = 0, shift: float = 0.0) -> bytes:
    """Page 4 of hzq2023 turned by /Rotate and/or with its MediaBox (and content) moved off the origin."""
    writer = pypdf.PdfWriter()
    writer.add_page(pypdf.PdfReader(HZQ).pages[3])
    page = writer.pages[0]
    if shift:
        page.add_transformation(pypdf.Transformation().translate(shift, shift))
        box = page.mediabox
        page.mediabox = pypdf.generic.RectangleObject([box.left + shift, box.bottom + shift, box.right + shift, box.top + shift])
    if rotate:
        page.rotate(rotate)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("rotate", "shift"), [(90, 0.0), (0, 100.0), (270, 50.0)])
def test_rotated_and_shifted_pages_outline_where_pdfplumber_draws(rotate: int, shift: float, tmp_path) -> None:
    data = _variant(rotate, shift)
    path = tmp_path / "turned.pdf"
    path.write_bytes(data)
    report = extractor.parse(str(path))
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        word = next(w for w in page.extract_words() if w["text"] in ("10", "01"))  # 表四 结果维持 (read backwards upside down)
        box = (word["x0"], word["top"], word["x1"], word["bottom"])
        reference = page.to_image(resolution=144)
        reference.draw_rect(box, fill=None, stroke=(0, 0, 255), stroke_width=1)
        expected = _extent(_mask(np.asarray(reference.annotated.convert("RGB")).astype(int), (0, 0, 255), 60))
    if not rotate:  # (turned sideways the table reads transposed; its frame is still pdfplumber's)
        cell = report.cell_map()["t4.review.upheld"]  # the reader boxes the cell in the same frame
        assert cell.raw == "10" and cell.bbox[0] <= (box[0] + box[2]) / 2 <= cell.bbox[2] and cell.bbox[1] <= (box[1] + box[3]) / 2 <= cell.bbox[3]
    got = _extent(_mask(_image(render_page(data, 1, [box], dpi=144)), OUTLINE))
    assert all(abs(a - b) <= 5 for a, b in zip(got, expected, strict=True)), (got, expected)


def test_pixels_are_capped_and_bad_input_is_one_clear_error(tmp_path) -> None:
    assert capped_scale(595, 842, 110) == pytest.approx(110 / 72)
    huge = capped_scale(14400, 14400, 300)  # a 200-inch MediaBox
    assert 14400 * 14400 * huge * huge <= MAX_PIXELS * 1.001
    with pytest.raises(ValueError, match="out of range"):
        render_page(HZQ, 99)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really")
    with pytest.raises(ReadError):
        render_page(broken, 1)


def test_the_audit_crop_outlines_the_cells_of_its_finding(hzq, tmp_path) -> None:
    import base64
    import shutil

    from extractor.outputs.audit import collect
    from extractor.store.ingest import ingest

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(HZQ, folder / "hzq2023.pdf")
    ingest([str(folder)], str(tmp_path / "a.db"), workers=1, progress="none")
    audit = collect(str(tmp_path / "a.db"))
    (rep,) = audit.reports
    finding = next(f for f in rep.findings if f.rule == "t4.group_total" and "t4.review.total" in f.codes)
    # the database stores each cell's box, so the crop outlines the finding's cells (an id per set of cells)
    cells = {c.code: (c.page, c.bbox) for c in hzq.cells if c.bbox}
    assert finding.image and finding.image.startswith(f"r{rep.id}-t4-p4-")
    caption, data = rep.images[finding.image]
    assert caption.startswith("表四（第 4 页）") and "框出" in caption
    pixels = _image(base64.b64decode(data))
    red = _mask(pixels, OUTLINE)
    assert red.any()
    # the outline spans the row of 表四 行政复议 (结果维持 … 总计), not the 行政诉讼 columns further right
    x0, _, x1, _ = _extent(red)
    scale = 115 / 72
    left = next(b for b in hzq.table_boxes if b.table == "t4").bbox[0] - 8
    marked = [cells[c][1] for c in finding.codes if c in cells]
    assert abs(x0 / scale + left - min(b[0] for b in marked)) <= 4 and abs(x1 / scale + left - max(b[2] for b in marked)) <= 4


def test_a_scanned_image_is_a_page_too() -> None:
    """A PNG page (page 3 of a corpus PDF, scanned): the box of a cell in the text PDF lands on the
    same printed number in the image, since OCR boxes are pixels × 72 / the image's resolution."""
    scans = ROOT / "fixtures" / "scans"
    text = extractor.parse(str(ROOT / "fixtures" / "corpus" / "c002_2021_plain.pdf")).cell_map()["t3.new.total"]
    dpi = 144
    scale = dpi / 72
    pixels = _image(render_page(scans / "c002_2021_plain_p3.png", 1, [text.bbox], dpi=dpi))
    x0, y0, x1, y1 = _extent(_mask(pixels, OUTLINE))
    bx0, btop, bx1, bbottom = (v * scale for v in text.bbox)
    assert max(abs(x0 - bx0), abs(x1 - bx1), abs(y0 - btop), abs(y1 - bbottom)) <= 12
    inside = pixels[int(btop) + 4 : int(bbottom) - 4, int(bx0) + 4 : int(bx1) - 4]
    assert (inside.sum(axis=2) < 300).sum() > 20  # the printed 116
    tiff = scans / "c003_2021r1_plain_scan200.tiff"  # one page per frame
    assert _image(render_page(tiff, 2, None, dpi=50)).shape[0] > 300
    with pytest.raises(ValueError, match="out of range"):
        render_page(tiff, 99)


def test_page_size_and_renders_from_many_threads_at_once() -> None:
    """The web server renders in threads; pdfium must see one call at a time (PDFIUM_LOCK)."""
    from concurrent.futures import ThreadPoolExecutor

    from extractor.outputs.pages import page_size

    assert page_size(HZQ, 4) == pytest.approx((595.0, 842.0), abs=1)
    assert page_size(ROOT / "fixtures" / "scans" / "c002_2021_plain_p3.png", 1) == pytest.approx((595.0, 842.0), abs=3)
    with ThreadPoolExecutor(max_workers=6) as pool:
        images = list(pool.map(lambda p: render_page(HZQ, p, None, dpi=40), [1, 2, 3, 4, 5] * 4))
    assert len({png for png in images}) == 5 and all(png[:4] == b"\x89PNG" for png in images)
