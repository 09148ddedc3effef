#!/usr/bin/env python
"""A real Dask cluster on this machine: ingest through it and check the database equals a local ingest.

Starts `dask scheduler` and two `dask worker` processes on 127.0.0.1 (the scheduler on a free port, its
address passed through a scheduler file), runs `extractor ingest PATHS --cluster ADDRESS` and a plain
local `extractor ingest PATHS`, compares the two databases (`storage.canonical_dump`: every table
without row ids and timestamps), and stops every process it started, also on failure or Ctrl-C.

    .venv/bin/python scripts/cluster_demo.py                       # fixtures/real
    .venv/bin/python scripts/cluster_demo.py fixtures/corpus --keep out/demo

Exit code 0 when the databases are equal, 1 when they differ, 2 when the cluster would not start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.store import database as storage  # noqa: E402

START_TIMEOUT = 90.0


class Services:
    """Processes started in their own session, stopped together (SIGTERM, then SIGKILL)."""

    def __init__(self, log_dir: Path) -> None:
        self.procs: list[subprocess.Popen] = []
        self.log_dir = log_dir

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.log_dir)
        log.close()
        self.procs.append(proc)
        with open(self.log_dir / "pids", "a") as fh:  # each is its own process group: a test can check they are gone
            fh.write(f"{proc.pid}\n")
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # the whole group: a nanny's worker process and its parse children too
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        for proc in self.procs:  # orphans of a group leader are reaped by init a moment later
            while time.monotonic() < deadline + 10 and group_alive(proc.pid):
                time.sleep(0.1)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for_cluster(scheduler_file: Path, workers: int, services: Services) -> str:
    """The scheduler's address once it has written its file and `workers` workers have joined."""
    from distributed import Client

    deadline = time.monotonic() + START_TIMEOUT
    while not scheduler_file.exists() or not scheduler_file.read_text().strip():
        if any(p.poll() is not None for p in services.procs) or time.monotonic() > deadline:
            raise RuntimeError("the Dask scheduler did not start (see scheduler.log)")
        time.sleep(0.2)
    address = json.loads(scheduler_file.read_text())["address"]
    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(workers, timeout=max(1.0, deadline - time.monotonic()))
    return address


def ingest_cli(paths: list[str], db: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "extractor.cli.batch", "ingest", *paths, "--db", str(db), "--quiet", *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=1800, env={**os.environ, "PYTHONPATH": str(ROOT)})


def dump(db: Path) -> dict:
    conn = storage.connect(str(db))
    try:
        return storage.canonical_dump(conn)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", default=[str(ROOT / "fixtures" / "real")], help="what to ingest (default fixtures/real)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the databases and logs in this folder")
    args = ap.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="extractor-cluster-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    for name in ("cluster.db", "local.db"):
        for suffix in ("", "-wal", "-shm"):
            Path(work / f"{name}{suffix}").unlink(missing_ok=True)
    scheduler_file = work / "scheduler.json"
    scheduler_file.unlink(missing_ok=True)
    (work / "pids").unlink(missing_ok=True)
    dask = [sys.executable, "-m", "dask"]
    services = Services(work)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the cluster
    try:
        # safety nets if this script is SIGKILLed: the scheduler quits when idle, workers without a scheduler
        services.start(
            "scheduler",
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--idle-timeout", "600", "--scheduler-file", str(scheduler_file)],
        )
        for i in (1, 2):
            services.start(
                f"worker{i}",
                [*dask, "worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1"]
                + ["--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--death-timeout", "60", "--name", f"demo-{i}"],
            )
        try:
            address = wait_for_cluster(scheduler_file, 2, services)
        except (RuntimeError, OSError, TimeoutError) as exc:
            print(f"cluster_demo: {exc}", file=sys.stderr)
            return 2
        print(f"scheduler {address}, 2 workers", flush=True)
        paths = [str(Path(p).resolve()) for p in args.paths]
        start = time.perf_counter()
        on_cluster = ingest_cli(paths, work / "cluster.db", "--cluster", address)
        print(f"cluster ingest ({time.perf_counter() - start:.1f} s): {on_cluster.stdout.strip().splitlines()[:1]}", flush=True)
        if on_cluster.returncode != 0:
            print(on_cluster.stderr, file=sys.stderr)
            return 1
        start = time.perf_counter()
        here = ingest_cli(paths, work / "local.db", "--workers", "2")
        print(f"local ingest ({time.perf_counter() - start:.1f} s): {here.stdout.strip().splitlines()[:1]}", flush=True)
        if here.returncode != 0:
            print(here.stderr, file=sys.stderr)
            return 1
        a, b = dump(work / "cluster.db"), dump(work / "local.db")
        differing = [table for table in a if a[table] != b.get(table)]
        if differing:
            print(f"DIFFERENT: tables {', '.join(differing)}", file=sys.stderr)
            return 1
        print(f"same database: {len(a['reports'])} reports, {len(a['cells'])} cells, {len(a['findings'])} findings, {len(a['cross_findings'])} cross-report findings")
        return 0
    finally:
        services.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
