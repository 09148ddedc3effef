"""OCR misreadings never pass silently: the scan fixtures' table pages made worse, every wrong cell flagged.

Why: confidence is calibrated so that values read correctly on clean scans raise no review warning (a
supervisor forwards our warnings to agencies: a false alarm is a defect). That must not buy silence on
a bad scan. Here the table pages of three scan fixtures are degraded at test time — blurred, noisy
and JPEG-compressed, scanned at low resolution, blotted and struck through inside a quarter of the cells — and read again:
every cell read wrong must get an `ocr.low_confidence` / `ocr.unreadable` warning or an arithmetic
finding naming it. The clean side (no warning on a correct cell) is asserted on all of fixtures/scans
in tests/test_ocr.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from extractor.readers.ocr import ocr_available

ROOT = Path(__file__).resolve().parent.parent
SCANS = ROOT / "fixtures" / "scans"
pytestmark = pytest.mark.skipif(not ocr_available(), reason="the OCR extra is not installed: pip install 'zfxxgk-extractor[ocr]'")
# (fixture, 0-based pages with tables): both templates, 150 and 200 dpi, thousands separators
SOURCES = [("c002_2021_plain_scan200.pdf", [2, 3]), ("c001_2019_plain_scan150.pdf", [2]), ("c025_2019_thousands_scan200.pdf", [2])]
DEGRADATIONS = ("blur", "noise_jpeg", "low_dpi", "smudge")
REVIEW_RULES = ("ocr.low_confidence", "ocr.unreadable", "value.unreadable")
IDENTITY_PREFIXES = ("t3.", "t4.")


def render(name: str, index: int):
    """A page of a scan fixture as the reader sees it (grey, at the scan's resolution) and its dpi."""
    import pypdfium2 as pdfium

    from extractor.readers.pdf import _scan_dpi

    pdf = pdfium.PdfDocument(str(SCANS / name))
    page = pdf[index]
    dpi = _scan_dpi(page)
    return page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L"), dpi


def degrade(image, dpi: float, how: str, seed: int):
    """The page made worse in one way; returns the image and its resolution."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    if how == "blur":
        return image.filter(ImageFilter.GaussianBlur(radius=2.0 * dpi / 200)), dpi
    if how == "noise_jpeg":
        pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, 40, (image.height, image.width))
        noisy = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
        out = io.BytesIO()
        noisy.save(out, "JPEG", quality=8)
        return Image.open(io.BytesIO(out.getvalue())).convert("L"), dpi
    if how == "low_dpi":
        low = 90.0
        scale = low / dpi
        return image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR), low
    if how == "smudge":  # a blot or a stroke over the middle of every fourth cell, inside its ruling lines
        import cv2

        from extractor.readers.ocr import find_tables

        pixels = np.asarray(image)
        binary = cv2.threshold(pixels, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
        out = image.copy()
        draw = ImageDraw.Draw(out)
        size = dpi * 0.09
        for table in find_tables(binary, dpi)[0]:
            for cell in table.cells:
                if rng.random() > 0.25 or cell.x1 - cell.x0 < 2 * size or cell.y1 - cell.y0 < 1.5 * size:
                    continue
                x = (cell.x0 + cell.x1) / 2 + rng.uniform(-0.3, 0.3) * size
                y = (cell.y0 + cell.y1) / 2 + rng.uniform(-0.2, 0.2) * size
                if rng.random() < 0.5:
                    w, h = size * rng.uniform(0.3, 0.8), size * rng.uniform(0.3, 0.7)
                    draw.ellipse((x - w / 2, y - h / 2, x + w / 2, y + h / 2), fill=int(rng.uniform(40, 160)))
                else:
                    dx, dy = size * rng.uniform(-0.6, 0.6), size * rng.uniform(-0.5, 0.5)
                    draw.line((x - dx, y - dy, x + dx, y + dy), fill=int(rng.uniform(0, 90)), width=max(1, round(dpi / 100)))
        return out, dpi
    raise ValueError(how)


def degraded_tiff(name: str, pages: list[int], how: str) -> bytes:
    """The fixture's table pages degraded one way, as a multi-page TIFF with its resolution."""
    frames, dpi = [], 200.0
    for index in pages:
        image, source_dpi = render(name, index)
        image, dpi = degrade(image, source_dpi, how, seed=index * 31 + DEGRADATIONS.index(how))
        frames.append(image)
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], dpi=(dpi, dpi), compression="tiff_lzw")
    return out.getvalue()


def flagged(report, code: str) -> bool:
    """A review warning names the cell, or an arithmetic finding includes it."""
    for finding in report.findings:
        if code not in (finding.codes or []) or finding.severity not in ("error", "warning"):
            continue
        if finding.rule in REVIEW_RULES or finding.rule.startswith(IDENTITY_PREFIXES):
            return True
    return False


def wrong_cells(report, truth: dict) -> list[tuple[str, object, object]]:
    """Cells read with another value than printed (a derived cell is computed, not read)."""
    return [(c.code, truth[c.code], c.value) for c in report.cells if c.code in truth and not c.derived and c.value != truth[c.code]]


@pytest.mark.parametrize("how", DEGRADATIONS)
def test_every_wrong_cell_on_a_degraded_scan_is_flagged(how: str) -> None:
    import extractor

    wrong, unflagged = 0, []
    for name, pages in SOURCES:
        truth = json.loads((SCANS / f"{name}.truth.json").read_text(encoding="utf-8"))["cells"]
        report = extractor.parse(degraded_tiff(name, pages, how))
        assert report.cells, (name, how)
        misses = wrong_cells(report, truth)
        wrong += len(misses)
        unflagged += [(name, miss) for miss in misses if not flagged(report, miss[0])]
    assert wrong or how != "smudge", "the smudges no longer make misreadings: the test proves nothing"
    assert not unflagged, (how, wrong, unflagged)
