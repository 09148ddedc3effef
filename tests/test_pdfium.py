"""The pdfium PDF engine against its oracle, pdfplumber: the same Document on every fixture PDF with a
text layer, and pdfplumber taking over the pages pdfium's objects would not reproduce."""

from __future__ import annotations

import dataclasses
import json
import zlib
from pathlib import Path

import pytest
from builders import script

from extractor.readers.pdf import read_pdf
from extractor.readers.pdfium_page import PageSource, Unsupported, font_facts

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 0.02  # points: pdfium keeps coordinates as 32-bit floats, pdfminer as doubles


def text_layer_pdfs() -> list[Path]:
    """Every fixture PDF that has a text layer (the scans in fixtures/scans are images only; those in
    fixtures/searchable have an OCR layer, read into the ruled tables found in their images)."""
    out = sorted((ROOT / "fixtures" / "real").glob("*.pdf")) + sorted((ROOT / "fixtures" / "corpus").glob("*.pdf"))
    for scan in sorted((ROOT / "fixtures" / "scans").glob("*.pdf")):
        if b"/Font" in scan.read_bytes():
            out.append(scan)
    return out + sorted((ROOT / "fixtures" / "searchable").glob("*.pdf"))  # scans with an OCR text layer


def difference(a, b, path: str = "") -> str | None:
    """Where two plain structures differ (floats within TOLERANCE), or None."""
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, int | float) and isinstance(b, int | float) and abs(a - b) <= TOLERANCE:
            return None
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{path}: keys {sorted(map(str, a))} != {sorted(map(str, b))}"
        return next((d for k in a if (d := difference(a[k], b[k], f"{path}.{k}"))), None)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}: {a!r:.200} / {b!r:.200}"
        return next((d for i, (x, y) in enumerate(zip(a, b, strict=True)) if (d := difference(x, y, f"{path}[{i}]"))), None)
    return None if a == b else f"{path}: {a!r} != {b!r}"


def blocks(doc) -> list[dict]:
    return [{"kind": type(b).__name__, **dataclasses.asdict(b)} for b in doc.blocks]


PDFS = text_layer_pdfs()


def test_there_are_fixture_pdfs_to_compare():
    assert len(PDFS) >= 70 and any(p.parent.name == "real" for p in PDFS)


@pytest.mark.parametrize("path", PDFS, ids=[f"{p.parent.name}/{p.name}" for p in PDFS])
def test_pdfium_engine_gives_pdfplumbers_document(path, monkeypatch):
    data = path.read_bytes()
    fallbacks: dict[int, str] = {}
    close = PageSource.close

    def record(self):
        fallbacks.update(self.fallbacks)
        close(self)

    monkeypatch.setattr(PageSource, "close", record)
    ours = read_pdf(str(path), data)
    assert fallbacks == {}, "every fixture page is read from pdfium's objects, none falls back"
    monkeypatch.setattr(PageSource, "close", close)
    oracle = read_pdf(str(path), data, engine="pdfplumber")
    assert any(b["kind"] == "Grid" for b in blocks(oracle))
    assert difference(blocks(ours), blocks(oracle)) is None
    assert (ours.notes, ours.pages, ours.format) == (oracle.notes, oracle.pages, oracle.format)


# ---------------------------------------------------------------- pages the engine hands to pdfplumber


def tiny_pdf(content: bytes, *, descriptor: bool = True, compress_objects: bool = False) -> bytes:
    """A one-page PDF with a non-embedded TrueType font (not a standard-14 name, whose metrics pdfminer would take from its AFM files) and the given content stream."""
    widths = " ".join(["600"] * 95)
    font = b"<< /Type /Font /Subtype /TrueType /BaseFont /QKXWZB+TestSans /FirstChar 32 /LastChar 126 /Widths [" + widths.encode() + b"]"
    font += b" /FontDescriptor 6 0 R >>" if descriptor else b" >>"
    stream = zlib.compress(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        font,
        b"<< /Type /FontDescriptor /FontName /QKXWZB+TestSans /Flags 32 /FontBBox [-665 -325 2000 1040] /ItalicAngle 0"
        b" /Ascent 905 /Descent -212 /CapHeight 716 /StemV 80 >>"
        if descriptor
        else b"null",
    ]
    if compress_objects:
        objects.append(b"<< /Type /ObjStm /N 0 /First 0 /Length 0 >>\nstream\n\nendstream")
    return script("make_hostile").pdf_bytes(objects, header=b"%PDF-1.4\n")


