#!/usr/bin/env python
"""Throughput benchmark: ingest a generated folder of N reports and compare with plain pdfplumber.

The folder is made by copying the fixture PDFs and DOCX files with a small byte change each (a PDF
comment after %%EOF, a zip comment in a DOCX), so every copy has its own sha256 and is really parsed.
The figure we track is the ratio of our ingest wall time to the time `pdfplumber` `extract_tables` on
every page of the same PDFs takes in one process (measured on a sample, extrapolated).

    .venv/bin/python scripts/bench.py            # 1000 reports
    .venv/bin/python scripts/bench.py --n 50     # quick run
    .venv/bin/python scripts/bench.py --cluster --n 2000 [--postgres]   # local pool vs Dask (bench_cluster.py)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.readers import sniff  # noqa: E402
from extractor.store.ingest import ingest  # noqa: E402


def sources(folder: Path) -> list[tuple[Path, str]]:
    """Fixture documents to copy: PDFs and DOCX, recognised by content."""
    out = []
    for p in sorted(folder.iterdir()):
        if p.is_file():
            kind = sniff(p.read_bytes()[:8192] if p.suffix.lower() != ".docx" else p.read_bytes())
            if kind in ("pdf", "docx"):
                out.append((p, kind))
    return out


def generate(dest: Path, n: int, src: list[tuple[Path, str]]) -> list[Path]:
    """Write n distinct copies of the sources into dest; returns the PDF copies."""
    pdfs = []
    for i in range(n):
        path, kind = src[i % len(src)]
        target = dest / f"{i:05d}_{path.name}"
        if kind == "pdf":
            target.write_bytes(path.read_bytes() + f"\n%bench copy {i}\n".encode())
            pdfs.append(target)
        else:
            shutil.copy(path, target)
            with zipfile.ZipFile(target, "a") as zf:
                zf.comment = f"bench copy {i}".encode()
    return pdfs


def pdfplumber_seconds(pdfs: list[Path], sample: int) -> tuple[float, int, int]:
    """(seconds, pages, files) for extract_tables on every page of a sample of the PDFs, one process."""
    import pdfplumber

    chosen = pdfs[:sample]
    pages = 0
    start = time.perf_counter()
    for p in chosen:
        with pdfplumber.open(p) as pdf:
            for page in pdf.pages:
                page.extract_tables()
                pages += 1
    return time.perf_counter() - start, pages, len(chosen)


def main() -> None:
    if "--cluster" in sys.argv[1:]:  # a mode of its own: local pool vs Dask LocalCluster, SQLite and PostgreSQL
        import bench_cluster  # scripts/bench_cluster.py, beside this file

        bench_cluster.main([a for a in sys.argv[1:] if a != "--cluster"])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="reports to generate (default 1000)")
    ap.add_argument("--workers", type=int, default=None, help="ingest workers (default: one per core)")
    ap.add_argument("--sample", type=int, default=20, help="PDFs timed with plain pdfplumber (default 20)")
    ap.add_argument("--fixtures", type=Path, default=ROOT / "fixtures" / "corpus", help="folder of source documents")
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one, removed)")
    ap.add_argument("--scans", action="store_true", help="also time OCR: seconds per scanned page (fixtures/scans)")
    args = ap.parse_args()
    if args.scans:
        import bench_ocr  # scripts/bench_ocr.py, beside this file

        bench_ocr.main([])

    src = sources(args.fixtures)
    if not src:
        sys.exit(f"no PDF or DOCX files in {args.fixtures}")
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="extractor-bench-"))
    folder = work / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    db = work / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    try:
        pdfs = generate(folder, args.n, src)
        workers = args.workers or os.cpu_count() or 1
        print(
            f"{args.n} files ({len(pdfs)} PDF, {args.n - len(pdfs)} DOCX) from {len(src)} fixtures; {workers} workers",
            flush=True,
        )
        start = time.perf_counter()
        summary = ingest([str(folder)], str(db), workers=workers, progress="auto")
        wall = time.perf_counter() - start
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = children.ru_utime + children.ru_stime

        print(summary.text(limit=5))
        pages = max(summary.pages, 1)
        print(
            f"ingest: {wall:.1f} s wall, {summary.ok / wall:.1f} reports/s,"
            f" {wall / pages * 1000:.1f} ms/page wall, {cpu / pages * 1000:.1f} ms/page CPU ({pages} pages)"
        )
        print(
            f"peak memory per worker: {summary.peak_worker_rss_mb:.0f} MB"
            f" (largest child maxrss {children.ru_maxrss / 1024:.0f} MB)"
        )
        if pdfs:
            secs, ppages, files = pdfplumber_seconds(pdfs, args.sample)
            per_file = secs / files
            extrapolated = per_file * len(pdfs)
            print(
                f"pdfplumber extract_tables, 1 process: {secs:.1f} s on {files} PDFs ({ppages} pages,"
                f" {secs / max(ppages, 1) * 1000:.1f} ms/page) -> {extrapolated:.1f} s for the {len(pdfs)} PDFs"
            )
            print(
                f"ratio ingest wall / pdfplumber: {wall / extrapolated:.2f}"
                f" (ingest includes the {args.n - len(pdfs)} DOCX; CPU-time ratio {cpu / extrapolated:.2f})"
            )
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
