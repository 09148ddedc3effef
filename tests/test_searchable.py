"""Scans with an OCR text layer ('searchable PDFs'): the layer's text is read, not OCR'd again, into
the ruled tables found in the scan image (fixtures/searchable, made by make_format_fixtures.py:
scan images of corpus PDFs with their chars written invisibly where they were printed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest

import extractor
import extractor.readers.ocr as ocr
import extractor.readers.pdf as pdf_reader
from extractor.readers.pdf import is_layer_scan

ROOT = Path(__file__).resolve().parent.parent
SEARCHABLE = sorted((ROOT / "fixtures" / "searchable").glob("*.pdf"))
needs_ocr = pytest.mark.skipif(not ocr.ocr_available(), reason="the OCR extra finds the scan's ruling lines")


def truth_cells(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".truth.json").read_text(encoding="utf-8"))["cells"]


def right_cells(path: Path) -> float:
    report = extractor.parse(str(path))
    got = {c.code: c.value for c in report.cells}
    truth = truth_cells(path)
    return sum(got.get(code) == value for code, value in truth.items()) / len(truth)


def test_there_are_searchable_fixtures_of_both_templates():
    assert {json.loads(p.with_name(p.name + ".truth.json").read_text(encoding="utf-8"))["meta"]["template"] for p in SEARCHABLE} == {"2019", "2021"}


def test_layer_scans_are_told_from_text_pdfs():
    for path in SEARCHABLE:
        with pdfium.PdfDocument(str(path)) as doc:
            assert all(is_layer_scan(doc[i]) for i in range(len(doc)))
    for path in [ROOT / "fixtures" / "real" / "hzq2023.pdf", ROOT / "fixtures" / "corpus" / "c002_2021_plain.pdf", ROOT / "fixtures" / "scans" / "c001_2019_plain_scan150.pdf"]:
        with pdfium.PdfDocument(str(path)) as doc:
            assert not any(is_layer_scan(doc[i]) for i in range(len(doc))), path.name


@needs_ocr
def test_every_cell_right_and_no_finding_from_the_layer_and_the_image_rules():
    cmd = [sys.executable, str(ROOT / "scripts" / "evaluate.py"), str(ROOT / "fixtures" / "searchable"), "--min-cell-accuracy", "1.0",
           "--min-recall", "1.0", "--max-unexpected-errors", "0"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


@needs_ocr
def test_the_layer_is_read_and_nothing_is_recognised_again(monkeypatch):
    def no_ocr(*args, **kwargs):
        raise AssertionError("a page with an OCR text layer was OCR'd again")

    monkeypatch.setattr(ocr, "detect", no_ocr)  # every OCR'd page starts with the detector
    monkeypatch.setattr(ocr, "_readings", no_ocr)  # every recognition goes through here
    for path in SEARCHABLE:
        report = extractor.parse(str(path))
        assert report.format == "pdf" and report.template in ("2019", "2021")
        assert not [f for f in report.findings if f.severity == "error"]


@needs_ocr
def test_without_the_image_rules_the_tables_lose_cells(monkeypatch):
    """The fixtures need the rules found in the image: read by text positions alone they come out worse."""
    monkeypatch.setattr(pdf_reader, "_layer_scan_rules", lambda *args: None)
    assert min(right_cells(path) for path in SEARCHABLE) < 1.0


def test_without_the_ocr_extra_the_page_is_read_by_its_text_and_says_why(monkeypatch):
    monkeypatch.setattr(ocr, "ocr_available", lambda: False)
    report = extractor.parse(str(SEARCHABLE[0]))
    assert report.cells
    notes = [f.message for f in report.findings if f.rule == "document.note"]
    assert any("扫描页" in note and "OCR" in note for note in notes)
