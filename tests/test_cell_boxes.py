"""Every extracted cell knows where it was printed: `Cell.bbox` (PDF points, top-left origin, on
`Cell.page`), so the web page and the audit can outline it on the page image.

Why these tests: a box that is merely present proves nothing; each box is checked against the page
itself — the page's own text layer, cropped to the box, must hold the cell's printed text; the
cells of one row share a band and their columns run left to right; a scan's boxes (from pixels
at its own resolution, deskewed back) land on the same cells as the text PDF it was made from.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pdfplumber
import pytest

import extractor
from extractor.readers.pdf import split_stacked

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "fixtures" / "real"
CORPUS = ROOT / "fixtures" / "corpus"


def _flat(text: str) -> str:
    return unicodedata.normalize("NFKC", "".join(text.split()))


def _text_in(pdf, page: int, bbox) -> str:
    p = pdf.pages[page - 1]
    x0, top, x1, bottom = bbox
    return p.within_bbox((max(x0 - 1, 0), max(top - 1, 0), min(x1 + 1, p.width), min(bottom + 1, p.height))).extract_text()


@pytest.fixture(scope="module")
def hzq():
    return extractor.parse(str(REAL / "hzq2023.pdf"))


def test_a_known_cell_is_boxed_on_its_page(hzq) -> None:
    total = hzq.cell_map()["t4.review.total"]  # 表四 行政复议 总计: printed 0 though its parts sum to 11
    assert (total.raw, total.page) == ("0", 4) and any(total.code in f.codes for f in hzq.findings if f.severity == "error")
    cell = hzq.cell_map()["t4.review.upheld"]  # 结果维持, printed 10
    assert (cell.raw, cell.page) == ("10", 4)
    assert total.bbox[0] > cell.bbox[2] - 1 and abs(total.bbox[1] - cell.bbox[1]) < 1  # the same row, further right
    with pdfplumber.open(REAL / "hzq2023.pdf") as pdf:
        page = pdf.pages[cell.page - 1]
        x0, top, x1, bottom = cell.bbox
        assert 0 <= x0 < x1 <= page.width and 0 <= top < bottom <= page.height
        assert _flat(_text_in(pdf, cell.page, cell.bbox)) == "10"
        assert _flat(_text_in(pdf, total.page, total.bbox)) == "0"


def test_every_printed_cell_holds_its_text(hzq) -> None:
    printed = [c for c in hzq.cells if not c.derived and c.raw.strip()]
    assert len(printed) > 150
    with pdfplumber.open(REAL / "hzq2023.pdf") as pdf:
        wrong = [(c.code, c.raw) for c in printed if c.bbox is None or _flat(c.raw) not in _flat(_text_in(pdf, c.page, c.bbox))]
    assert wrong == []


def test_a_row_shares_a_band_and_columns_run_left_to_right(hzq) -> None:
    cells = hzq.cell_map()
    columns = ["natural_person", "business", "research", "nonprofit", "legal_services", "other_org", "total"]
    for row in ("new", "carried_in", "granted", "carried_over"):
        boxes = [cells[f"t3.{row}.{col}"].bbox for col in columns]
        middles = [(b[1] + b[3]) / 2 for b in boxes]
        assert all(b[1] <= middles[0] <= b[3] for b in boxes), row
        assert [b[0] for b in boxes] == sorted(b[0] for b in boxes) and len({b[0] for b in boxes}) == len(boxes)
    assert cells["t3.new.total"].bbox[3] <= cells["t3.carried_in.total"].bbox[1] + 1  # rows run downwards


def test_a_table_without_ruling_lines_is_boxed_by_its_words() -> None:
    """Rows aligned in columns, and rows printed as one line of text (表四's fifteen numbers, a 表二
    row with one value): every value is boxed by its word."""
    path = CORPUS / "c011_2021_noborders.pdf"
    report = extractor.parse(str(path))
    printed = [c for c in report.cells if not c.derived and c.raw.strip()]
    assert len([c for c in printed if c.code.startswith("t3.")]) > 100 and len([c for c in printed if c.code.startswith("t4.")]) == 15
    with pdfplumber.open(path) as pdf:
        wrong = [(c.code, c.raw) for c in printed if c.bbox is None or _flat(c.raw) not in _flat(_text_in(pdf, c.page, c.bbox))]
    assert wrong == []
    t4 = [report.cell_map()[f"t4.review.{col}"].bbox for col in ("upheld", "corrected", "other", "pending", "total")]
    assert [b[0] for b in t4] == sorted(b[0] for b in t4) and len({round(b[1]) for b in t4}) == 1


def test_stacked_rows_cut_their_boxes_into_bands() -> None:
    rows = [["规章\n行政规范性文件", "0\n3", "0\n1", "12\n40"]]
    boxes = {(0, c): (100.0 * c, 10.0, 100.0 * c + 90, 50.0) for c in range(4)}
    out, out_boxes = split_stacked(rows, boxes)
    assert out == [["规章", "0", "0", "12"], ["行政规范性文件", "3", "1", "40"]]
    assert out_boxes[(0, 3)] == (300.0, 10.0, 390.0, 30.0) and out_boxes[(1, 3)] == (300.0, 30.0, 390.0, 50.0)
    assert out_boxes[(1, 0)] == (0.0, 30.0, 90.0, 50.0)


def test_formats_without_geometry_have_no_boxes() -> None:
    report = extractor.parse(str(REAL / "pingtan2021.html"))
    assert report.cells and all(c.bbox is None for c in report.cells)


def test_a_scan_boxes_the_same_cells_as_its_text_pdf() -> None:
    from extractor.readers.ocr import ocr_available

    if not ocr_available():
        pytest.skip("the OCR extra is not installed: pip install 'zfxxgk-extractor[ocr]'")
    text = extractor.parse(str(CORPUS / "c002_2021_plain.pdf")).cell_map()
    scan = extractor.parse(str(ROOT / "fixtures" / "scans" / "c002_2021_plain_p3.png")).cell_map()  # its page 3 as an image
    checked = 0
    for code, cell in scan.items():
        if not code.startswith("t3.") or cell.derived or code not in text:
            continue
        x0, top, x1, bottom = text[code].bbox
        X0, T, X1, B = cell.bbox
        assert X0 <= (x0 + x1) / 2 <= X1 and T <= (top + bottom) / 2 <= B, code
        checked += 1
    assert checked > 150
