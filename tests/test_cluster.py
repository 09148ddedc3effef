"""Ingest on a Dask cluster: a real `distributed.LocalCluster` (2 worker processes on 127.0.0.1), and
the demo script that starts `dask scheduler` and two `dask worker` processes. The database must equal
a local ingest of the same files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="the cluster extra (dask[distributed]) is not installed")
pytest.importorskip("fsspec", reason="the cluster extra (fsspec) is not installed")

from test_ingest import _hang_on_marker, dump, make_folder, report_files, reports_among_fixtures, variant  # noqa: E402

from extractor.store.cluster import ClusterError, DaskExecutor, Job, _parse_task  # noqa: E402
from extractor.store.ingest import ingest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False}, memory_limit="2GiB"
    ) as lc:
        yield lc.scheduler_address


def mixed_folder(dest: Path) -> Path:
    """The real fixtures, a zip of three of them, a corrupt file, a GIF (skipped) and a hidden file."""
    folder = make_folder(dest)
    with zipfile.ZipFile(folder / "batch.zip", "w") as zf:
        for i, p in enumerate(report_files()[:3]):
            variant(p, dest.parent / f"v{i}", i)
            zf.write(dest.parent / f"v{i}", f"年报/{i}_{p.name}")
    pdf = next(p for p in report_files() if p.suffix == ".pdf")
    (folder / "corrupt.pdf").write_bytes(pdf.read_bytes()[:2000])
    (folder / "banner.gif").write_bytes(b"GIF89a" + b"\x00" * 100)
    (folder / ".hidden.txt").write_text("not looked at", encoding="utf-8")
    return folder


def cluster_ingest(address: str, paths: list[str], db: Path, **limits) -> object:
    with DaskExecutor(address, **limits) as ex:
        return ingest(paths, str(db), executor=ex, progress="none")


def test_cluster_ingest_equals_local_ingest_and_resumes(tmp_path: Path, cluster: str) -> None:
    folder = mixed_folder(tmp_path / "in")
    local = ingest([str(folder)], str(tmp_path / "local.db"), workers=2, progress="none")
    remote = cluster_ingest(cluster, [str(folder)], tmp_path / "cluster.db")
    assert remote.ok == local.ok >= len(reports_among_fixtures())
    # the corrupt file, and the blank template (not a report)
    assert sorted(p for p, _ in remote.failures) == sorted([str(folder / "corrupt.pdf"), str(folder / "template2021_blank.docx")])
    assert dump(tmp_path / "cluster.db") == dump(tmp_path / "local.db")
    assert remote.peak_worker_rss_mb > 0  # the parse children's memory came back with the results
    again = cluster_ingest(cluster, [str(folder)], tmp_path / "cluster.db")
    # what failed fails again (never "skipped"), the rest is skipped
    assert again.ok == 0 and again.failed == remote.failed and again.skipped == again.total - remote.failed


def test_url_inputs_are_read_by_the_workers(tmp_path: Path, cluster: str) -> None:
    folder = mixed_folder(tmp_path / "in")
    url = f"file://{folder}/"
    remote = cluster_ingest(cluster, [url, f"file://{tmp_path}/nowhere/"], tmp_path / "cluster.db")
    assert (f"file://{tmp_path}/nowhere/", "not found") in remote.skips
    ingest([str(folder)], str(tmp_path / "local.db"), workers=2, progress="none")
    conn = sqlite3.connect(tmp_path / "cluster.db")
    paths = {p for (p,) in conn.execute("SELECT path FROM reports")}
    conn.close()
    assert f"file://{folder}/batch.zip!年报/0_{report_files()[0].name}" in paths
    assert all(p.startswith("file://") for p in paths)
    # the same content as a local ingest, with URLs for paths
    assert dump(tmp_path / "cluster.db") == remap(dump(tmp_path / "local.db"), str(folder), url.rstrip("/"))
    # resume: the workers hash the URLs, the parent skips what is stored
    again = cluster_ingest(cluster, [url], tmp_path / "cluster.db")
    assert again.ok == 0 and again.failed == remote.failed and again.skipped == again.total - remote.failed


def test_memory_urls_on_an_in_process_cluster(tmp_path: Path) -> None:
    """fsspec's memory:// filesystem (visible to workers in this process only): listed here, read there."""
    import fsspec

    folder = mixed_folder(tmp_path / "in")
    fs = fsspec.filesystem("memory")
    for p in folder.iterdir():
        fs.pipe_file(f"/reports/{p.name}", p.read_bytes())
    try:
        with distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False}
        ) as lc:
            remote = cluster_ingest(lc.scheduler_address, ["memory://reports/"], tmp_path / "cluster.db")
    finally:
        fs.rm("/reports", recursive=True)
    assert ("memory:///reports/banner.gif", "image (GIF)") in remote.skips
    ingest([str(folder)], str(tmp_path / "local.db"), workers=2, progress="none")
    assert dump(tmp_path / "cluster.db") == remap(dump(tmp_path / "local.db"), str(folder), "memory:///reports")


