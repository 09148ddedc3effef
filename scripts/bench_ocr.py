#!/usr/bin/env python
"""OCR benchmark: seconds per scanned page, reading the scan fixtures (or the files given).

Why: OCR is by far the slowest path (a text PDF page takes milliseconds, a scanned one seconds), so its
cost per page is what decides whether a folder of scans fits a batch window on a 2-core machine.

    .venv/bin/python scripts/bench_ocr.py                    # fixtures/scans
    .venv/bin/python scripts/bench_ocr.py scan1.pdf page.png
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.readers import read  # noqa: E402
from extractor.readers.ocr import _get_engine, ocr_available  # noqa: E402

SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path, default=[ROOT / "fixtures" / "scans"])
    args = ap.parse_args(argv)
    if not ocr_available():
        print("error: the OCR extra is not installed (pip install 'zfxxgk-extractor[ocr]')", file=sys.stderr)
        return 2
    files = sorted(f for p in args.paths for f in ([p] if p.is_file() else p.iterdir()) if f.suffix.lower() in SUFFIXES)
    started = time.perf_counter()
    _get_engine()
    print(f"model load: {time.perf_counter() - started:.2f} s")
    total_pages, total_seconds = 0, 0.0
    for path in files:
        start = time.perf_counter()
        doc = read(str(path), ocr="always")
        seconds = time.perf_counter() - start
        pages = doc.pages or 1
        total_pages += pages
        total_seconds += seconds
        print(f"{path.name:<45} {pages:>3} pages {seconds:>7.1f} s {seconds / pages:>6.2f} s/page")
    if total_pages:
        print(f"{'total':<45} {total_pages:>3} pages {total_seconds:>7.1f} s {total_seconds / total_pages:>6.2f} s/page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
