"""The hostile-file set (scripts/make_hostile.py) through `extractor parse` and the Python API: each
bomb or trap gives its one-line error within its limit, each oddly dressed good report is read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import script

import extractor
from extractor import Limits, ReadError

ROOT = Path(__file__).resolve().parent.parent
make_hostile = script("make_hostile")

LIMITS = Limits(timeout=60)


@pytest.fixture(scope="session")
def hostile(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("hostile")
    return folder, make_hostile.make(folder)


def _names() -> list[str]:
    """The case names, known without generating the files (parametrize runs at collection)."""
    return [
        "bomb_member.docx", "bomb_overlap.zip", "bomb_overlap.docx", "billion_laughs.docx", "xxe.docx", "xxe.html",
        "deep_100000.html", "deep_100000.mht", "span_bomb.html", "many_pages.pdf", "huge_mediabox.pdf",
        "big_stream.pdf", "page_tree_cycle.pdf", "xref_loop.pdf", "huge_image.png", "frames_400.tiff",
        "fifo.pdf", "zero.pdf", "odd_members.zip", "odd_version.zip",
        "good_deep_600.html", "good_irregular_vmerge.docx", "good_report.rtf", "good_report.pdf",
    ]


def _children_peak_mb() -> float:
    """Peak resident memory of any finished child process of this test run (the CLI and the guard's
    child of each case included), in MB; 0 where the platform has no getrusage (Windows)."""
    try:
        import resource
    except ImportError:
        return 0.0
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux


@pytest.mark.parametrize("name", _names())
def test_cli_parse_gives_one_line_within_its_limits(hostile, name):
    folder, cases = hostile
    case = cases.get(name)
    if case is None:
        pytest.skip("needs POSIX (FIFOs, /dev/zero)")
    if name.endswith(".rtf") and not _has_soffice():
        pytest.skip("needs LibreOffice")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "extractor.cli.main", "parse", str(folder / name), "--format", "json", "--timeout", "60"],
        capture_output=True, text=True, timeout=180, env=env,
    )
    assert "Traceback" not in proc.stderr
    assert "root:x:0" not in proc.stdout + proc.stderr  # no /etc/passwd through an external entity
    if case.expect == "ok":
        assert proc.returncode == 0, proc.stderr
        assert '"cells"' in proc.stdout
    elif case.expect == "any":
        assert proc.returncode in (0, 2)
        assert proc.returncode == 0 or len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    else:
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert lines[0].endswith(f"[{case.expect}]"), lines[0]
        assert case.says in lines[0]
    assert _children_peak_mb() < LIMITS.memory_mb


def test_non_utf8_file_name_is_read_and_shown_with_replacement_characters(hostile):
    folder, cases = hostile
    raw = next((c.name for c in cases.values() if c.name), None)
    if raw is None:
        pytest.skip("needs a POSIX file system (names as bytes)")
    path = os.fsdecode(os.path.join(os.fsencode(folder), raw))  # bytes given to parse() are content, not a name
    report = extractor.parse(path)
    assert "\ufffd" in report.path and report.path.encode("utf-8")  # printable, no lone surrogates
    assert report.cells
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "extractor.cli.main", "parse", path, "--format", "json"], capture_output=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "\ufffd".encode() in proc.stdout


def test_python_api_reads_path_bytes_and_file_objects():
    pdf = ROOT / "fixtures" / "real" / "hzq2023.pdf"
    by_path = extractor.parse(pdf)
    by_bytes = extractor.parse(pdf.read_bytes())
    with pdf.open("rb") as fh:
        by_stream = extractor.parse(fh)
    assert by_path.values() == by_bytes.values() == by_stream.values()
    assert by_bytes.sha256 == by_path.sha256


def test_parse_guarded_enforces_time_and_memory_limits():
    scan = ROOT / "fixtures" / "scans" / "c001_2019_plain_scan150.pdf"
    with pytest.raises(ReadError) as timeout:
        extractor.parse_guarded(scan, Limits(timeout=0.5))
    assert timeout.value.kind == "timeout" and "--timeout" in str(timeout.value)
    if sys.platform.startswith("linux"):
        with pytest.raises(ReadError) as memory:
            extractor.parse_guarded(scan, Limits(memory_mb=400))
        assert memory.value.kind == "too_large" and "--memory-mb" in str(memory.value)
    report = extractor.parse_guarded((ROOT / "fixtures" / "real" / "hzq2023.pdf").read_bytes())
    assert report.values()["t3.new.total"] == 21


def test_each_limit_names_its_flag(hostile):
    folder, _ = hostile
    with pytest.raises(ReadError, match="the PDF has 5 pages; the limit is 2 pages: --max-pages"):
        extractor.parse(ROOT / "fixtures" / "real" / "hzq2023.pdf", limits=Limits(max_pages=2))
    with pytest.raises(ReadError, match="--max-file-mb"):
        extractor.parse(folder / "span_bomb.html", limits=Limits(max_file_mb=1))
    with pytest.raises(ReadError, match="--max-html-mb"):
        extractor.parse(folder / "span_bomb.html", limits=Limits(max_html_mb=1))
    with pytest.raises(ReadError, match="--max-unzipped-mb"):
        extractor.parse(folder / "bomb_member.docx", limits=Limits(max_zip_ratio=10_000))
    assert extractor.parse(folder / "good_deep_600.html", limits=Limits(max_html_depth=700)).cells
    with pytest.raises(ReadError, match="--max-html-depth"):
        extractor.parse(folder / "good_deep_600.html", limits=Limits(max_html_depth=500))


def _has_soffice() -> bool:
    from extractor.readers.doc import soffice_path

    return soffice_path() is not None


# ------------------------------------------------------------------------------------------------
# ingest: the whole set in one folder


def test_ingest_of_the_hostile_folder_stores_every_good_report(hostile, tmp_path):
    import sqlite3

    from extractor.store.ingest import ingest

    folder, cases = hostile
    stale = Path(__import__("tempfile").gettempdir()) / "extractor-ingest-999999999-stale"
    stale.mkdir(exist_ok=True)  # left by a run that was killed: removed at the next start
    db = tmp_path / "r.db"
    summary = ingest([str(folder)], str(db), workers=2, timeout=60, progress="none")
    assert not stale.exists()
    conn = sqlite3.connect(db)
    rows = {path: (status, error, kind, raw) for path, status, error, kind, raw in conn.execute("SELECT path, status, error, error_kind, path_bytes FROM reports")}
    by_name = {Path(p.split("!")[0]).name + ("!" + p.split("!", 1)[1] if "!" in p else ""): v for p, v in rows.items()}
    conn.close()
    skips = {Path(p.split("!")[0]).name + ("!" + p.split("!", 1)[1] if "!" in p else ""): why for p, why in summary.skips}
    good = [n for n, c in cases.items() if c.expect == "ok" and (n != "good_report.rtf" or _has_soffice())]
    for name in good:
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        if shown not in by_name:  # same bytes as another good report: a skip naming it
            assert "same content" in skips.get(shown, ""), (shown, sorted(by_name))
            continue
        assert by_name[shown][0] == "ok", (shown, by_name[shown])
    # the archive's members: path traversal, absolute and over-long names are read like any other
    members = {n.split("!", 1)[1]: v for n, v in by_name.items() if n.startswith("odd_members.zip!")}
    assert any(m.endswith("extractor_traversal_test.docx") for m in members)
    assert len(members) == 3 and all(v[0] == "ok" for v in members.values()), members
    assert not Path("/tmp/extractor_traversal_test.docx").exists() and not Path("/etc/extractor_absolute_test.docx").exists()
    assert "odd_members.zip!.hidden.docx" in skips  # listed, not vanished
    # every bomb is a failed row with its kind, never the end of the run
    for name in ("bomb_member.docx", "deep_100000.html", "span_bomb.html", "many_pages.pdf", "big_stream.pdf", "huge_image.png", "frames_400.tiff"):
        status, error, kind, _ = by_name[name]
        assert status == "failed" and kind == "too_large", (name, error, kind)
    assert by_name["odd_version.zip"][0] == "failed"  # zipfile's NotImplementedError ('zip file version 10.1'): one row
    assert by_name["bomb_overlap.zip!report.docx"][2] == "too_large"
    for name in ("fifo.pdf", "zero.pdf"):
        if name in cases:
            assert "not a regular file" in skips[name]
    gbk = next((c.name for c in cases.values() if c.name), None)
    if gbk is not None:
        assert any(raw and raw.endswith(gbk) for _, _, _, raw in rows.values())  # stored losslessly
    assert not list(Path(__import__("tempfile").gettempdir()).glob(f"extractor-ingest-{os.getpid()}-*"))
    again = ingest([str(folder)], str(db), workers=2, timeout=60, progress="none")
    # every failure here is the file's own: final, not parsed again — and reported as failed again
    # (never as skipped: issue 9), each with its stored reason
    assert again.ok == 0 and again.failures and all("此前已读取失败" in reason for _, reason in again.failures)


def _recurse_on_marker(path: str):
    data = Path(path).read_bytes()
    if data.startswith(b"RECURSE"):
        raise RecursionError("maximum recursion depth exceeded")
    return extractor.parse(path)


def test_a_worker_that_hit_recursion_is_replaced_before_its_next_file(tmp_path):
    from extractor.store.ingest import ingest

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}_deep.txt").write_bytes(b"RECURSE")
        (folder / f"{i}_report.md").write_bytes((ROOT / "fixtures" / "real" / "kewei2024.md").read_bytes() + b"\n%d\n" % i)
    runs = []
    for n in range(2):
        summary = ingest([str(folder)], str(tmp_path / f"r{n}.db"), workers=1, progress="none", parse_fn=_recurse_on_marker)
        runs.append(sorted((Path(p).name, r) for p, r in summary.failures))
        assert summary.ok == 3, summary.text()
    assert runs[0] == runs[1] and all("nests" in r for _, r in runs[0])


def test_a_busy_database_leaves_the_file_for_the_next_run(tmp_path):
    import sqlite3

    from extractor.store import database as storage
    from extractor.store.ingest import IngestSummary, Source, _Progress, _Recorder

    db = tmp_path / "r.db"
    conn = storage.connect(str(db), busy_timeout=0.05)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    report = extractor.parse(ROOT / "fixtures" / "real" / "hzq2023.pdf")
    src = Source(display="a.pdf", sha256=report.sha256, format="pdf")
    summary = IngestSummary()
    _Recorder(conn, [src], summary, _Progress("none", 1), {}, report.parser_version)(0, "ok", report)
    assert summary.kinds["a.pdf"] == "transient" and "下次运行时重新读取" in summary.failures[0][1]
    blocker.execute("ROLLBACK")
    assert conn.scalar("SELECT count(*) FROM reports") == 0  # nothing final was written


POSIX_ONLY = {"resource", "fcntl", "termios", "pwd", "grp", "posix"}


def test_no_posix_only_module_is_imported_at_module_level():
    """Windows must be able to import every module (ingest failed there on `import resource`): POSIX-only
    modules are imported inside the functions that use them, and degrade when missing."""
    import ast

    offenders = []
    for path in (ROOT / "extractor").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in POSIX_ONLY]
    assert not offenders, offenders


def test_parse_guarded_from_a_threaded_server_process():
    """A web server has threads: the guard then starts its child fresh (forkserver/spawn), not by fork."""
    import threading

    from extractor.guard import _start_method

    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, daemon=True)
    worker.start()
    try:
        assert _start_method() != "fork"
        with (ROOT / "fixtures" / "real" / "hzq2023.pdf").open("rb") as fh:
            report = extractor.parse_guarded(fh, Limits(timeout=120))
        assert report.values()["t3.new.total"] == 21
        with pytest.raises(ReadError) as refused:
            extractor.parse_guarded(b"%PDF-1.7 garbage", Limits(timeout=120))
        assert refused.value.kind == "corrupt"
    finally:
        stop.set()
