#!/usr/bin/env python3
"""Make the fixtures of the formats that need a converter or OCR, from the labelled corpus.

Why a separate script: `make_fixtures.py` builds the corpus deterministically; these are derived from it
(an old-Word copy made by LibreOffice, scans made by rendering the corpus PDFs) and can be remade without
touching the corpus. Each output gets the corpus truth file with `meta` adjusted, so the harness scores
them like any other document.

  fixtures/doc/    .doc and .rtf saved by LibreOffice from corpus DOCX files   (needs soffice)
  fixtures/scans/  image-only PDFs: corpus PDFs rendered at 150/200 dpi, rotated 0.5-1°, with noise and
                   JPEG compression, no text layer; one multi-page bilevel TIFF; one PNG page (no truth)
  fixtures/searchable/  'searchable' scans: such a scan image on each page with the corpus PDF's text
                   drawn invisibly (render mode 3) where it was printed, as scanners' OCR layers are,
                   and no vector ruling lines (they are only in the image)

Usage: python scripts/make_format_fixtures.py [--doc] [--scans] [--html] [--searchable]   (all when none is given)
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "corpus"
SEED = 20250601

# (corpus document, output format) — .doc for both templates, .rtf for one
DOC_SOURCES = [("c002_2021_plain", "doc"), ("c004_2019_split_header", "doc"), ("c001_2019_plain", "rtf")]

# (corpus PDF, dpi, rotation in degrees): both templates, a table split over pages, thousands
# separators, blank markers of every kind, a seeded arithmetic error that must still be found
SCAN_SOURCES = [
    ("c001_2019_plain", 150, 0.6),
    ("c002_2021_plain", 200, -0.8),
    ("c005_2021_split_header", 150, -0.5),
    ("c025_2019_thousands", 200, 1.0),
    ("c053_2021_err_coltotal", 150, 0.9),
    ("c020_2021_zeros", 200, -0.7),
]
TIFF_SOURCE = ("c003_2021r1_plain", 200, 0.5)
# (corpus PDF, dpi, rotation): both templates, one with a table split over pages
SEARCHABLE_SOURCES = [("c004_2019_split_header", 150, 0.4), ("c021_2021r1_zeros", 150, -0.6)]
PNG_SOURCE = ("c002_2021_plain", 3, 150, -0.6)  # document, page, dpi, rotation


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise SystemExit("error: LibreOffice is needed for the DOC fixtures (apt-get install libreoffice-writer-nogui)")
    return found


def write_truth(source: Path, target: Path, **meta: object) -> None:
    truth = json.loads(source.read_text(encoding="utf-8"))
    truth["meta"] = {**truth["meta"], **meta, "generator": "scripts/make_format_fixtures.py", "derived_from": source.name.removesuffix(".truth.json")}
    target.with_name(target.name + ".truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def make_doc() -> None:
    out = ROOT / "fixtures" / "doc"
    out.mkdir(parents=True, exist_ok=True)
    binary = soffice()
    filters = {"doc": "doc:MS Word 97", "rtf": "rtf"}
    for name, fmt in DOC_SOURCES:
        source = CORPUS / f"{name}.docx"
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [binary, f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}", "--headless", "--convert-to", filters[fmt], "--outdir", tmp, str(source)],
                check=True, capture_output=True, timeout=180,
            )
            target = out / f"{name}.{fmt}"
            shutil.copyfile(Path(tmp) / f"{name}.{fmt}", target)
        write_truth(CORPUS / f"{name}.docx.truth.json", target, file=target.name, format=fmt, variant=f"{fmt}_from_docx")
        print(f"wrote {target.relative_to(ROOT)}")


HTML_SOURCES = [  # corpus document, encoding of the saved page
    ("c001_2019_plain", "utf-8"),
    ("c002_2021_plain", "gb18030"),
    ("c031_2019_typos", "gb18030"),
    ("c036_2021r1_vertical_tbrl", "utf-8"),
]


def make_html() -> None:
    """Web pages as agencies publish them: the report saved as HTML by a word processor (the markup
    portals get when a report is pasted from Word), some re-encoded as GB18030 with a gb2312 meta tag."""
    out = ROOT / "fixtures" / "html"
    out.mkdir(parents=True, exist_ok=True)
    binary = soffice()
    for name, encoding in HTML_SOURCES:
        source = CORPUS / f"{name}.docx"
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [binary, f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}", "--headless", "--convert-to", "html:HTML (StarWriter):UTF8", "--outdir", tmp, str(source)],
                check=True, capture_output=True, timeout=180,
            )
            html = (Path(tmp) / f"{name}.html").read_text(encoding="utf-8")
        html = re.sub(r"<meta name=\"(?:created|changed|generator)\"[^>]*>", "", html)  # timestamps: keep the file deterministic
        target = out / f"{name}.html"
        if encoding == "gb18030":
            html = re.sub(r"charset=utf-8", "charset=gb2312", html, flags=re.IGNORECASE)
            target.write_bytes(html.encode("gb18030"))
        else:
            target.write_text(html, encoding="utf-8")
        write_truth(CORPUS / f"{name}.docx.truth.json", target, file=target.name, format="html", variant=f"html_{encoding}")
        print(f"wrote {target.relative_to(ROOT)}")


def scan_pages(pdf_path: Path, dpi: int, angle: float, rng: random.Random, pages: list[int] | None = None, noise: float = 5.0):
    """The pages of a PDF as a scanner would give them: rasterised, slightly rotated, noisy, off-white."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    pdf = pdfium.PdfDocument(str(pdf_path))
    images = []
    for index in range(len(pdf)):
        if pages is not None and index not in pages:
            continue
        image = pdf[index].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        jitter = rng.uniform(-0.15, 0.15)  # every page of a scan is a little differently skewed
        image = image.rotate(angle + jitter, resample=Image.Resampling.BICUBIC, fillcolor=255)
        pixels = np.asarray(image, dtype=np.float32)
        grain = np.random.default_rng(rng.randrange(2**32)).normal(0.0, noise, pixels.shape)
        pixels = pixels * 0.93 + 10 + grain  # grey paper, weaker black
        speckle = np.random.default_rng(rng.randrange(2**32)).random(pixels.shape) < 0.0004
        pixels[speckle] = 40
        images.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L"))
    pdf.close()
    return images


