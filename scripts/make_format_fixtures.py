#!/usr/bin/env python3
"""Make the fixtures of the formats that need a converter or OCR, from the labelled corpus.

Why a separate script: `make_fixtures.py` builds the corpus deterministically; these are derived from it
(an old-Word copy made by LibreOffice, scans made by rendering the corpus PDFs) and can be remade without
touching the corpus. Each output gets the corpus truth file with `meta` adjusted, so the harness scores
them like any other document.

  fixtures/doc/    .doc and .rtf saved by LibreOffice from corpus DOCX files   (needs soffice)
  fixtures/scans/  image-only PDFs: corpus PDFs rendered at 150/200 dpi, rotated 0.5-1°, with noise and
                   JPEG compression, no text layer; one multi-page bilevel TIFF; one PNG page (no truth)

Usage: python scripts/make_format_fixtures.py [--doc] [--scans]   (both when neither is given)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--doc", action="store_true", help="the .doc/.rtf fixtures (needs LibreOffice)")
    ap.add_argument("--scans", action="store_true", help="the scanned-PDF/image fixtures")
    ap.add_argument("--html", action="store_true", help="the web-page fixtures (needs LibreOffice)")
    args = ap.parse_args(argv)
    both = not (args.doc or args.scans or args.html)
    if args.doc or both:
        make_doc()
    if args.html or both:
        make_html()
    if args.scans or both:
        make_scans()
    return 0


if __name__ == "__main__":
    sys.exit(main())
