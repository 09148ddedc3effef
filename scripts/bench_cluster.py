#!/usr/bin/env python
"""Cluster benchmark: N reports through the local pool and through a Dask LocalCluster, into SQLite and
PostgreSQL, in one run: reports/s, memory per worker, database size.

The N reports are the corpus (fixtures/corpus) replicated with perturbed numbers:
- DOCX: copy r of a document has every number in its tables, and every count in its prose (digits
  before 件/条/次/元/个/项/人/家), multiplied by r + 1, and its agency renamed (第r号 before the name), so
  each copy is its own agency-year and every sum, difference and ratio the checks test still holds:
  a parse of a copy gives exactly the original's cells × (r + 1) and the same findings, for 78 of
  the 79 corpus DOCX (the 79th gains t2.fee_unit: a fee × k can look like 元 printed for 万元);
- PDF: copies with a comment after %%EOF (rewriting PDF text is not a quick job), so their numbers and
  agency are the original's: they add cross_report.duplicate_year findings.

    .venv/bin/python scripts/bench.py --cluster --n 2000                 # local pool vs LocalCluster, SQLite
    .venv/bin/python scripts/bench.py --cluster --n 10000 --postgres    # and into PostgreSQL

Each target runs twice: the first ingest is the figure; the second finds every file stored (hashing,
lookups and the cross-report checks only), so first − second is the parse-and-write time.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.readers import sniff  # noqa: E402
from extractor.store.ingest import ingest  # noqa: E402

CELL = re.compile(r"(<w:t(?: [^>]*)?>[+\-−]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(</w:t>)")  # 2019 增减 cells carry a sign
COUNT = re.compile(r"(\d+(?:\.\d+)?)(?=件|条|次|元|万元|个|项|人|家)")
TABLE = re.compile(r"(<w:tbl>.*?</w:tbl>)", re.S)
TEXT = re.compile(r"(<w:t(?: [^>]*)?>)([^<]*)(</w:t>)")


def times(number: str, k: int) -> str:
    """A printed number times k, printed the same way (thousands separators, decimals)."""
    value = Decimal(number.replace(",", "")) * k
    return f"{value:,}" if "," in number else str(value)


def perturb_docx_xml(xml: str, k: int, agency: str, tag: str) -> str:
    """document.xml with table numbers and prose counts times k, and the agency renamed."""
    parts = TABLE.split(xml)
    for i, part in enumerate(parts):
        if part.startswith("<w:tbl>"):
            parts[i] = CELL.sub(lambda m: m.group(1) + times(m.group(2) + (m.group(3) or ""), k) + m.group(4), part)
        else:
            parts[i] = TEXT.sub(lambda m: m.group(1) + COUNT.sub(lambda n: times(n.group(1), k), m.group(2)) + m.group(3), part)
    out = "".join(parts)
    return out.replace(agency, tag + agency) if agency and tag else out


def generate(dest: Path, n: int, fixtures: Path) -> tuple[int, int]:
    """Write n reports into dest (see the module docstring); returns (PDFs, DOCX)."""
    sources = []
    for p in sorted(fixtures.iterdir()):
        if p.is_file() and not p.name.endswith(".json"):
            kind = sniff(p.read_bytes())
            if kind in ("pdf", "docx"):
                truth = p.with_name(p.name + ".truth.json")
                agency = json.loads(truth.read_text(encoding="utf-8"))["meta"]["agency"] if truth.exists() else ""
                sources.append((p, kind, p.read_bytes(), agency))
    if not sources:
        sys.exit(f"no PDF or DOCX files in {fixtures}")
    counts = {"pdf": 0, "docx": 0}
    for i in range(n):
        path, kind, data, agency = sources[i % len(sources)]
        rnd = i // len(sources)
        target = dest / f"{i:05d}_{path.name}"
        counts[kind] += 1
        if target.exists():
            continue
        if kind == "pdf":
            target.write_bytes(data + f"\n%bench copy {i}\n".encode())
            continue
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                body = zin.read(info)
                if info.filename == "word/document.xml" and rnd:
                    body = perturb_docx_xml(body.decode("utf-8"), rnd + 1, agency, f"第{rnd}号").encode("utf-8")
                zout.writestr(info, body)
            zout.comment = f"bench copy {i}".encode()
        target.write_bytes(out.getvalue())
    return counts["pdf"], counts["docx"]


def db_size(db: str) -> int:
    """Bytes on disk: the SQLite file (+ WAL), or pg_database_size."""
    if "://" not in db:
        return sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
    import psycopg

    with psycopg.connect(db.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])


def run(label: str, folder: Path, db: str, executor: Any = None, workers: int = 2) -> dict[str, Any]:
    """Ingest twice (the second run finds everything stored); print and return the figures."""
    start = time.perf_counter()
    summary = ingest([str(folder)], db, workers=workers, progress="none", executor=executor)
    wall = time.perf_counter() - start
    start = time.perf_counter()
    again = ingest([str(folder)], db, workers=workers, progress="none", executor=executor)
    rerun = time.perf_counter() - start
    row = {
        "target": label,
        "ok": summary.ok,
        "failed": summary.failed,
        "wall_s": round(wall, 1),
        "reports_per_s": round(summary.ok / wall, 2),
        "rerun_s": round(rerun, 1),
        "parse_reports_per_s": round(summary.ok / max(wall - rerun, 1e-9), 2),
        "parse_child_peak_mb": round(summary.peak_worker_rss_mb),
        "db_mb": round(db_size(db) / 2**20, 1),
        "cross_findings": summary.cross_findings,
    }
    assert again.ok == 0, f"{label}: the second run parsed {again.ok} files again"
    print(json.dumps(row, ensure_ascii=False), flush=True)
    for path, reason in summary.failures[:3]:
        print(f"  failed {path}: {reason}", flush=True)
    return row


def on_cluster(label: str, folder: Path, db: str, workers: int) -> dict[str, Any]:
    from distributed import LocalCluster

    from extractor.store.cluster import DaskExecutor

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False}) as lc:
        with DaskExecutor(lc.scheduler_address) as ex:
            row = run(label, folder, db, executor=ex)
            peaks = ex.client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    row["dask_worker_peak_mb"] = round(max(peaks.values()))
    print(f"  Dask worker processes, peak RSS: {', '.join(f'{v:.0f} MB' for v in peaks.values())}", flush=True)
    return row


def postgres_databases() -> Any:
    """A temporary PostgreSQL server (as the tests start one: tests/pg.py), or None with the reason."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import pg  # tests/pg.py
    except ImportError as exc:
        return None, f"tests/pg.py not available ({exc})"
    if pg.server_bindir() is None:
        return None, "PostgreSQL server binaries not found"
    return pg, ""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="reports to generate (default 10000)")
    ap.add_argument("--workers", type=int, default=2, help="local pool workers and LocalCluster workers (default 2)")
    ap.add_argument("--fixtures", type=Path, default=ROOT / "fixtures" / "corpus")
    ap.add_argument("--dir", type=Path, default=None, help="work folder, kept (generated files are reused)")
    ap.add_argument("--postgres", action="store_true", help="also ingest through the cluster into a temporary PostgreSQL server")
    ap.add_argument("--skip-local", action="store_true", help="leave out the local-pool baseline")
    args = ap.parse_args(argv)

    work = args.dir or Path(tempfile.mkdtemp(prefix="extractor-bench-cluster-"))
    folder = work / f"reports-{args.n}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        pdfs, docx = generate(folder, args.n, args.fixtures)
        print(f"{args.n} reports ({pdfs} PDF, {docx} DOCX) generated in {time.perf_counter() - start:.0f} s; {args.workers} workers, {os.cpu_count()} cores", flush=True)
        rows = []
        for name in ("local.db", "cluster.db"):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{work / name}{suffix}").unlink(missing_ok=True)
        if not args.skip_local:
            rows.append(run("local pool → SQLite", folder, str(work / "local.db"), workers=args.workers))
        rows.append(on_cluster("LocalCluster → SQLite", folder, str(work / "cluster.db"), args.workers))
        if args.postgres:
            pg, why = postgres_databases()
            if pg is None:
                print(f"PostgreSQL: skipped ({why})")
            else:
                for server in pg.start_server():
                    url = server.create_database()
                    rows.append(on_cluster("LocalCluster → PostgreSQL", folder, url, args.workers))
        print("\n| target | reports | wall s | reports/s | rerun s | parse reports/s | parse child peak MB | Dask worker peak MB | database MB |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(
                f"| {r['target']} | {r['ok']} ok, {r['failed']} failed | {r['wall_s']} | {r['reports_per_s']} | {r['rerun_s']} |"
                f" {r['parse_reports_per_s']} | {r['parse_child_peak_mb']} | {r.get('dask_worker_peak_mb', '–')} | {r['db_mb']} |"
            )
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