def remap(d: dict, old: str, new: str) -> dict:
    """A dump with the paths under `old` (report paths, and in messages naming another file) under `new`."""

    def row(r: tuple) -> tuple:
        return tuple(v.replace(old, new) if isinstance(v, str) else v for v in r)

    return {table: sorted((row(r) for r in rows), key=repr) for table, rows in d.items()}


def test_hung_and_crashing_files_cost_only_themselves_on_the_cluster(tmp_path: Path, cluster: str) -> None:
    folder = make_folder(tmp_path / "in")
    (folder / "hang.txt").write_bytes(b"HANG")
    (folder / "crash.txt").write_bytes(b"CRASH")
    start = time.monotonic()
    # 10 s: enough for the real files on a loaded machine, far below the stand-in's 600 s hang
    summary = cluster_ingest(cluster, [str(folder)], tmp_path / "r.db", timeout=10, parse_fn=_hang_on_marker)
    assert time.monotonic() - start < 120
    failed = {Path(p).name: reason for p, reason in summary.failures}
    assert failed["hang.txt"] == "timeout after 10 s"
    assert failed["crash.txt"].startswith("worker crashed (SIGSEGV")
    assert summary.ok == len(reports_among_fixtures())
    # a timeout depends on the load: the next run tries it again (and the cluster is still serving);
    # a crash on the file is the file's own failure: final
    again = cluster_ingest(cluster, [str(folder)], tmp_path / "r.db", timeout=10, parse_fn=_hang_on_marker)
    retried = {Path(p).name for p, reason in again.failures if "此前已读取失败" not in reason}
    assert retried == {"hang.txt"}  # the others fail again as they did (reported as failed, not skipped)
    assert "crash.txt" in {Path(p).name for p, _ in again.failures}


def test_memory_limit_holds_on_the_cluster(tmp_path: Path, cluster: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "big.txt").write_bytes(b"BIG")
    summary = cluster_ingest(cluster, [str(folder)], tmp_path / "r.db", memory_mb=300, parse_fn=_allocate)
    assert [reason for _, reason in summary.failures] == ["parsing needed more than 300 MB of memory; the limit is 300 MB: --memory-mb"]


def _allocate(path: str):
    return bytearray(1024 * 1024 * 1024)  # 1 GB: over the child's address-space limit


def test_killed_cluster_ingest_resumes_to_the_local_database(tmp_path: Path, cluster: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    docs = reports_among_fixtures()  # the blank template would fail (and fail again on the rerun)
    n = 30
    for i in range(n):
        variant(docs[i % len(docs)], folder / f"{i:03d}_{docs[i % len(docs)].name}", i)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "extractor.cli.batch", "ingest", str(folder), "--quiet", "--cluster", cluster]
    db = tmp_path / "killed.db"
    proc = subprocess.Popen([*cli, "--db", str(db)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        stored, deadline = 0, time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and stored < 4:
            time.sleep(0.05)
            try:
                conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
                stored = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
                conn.close()
            except sqlite3.Error:
                continue
        assert proc.poll() is None, "ingest finished before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    conn = sqlite3.connect(db)
    mid = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
    conn.close()
    assert 0 < mid < n
    rerun = subprocess.run([*cli, "--db", str(db)], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"读取 {n - mid} 个" in rerun.stdout  # only what the killed run had not stored
    ingest([str(folder)], str(tmp_path / "local.db"), workers=2, progress="none")
    assert dump(db) == dump(tmp_path / "local.db")


def test_cluster_problems_are_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from extractor.cli.batch import ingest as ingest_cmd

    runner = CliRunner()
    for args in (["--cluster", "bogus://127.0.0.1:1"], ["--cluster", "127.0.0.1"], []):
        url = [] if args else ["file:///tmp/reports/"]
        result = runner.invoke(ingest_cmd, [*url, str(ROOT / "fixtures" / "real"), "--db", str(tmp_path / "r.db"), *args])
        assert result.exit_code != 0 and "Traceback" not in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", connect_timeout=1).__enter__()
    # a local path that a worker cannot see is that file's failure, retried on the next run
    job = Job(token="t")
    status, reason, _ = _parse_task(job, ("path", str(tmp_path / "gone.pdf")), "gone.pdf", "0" * 64, None)
    assert status == "failed" and reason.startswith("unreadable on the worker: No such file")


@pytest.mark.services
def test_demo_script_with_a_real_scheduler_and_two_workers(tmp_path: Path) -> None:
    """scripts/cluster_demo.py: `dask scheduler` + 2 `dask worker` processes; it stops them itself."""
    work = tmp_path / "demo"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "cluster_demo.py"), "--keep", str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        proc.terminate()  # the script stops its cluster on SIGTERM
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        survivors = []
        for pid in (work / "pids").read_text().split() if (work / "pids").exists() else []:
            try:  # each service is its own process group (a nanny with its worker)
                os.killpg(int(pid), signal.SIGKILL)
                survivors.append(pid)
            except ProcessLookupError:
                pass
    assert proc.returncode == 0, out + err
    assert "same database" in out
    assert len((work / "pids").read_text().split()) == 3
    assert not survivors, f"processes left running: {survivors}"