TEXT = b"BT /F1 12 Tf 20 150 Td (Table 1 rows) Tj ET 0.5 w 10 100 m 290 100 l S 10 60 280 30 re S"


def chars_and_edges(page) -> list:
    return [
        sorted((c["text"], c["x0"], c["top"], c["x1"], c["bottom"]) for c in page.chars),
        sorted((e["orientation"], e["x0"], e["top"], e["x1"], e["bottom"]) for e in page.edges),
    ]


def test_a_plain_page_is_read_from_pdfium_with_pdfminers_boxes():
    source = PageSource(tiny_pdf(TEXT))
    ours = source.page(0)
    assert source.fallbacks == {}
    oracle = source.plumber_page(0)
    assert "Table" in "".join(c["text"] for c in ours.chars) and len(ours.edges) == 5
    assert difference(chars_and_edges(ours), chars_and_edges(oracle)) is None
    source.close()


@pytest.mark.parametrize(
    "content, reason",
    [
        (TEXT + b" BT /F1 12 Tf 20.3 150 Td (Table 1 rows) Tj ET", "repeated text"),  # fake bold
        (b"/Span << /ActualText (T) >> BDC " + TEXT + b" EMC", "ActualText"),
        (TEXT.replace(b"1 rows", b"1   rows"), "consecutive spaces"),  # pdfium keeps one of them
    ],
    ids=["fake-bold", "actual-text", "spaces"],
)
def test_pages_pdfium_would_not_reproduce_fall_back_to_pdfplumber(content, reason):
    source = PageSource(tiny_pdf(content))
    page = source.page(0)
    assert reason in source.fallbacks[0]
    assert page.__class__.__module__.startswith("pdfplumber")  # pdfplumber's own page
    source.close()


def test_fonts_without_a_readable_descriptor_are_not_guessed():
    source = PageSource(tiny_pdf(TEXT, descriptor=False))
    source.page(0)
    assert "no font descriptor" in source.fallbacks[0]
    with pytest.raises(Unsupported, match="object streams"):
        font_facts(tiny_pdf(TEXT, compress_objects=True))


# ---------------------------------------------------------------- pages turned by /Rotate


def turned_copy(source: Path, target: Path, rotation: int) -> Path:
    """`source`'s landscape pages as a printer driver writes them: a portrait MediaBox holding the
    page turned a quarter, and /Rotate to show it upright (the page kept intact in a Form XObject)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    src, dst = pdfium.PdfDocument(str(source)), pdfium.PdfDocument.new()
    for i in range(len(src)):
        width, height = src[i].get_size()
        page = dst.new_page(height, width)
        xobject = raw.FPDF_NewXObjectFromPage(dst.raw, src.raw, i)
        form = raw.FPDF_NewFormObjectFromXObject(xobject)
        if rotation == 90:  # content turned counter-clockwise: (x, y) -> (height - y, x)
            raw.FPDFPageObj_Transform(form, 0, 1, -1, 0, height, 0)
        else:  # 270, turned clockwise: (x, y) -> (y, width - x)
            raw.FPDFPageObj_Transform(form, 0, -1, 1, 0, 0, width)
        raw.FPDFPage_InsertObject(page.raw, form)
        page.gen_content()
        page.set_rotation(rotation)
        raw.FPDF_CloseXObject(xobject)
    dst.save(str(target))
    return target


@pytest.mark.parametrize("rotation, name", [(90, "c017_2021_landscape"), (270, "c016_2019_landscape")])
def test_pages_turned_by_rotate_are_read_upright(tmp_path, rotation, name):
    import extractor

    source = ROOT / "fixtures" / "corpus" / f"{name}.pdf"
    turned = turned_copy(source, tmp_path / f"turned{rotation}.pdf", rotation)
    truth = json.loads(source.with_name(source.name + ".truth.json").read_text(encoding="utf-8"))["cells"]
    got = extractor.parse(str(turned)).values()
    assert {code: got.get(code) for code in truth} == truth