def make_scans() -> None:
    from PIL import Image

    out = ROOT / "fixtures" / "scans"
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    for name, dpi, angle in SCAN_SOURCES:
        images = scan_pages(CORPUS / f"{name}.pdf", dpi, angle, rng)
        target = out / f"{name}_scan{dpi}.pdf"
        buffer = io.BytesIO()
        images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=dpi, quality=35)
        target.write_bytes(buffer.getvalue())
        write_truth(CORPUS / f"{name}.pdf.truth.json", target, file=target.name, format="image-pdf", variant=f"scan{dpi}", dpi=dpi, rotation=angle)
        print(f"wrote {target.relative_to(ROOT)} ({len(buffer.getvalue()) // 1024} KB)")
    name, dpi, angle = TIFF_SOURCE
    images = [im.point(lambda v: 255 if v > 150 else 0).convert("1") for im in scan_pages(CORPUS / f"{name}.pdf", dpi, angle, rng)]
    target = out / f"{name}_scan{dpi}.tiff"
    images[0].save(target, save_all=True, append_images=images[1:], compression="group4", dpi=(dpi, dpi))
    write_truth(CORPUS / f"{name}.pdf.truth.json", target, file=target.name, format="image", variant=f"scan{dpi}_tiff", dpi=dpi, rotation=angle)
    print(f"wrote {target.relative_to(ROOT)} ({target.stat().st_size // 1024} KB)")
    name, page, dpi, angle = PNG_SOURCE
    image = scan_pages(CORPUS / f"{name}.pdf", dpi, angle, rng, pages=[page - 1], noise=0.0)[0]
    target = out / f"{name}_p{page}.png"
    image = image.quantize(colors=8, dither=Image.Dither.NONE)  # 8 grey levels: a small file, still a photo-like page
    image.save(target, dpi=(dpi, dpi), optimize=True)
    print(f"wrote {target.relative_to(ROOT)} ({target.stat().st_size // 1024} KB)")


