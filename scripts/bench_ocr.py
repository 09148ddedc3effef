#!/usr/bin/env python
"""OCR benchmark: seconds per scanned page (wall and CPU), reading the scan fixtures (or the files given).

Why: OCR is by far the slowest path (a text PDF page takes milliseconds, a scanned one seconds), so its
cost per page is what decides whether a folder of scans fits a batch window on a 2-core machine. CPU
time is printed next to wall time because on a shared machine the wall time mostly measures the
neighbours; the load average is printed for the same reason. Target: 1.5 s a page.

    .venv/bin/python scripts/bench_ocr.py                    # fixtures/scans
    .venv/bin/python scripts/bench_ocr.py scan1.pdf page.png
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.readers import read  # noqa: E402
from extractor.readers.ocr import _get_engine, ocr_available, ocr_threads  # noqa: E402

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
    print(f"model load: {time.perf_counter() - started:.2f} s; OCR threads: {ocr_threads()}; load average: {_load()}")
    total_pages, total_wall, total_cpu = 0, 0.0, 0.0
    for path in files:
        wall, cpu = time.perf_counter(), time.process_time()
        doc = read(str(path), ocr="always")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        pages = doc.pages or 1
        total_pages += pages
        total_wall += wall
        total_cpu += cpu
        print(f"{path.name:<45} {pages:>3} pages {wall:>7.1f} s {wall / pages:>6.2f} s/page wall {cpu / pages:>6.2f} s/page CPU")
    if total_pages:
        print(f"{'total':<45} {total_pages:>3} pages {total_wall:>7.1f} s {total_wall / total_pages:>6.2f} s/page wall {total_cpu / total_pages:>6.2f} s/page CPU")
    print(f"load average: {_load()}")
    return 0


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
