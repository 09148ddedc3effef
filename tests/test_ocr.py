"""Scanned PDFs and images read by OCR: tables rebuilt from ruling lines, every doubtful value flagged.

Why: a large share of reports are scans. The harness must reach 99.5 % of cells on the scan fixtures
(rendered corpus PDFs at 150/200 dpi, rotated, noisy, no text layer), and a value OCR may have got wrong
must never pass silently: every wrong cell must have confidence < 1 or a review finding — and a value
read right must raise no review warning.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import script

from extractor.readers.ocr import ocr_available

ROOT = Path(__file__).resolve().parent.parent
SCANS = ROOT / "fixtures" / "scans"
pytestmark = pytest.mark.skipif(not ocr_available(), reason="the OCR extra is not installed: pip install 'zfxxgk-extractor[ocr]'")
REVIEW_RULES = ("ocr.", "value.unreadable")


def _flagged(report, code: str) -> bool:
    cell = report.cell_map().get(code)
    if cell is not None and cell.confidence < 1.0:
        return True
    return any(f.rule.startswith(REVIEW_RULES) and code in f.codes for f in report.findings)


def test_scans_meet_accuracy_and_every_miss_is_flagged() -> None:
    import extractor
    from extractor.checks.cross import cross_report

    evaluate = script("evaluate")
    reports = {}

    def parse(path: str):
        reports[path] = extractor.parse(path)
        return reports[path]

    truth_files = evaluate.find_truth_files([str(SCANS)])
    assert len(truth_files) >= 6
    results = evaluate.evaluate(truth_files, parse, cross_report)
    overall = evaluate.summarise(results)
    assert overall["failed"] == 0
    assert overall["cell_accuracy"] >= 0.995, overall
    assert overall["recall"] == 1.0, overall
    # correctly read values raise no review warning (the other half, every misreading flagged, is
    # tests/test_ocr_degraded.py)
    alarms = [(Path(r.file).name, a.get("message")) for r in results for a in r.false_alarms]
    assert not alarms, alarms
    unflagged = []
    for result in results:
        report = reports.get(result.file)
        if report is None:
            continue
        for miss in result.misses:
            if not _flagged(report, miss["code"]):
                unflagged.append((Path(result.file).name, miss))
        for error in result.unexpected:  # an arithmetic error caused by a misreading names a flagged cell
            if not any(_flagged(report, code) for code in error.get("codes") or []):
                unflagged.append((Path(result.file).name, error.get("message")))
    assert not unflagged


def test_png_page_gives_the_table_of_its_page() -> None:
    import extractor

    calls: list[tuple[int, int]] = []
    from extractor.api import parse_document
    from extractor.readers import read

    doc = read(str(SCANS / "c002_2021_plain_p3.png"), progress=lambda page, pages: calls.append((page, pages)))
    assert doc.format == "image" and calls == [(1, 1)]
    report = parse_document(doc)
    truth = json.loads((ROOT / "fixtures" / "corpus" / "c002_2021_plain.pdf.truth.json").read_text(encoding="utf-8"))["cells"]
    got = report.cell_map()
    t3 = [code for code in truth if code.startswith("t3.") and not code.startswith("t3.carried_over")]
    right = [code for code in t3 if code in got and got[code].value == truth[code]]
    assert len(right) >= 0.95 * len(t3)
    assert all(_flagged(report, code) for code in t3 if code in got and code not in right)
    assert extractor.parse  # the public entry point reads images too


def test_ocr_never_refuses_a_scan() -> None:
    from extractor.document import ReadError
    from extractor.readers import read

    with pytest.raises(ReadError, match="OCR"):
        read(str(SCANS / "c002_2021_plain_scan200.pdf"), ocr="never")


def test_blank_marker_shapes() -> None:
    import numpy as np

    from extractor.readers.ocr import blank_marker_shape

    dash = np.zeros((30, 60), np.uint8)
    dash[14:17, 15:45] = 255
    assert blank_marker_shape(dash, 150) == "—"
    slash = np.zeros((30, 60), np.uint8)
    for y in range(6, 24):
        x = 34 - (y - 6) // 3
        slash[y, x : x + 2] = 255
    assert blank_marker_shape(slash, 150) == "/"
    one = np.zeros((30, 60), np.uint8)
    one[6:24, 30:32] = 255
    assert blank_marker_shape(one, 150) is None  # an upright stroke is a '1' for the recogniser


def test_repair_value() -> None:
    from extractor.readers.ocr import repair_value

    assert repair_value("一") == ("—", 1.0)
    assert repair_value("1O") == ("10", 0.75)
    assert repair_value("1.234")[0] == "1,234"
    assert repair_value("行政许可") == ("行政许可", 1.0)
    assert repair_value("25") == ("25", 1.0)


def test_number_wrapped_in_its_cell_is_read_line_by_line() -> None:
    """c025's 表三 prints 1,673 / 1,794 / 1,633 / 1,751 wrapped over two lines of a narrow cell
    ('1,63' over '3'); each is read as one number, line by line. Read as one crop, the two lines came
    out as another number ('1.63') or as a reading that disagrees with the page's (confidence 0.5)."""
    import pypdfium2 as pdfium

    from extractor.document import Grid
    from extractor.readers.ocr import ocr_page

    pdf = pdfium.PdfDocument(str(SCANS / "c025_2019_thousands_scan200.pdf"))
    image = pdf[2].render(scale=200 / 72, grayscale=True).to_pil()
    read = {}
    for grid in (b for b in ocr_page(image, 3, 200.0) if isinstance(b, Grid)):
        for r, row in enumerate(grid.rows):
            for c, text in enumerate(row):
                if text and text.replace(",", "").isdigit() and int(text.replace(",", "")) >= 1000:
                    read[text] = grid.confidence.get((r, c), 0.0)
    assert set(read) == {"1,673", "1,794", "1,633", "1,751"}
    assert all(sure > 0.5 for sure in read.values()), read


def test_the_models_run_folded_and_a_model_that_cannot_be_folded_runs_as_shipped(tmp_path) -> None:
    from extractor.readers.ocr import _folded_session, _get_engine

    engine = _get_engine()
    assert engine.text_rec.session.session._model_path is None  # our session, built from the folded bytes

    class Stock:  # a session from a release that no longer names its model file
        def run(self, *args):
            return []

    stock = Stock()
    assert _folded_session(stock, None) is stock
    broken = Stock()
    broken._model_path = str(tmp_path / "not-a-model.onnx")
    (tmp_path / "not-a-model.onnx").write_bytes(b"not onnx")
    assert _folded_session(broken, None) is broken