def _layer_chars(page) -> list[tuple[str, float, float, float, float]]:
    """(text, origin x, origin y, font size, advance) of each char a PDF page prints (pdfium's
    invented spaces and line breaks left out)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    x, y, width = ctypes.c_double(), ctypes.c_double(), ctypes.c_float()
    out = []
    for i in range(pdfium_c.FPDFText_CountChars(textpage.raw)):
        code = pdfium_c.FPDFText_GetUnicode(textpage.raw, i)
        if pdfium_c.FPDFText_IsGenerated(textpage.raw, i) or code in (0x20, 0x0A, 0x0D, 0xFFFE):
            continue
        obj = pdfium_c.FPDFText_GetTextObject(textpage.raw, i)
        size = pdfium_c.FPDFText_GetFontSize(textpage.raw, i)
        pdfium_c.FPDFText_GetCharOrigin(textpage.raw, i, x, y)
        font = pdfium_c.FPDFTextObj_GetFont(obj)
        advance = width.value if pdfium_c.FPDFFont_GetGlyphWidth(font, code, size, width) else size
        out.append((chr(code), x.value, y.value, size, advance))
    textpage.close()
    return out


FIRST_LAYER_CID = 1000  # Adobe-GB1 CIDs from here on are Han glyphs every Chinese font has


def _layer_pdf(pages: list[tuple[float, float, bytes, int, int, list]]) -> bytes:
    """A PDF of scan images with an invisible OCR text layer, as OCR software writes one: per page a
    JPEG and, over it, each char in render mode 3 in a font that is not embedded (a Type0 font whose
    CIDs map to Unicode through its ToUnicode CMap, each CID as wide as the char it stands for; its
    Adobe-GB1 ordering has viewers substitute a Chinese font, so no char lacks a glyph)."""
    from make_hostile import pdf_bytes  # scripts/make_hostile.py, beside this file: the one small PDF writer

    seen_widths: dict[str, list[int]] = {}
    for *_, chars in pages:
        for text, _, _, size, advance in chars:
            seen_widths.setdefault(text, []).append(round(advance / size * 1000) if size else 1000)
    # one CID per char (OCR fonts map each Unicode char once), as wide as the char mostly is
    cid_of = {text: FIRST_LAYER_CID + i for i, text in enumerate(seen_widths)}
    width_of = {text: max(set(ws), key=ws.count) for text, ws in seen_widths.items()}
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Layer def"
    cmap += b" 1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
    entries = sorted((cid, text) for text, cid in cid_of.items())
    for start in range(0, len(entries), 100):
        chunk = entries[start : start + 100]
        cmap += b"%d beginbfchar\n" % len(chunk)
        cmap += b"".join(b"<%04X> <%s>\n" % (cid, text.encode("utf-16-be").hex().upper().encode()) for cid, text in chunk)
        cmap += b"endbfchar\n"
    cmap += b"endcmap CMapName currentdict /CMap defineresource pop end end"
    to_unicode = add(b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream")
    widths = b" ".join(b"%d [%d]" % (cid, width_of[text]) for cid, text in entries)
    descriptor = add(b"<< /Type /FontDescriptor /FontName /GlyphLessFont /Flags 5 /FontBBox [0 -120 1000 880]"
                     b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>")  # fmt: skip
    cid_font = add(b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /GlyphLessFont /CIDToGIDMap /Identity"
                   b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >>"
                   b" /FontDescriptor %d 0 R /DW 1000 /W [%s] >>" % (descriptor, widths))  # fmt: skip
    font = add(b"<< /Type /Font /Subtype /Type0 /BaseFont /GlyphLessFont /Encoding /Identity-H"
               b" /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (cid_font, to_unicode))  # fmt: skip
    page_ids = []
    pages_id = len(objects) + 1 + 3 * len(pages)  # the Pages object comes after every page's three
    for width, height, jpeg, px_w, px_h, chars in pages:
        image = add(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
                    b" /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n" % (px_w, px_h, len(jpeg)) + jpeg + b"\nendstream")  # fmt: skip
        text = b"".join(
            b"%.3f 0 0 %.3f %.3f %.3f Tm <%04X> Tj\n" % (size, size, cx, cy, cid_of[t]) for t, cx, cy, size, _ in chars
        )
        content = b"q %.3f 0 0 %.3f 0 0 cm /Im0 Do Q\nBT 3 Tr /F1 1 Tf\n" % (width, height) + text + b"ET"
        stream = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        page_ids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.3f %.3f] /Contents %d 0 R"
                            b" /Resources << /XObject << /Im0 %d 0 R >> /Font << /F1 %d 0 R >> >> >>" % (pages_id, width, height, stream, image, font)))  # fmt: skip
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % i for i in page_ids), len(page_ids))) == pages_id
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    return pdf_bytes(objects, root=catalog, header=b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")


def make_searchable() -> None:
    """Scans with an OCR text layer: the scan images of corpus PDFs (`scan_pages`) with each printed
    char of the PDF written invisibly where it was printed (the layer OCR software adds), and no
    vector ruling lines: the tables' rules are only in the images."""
    import pypdfium2 as pdfium

    out = ROOT / "fixtures" / "searchable"
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED + 1)
    for name, dpi, angle in SEARCHABLE_SOURCES:
        images = scan_pages(CORPUS / f"{name}.pdf", dpi, angle, rng)
        pdf = pdfium.PdfDocument(str(CORPUS / f"{name}.pdf"))
        pages = []
        for index, image in enumerate(images):
            page = pdf[index]
            width, height = page.get_size()
            jpeg = io.BytesIO()
            image.save(jpeg, "JPEG", quality=30)
            pages.append((width, height, jpeg.getvalue(), image.width, image.height, _layer_chars(page)))
            page.close()
        pdf.close()
        target = out / f"{name}_searchable{dpi}.pdf"
        target.write_bytes(_layer_pdf(pages))
        write_truth(CORPUS / f"{name}.pdf.truth.json", target, file=target.name, format="pdf", variant=f"searchable{dpi}", dpi=dpi, rotation=angle)
        print(f"wrote {target.relative_to(ROOT)} ({target.stat().st_size // 1024} KB)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--doc", action="store_true", help="the .doc/.rtf fixtures (needs LibreOffice)")
    ap.add_argument("--scans", action="store_true", help="the scanned-PDF/image fixtures")
    ap.add_argument("--html", action="store_true", help="the web-page fixtures (needs LibreOffice)")
    ap.add_argument("--searchable", action="store_true", help="the scans with an OCR text layer")
    args = ap.parse_args(argv)
    both = not (args.doc or args.scans or args.html or args.searchable)
    if args.doc or both:
        make_doc()
    if args.html or both:
        make_html()
    if args.scans or both:
        make_scans()
    if args.searchable or both:
        make_searchable()
    return 0


if __name__ == "__main__":
    sys.exit(main())
