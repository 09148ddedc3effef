"""The hostile-file set (scripts/make_hostile.py) through `extractor parse` and the Python API: each
bomb or trap gives its one-line error within its limit, each oddly dressed good report is read."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import extractor
from extractor import Limits, ReadError

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_hostile", ROOT / "scripts" / "make_hostile.py")
make_hostile = importlib.util.module_from_spec(_spec)
sys.modules["make_hostile"] = make_hostile
_spec.loader.exec_module(make_hostile)

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
