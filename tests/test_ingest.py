"""Batch ingest: idempotent, survives SIGKILL, records bad files as failed, keeps going past crashes."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from extractor.readers import sniff
from extractor.store import database as storage
from extractor.store.ingest import ingest

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"


def report_files() -> list[Path]:
    """Fixture documents (not truth files or READMEs), recognised by content."""
    out = []
    for p in sorted(REAL.iterdir()):
        if p.name.endswith(".json") or p.name.lower().startswith("readme"):
            continue
        if sniff(p.read_bytes()) in ("pdf", "docx", "html", "text"):
            out.append(p)
    return out


BLANK_TEMPLATE = "template2021_blank.docx"  # among the fixtures, read but not a report (a failed row)


def reports_among_fixtures() -> list[Path]:
    """The fixture documents that are reports (the blank template is not)."""
    return [p for p in report_files() if p.name != BLANK_TEMPLATE]


def make_folder(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for p in report_files():
        shutil.copy(p, dest / p.name)
    return dest


def variant(src: Path, dest: Path, tag: int) -> None:
    """A copy whose bytes (hence sha256) differ but which parses the same."""
    data = src.read_bytes()
    kind = sniff(data)
    if kind == "pdf":
        data += f"\n%variant {tag}\n".encode()
    elif kind == "docx":
        shutil.copy(src, dest)
        with zipfile.ZipFile(dest, "a") as zf:
            zf.comment = f"variant {tag}".encode()
        return
    elif kind == "html":
        data += f"\n<!-- variant {tag} -->\n".encode()
    else:
        data += f"\n\n{tag}\n".encode()
    dest.write_bytes(data)


def dump(db: Path | str) -> dict:
    conn = storage.connect(str(db))
    try:
        return storage.canonical_dump(conn)
    finally:
        conn.close()


def test_ingest_twice_gives_the_same_database(tmp_path: Path, db_url: str) -> None:
    folder = make_folder(tmp_path / "in")
    db = db_url
    first = ingest([str(folder)], str(db), workers=2, progress="none")
    assert first.ok >= 1
    before = dump(db)
    second = ingest([str(folder)], str(db), workers=2, progress="none")
    # what was read is skipped; what failed (the blank template: not a report) fails again
    assert second.ok == 0 and second.failed == first.failed and second.skipped == second.total - first.failed
    assert dump(db) == before
    forced = ingest([str(folder)], str(db), workers=2, progress="none", force=True)
    assert forced.ok == first.ok
    assert dump(db) == before


def test_bad_files_are_recorded_as_failed(tmp_path: Path, db_url: str) -> None:
    folder = make_folder(tmp_path / "in")
    pdf = next(p for p in report_files() if sniff(p.read_bytes()) == "pdf")
    (folder / "corrupt.pdf").write_bytes(pdf.read_bytes()[:2000])
    (folder / "empty.docx").write_bytes(b"")
    (folder / "minutes.txt").write_text(
        "区政府第十二次常务会议纪要\n会议研究了城市道路维修和防汛工作，决定由区住建局牵头落实。\n", encoding="utf-8"
    )
    (folder / "banner.gif").write_bytes(b"GIF89a" + b"\x00" * 100)  # never a report: skipped
    summary = ingest([str(folder)], db_url, workers=2, progress="none")
    failed = {Path(p).name: reason for p, reason in summary.failures}
    # the blank template among the fixtures is not a report either (no agency, every table empty)
    assert set(failed) == {"corrupt.pdf", "empty.docx", "minutes.txt", "template2021_blank.docx"}, failed
    assert all(failed.values())
    assert summary.ok == len(report_files()) - sum(1 for p in report_files() if p.name in failed)
    assert any(Path(p).name == "banner.gif" for p, _ in summary.skips)
    conn = storage.connect(db_url)
    rows = dict(conn.execute("SELECT path, error FROM reports WHERE status = 'failed'").all())
    assert {Path(p).name for p in rows} == set(failed)
    conn.close()


def test_zip_members_are_ingested_with_member_paths(tmp_path: Path) -> None:
    docs = report_files()[:3]
    archive = tmp_path / "in" / "batch.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for p in docs:
            zf.write(p, f"年报/{p.name}")
    db = tmp_path / "r.db"
    summary = ingest([str(archive.parent)], str(db), workers=1, progress="none")
    conn = sqlite3.connect(db)
    paths = {r[0] for r in conn.execute("SELECT path FROM reports")}
    conn.close()
    assert paths == {f"{archive}!年报/{p.name}" for p in docs}
    assert summary.ok + summary.failed == len(docs)


def _hang_on_marker(path: str):
    """Parser stand-in for pool tests: real parse, except files that ask to hang or crash."""
    data = Path(path).read_bytes()
    if data.startswith(b"HANG"):
        time.sleep(600)
    if data.startswith(b"CRASH"):
        os.kill(os.getpid(), signal.SIGSEGV)
    from extractor import parse

    return parse(path)


def test_hung_and_crashing_files_cost_only_themselves(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "in")
    (folder / "hang.txt").write_bytes(b"HANG")
    (folder / "crash.txt").write_bytes(b"CRASH")
    db = tmp_path / "r.db"
    start = time.monotonic()
    summary = ingest([str(folder)], str(db), workers=2, timeout=3, progress="none", parse_fn=_hang_on_marker)
    assert time.monotonic() - start < 60
    failed = {Path(p).name: reason for p, reason in summary.failures}
    assert failed["hang.txt"].startswith("timeout")
    assert failed["crash.txt"].startswith("worker crashed")
    assert summary.ok >= len(report_files()) - 2


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "extractor.cli.batch", *args]


def test_sigkill_mid_ingest_then_rerun_equals_uninterrupted_run(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    docs = report_files()
    n = 60
    for i in range(n):
        src = docs[i % len(docs)]
        variant(src, folder / f"{i:03d}_{src.name}", i)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    killed_db = tmp_path / "killed.db"
    proc = subprocess.Popen(
        _cli("ingest", str(folder), "--db", str(killed_db), "--workers", "1", "--quiet"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    stored = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if killed_db.exists():
            try:
                conn = sqlite3.connect(f"file:{killed_db}?mode=ro", uri=True, timeout=1)
                stored = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
                conn.close()
            except sqlite3.Error:
                continue
            if stored >= 5:
                break
    assert proc.poll() is None, "ingest finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(killed_db)
    mid = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
    conn.close()
    assert 0 < mid < n

    rerun = subprocess.run(
        _cli("ingest", str(folder), "--db", str(killed_db), "--quiet"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    clean_db = tmp_path / "clean.db"
    clean = subprocess.run(
        _cli("ingest", str(folder), "--db", str(clean_db), "--quiet"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert clean.returncode == 0, clean.stderr
    after_kill, uninterrupted = dump(killed_db), dump(clean_db)
    assert len(after_kill["reports"]) == n
    assert after_kill == uninterrupted


def test_cli_ingest_exit_codes(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from extractor.cli.batch import ingest as ingest_cmd

    folder = make_folder(tmp_path / "in")
    (folder / "empty.txt").write_bytes(b"")
    runner = CliRunner()
    ok = runner.invoke(ingest_cmd, [str(folder), "--db", str(tmp_path / "r.db"), "--quiet"])
    assert ok.exit_code == 0, ok.output
    assert "未能读取 2 个" in ok.output and "empty.txt" in ok.output  # the empty file and the blank template
    bad_db = tmp_path / "bad.db"
    bad_db.write_text("not a database")
    bad = runner.invoke(ingest_cmd, [str(folder), "--db", str(bad_db), "--quiet"])
    assert bad.exit_code != 0
    assert "Traceback" not in bad.output and len(bad.output.strip().splitlines()) == 1
    missing = runner.invoke(ingest_cmd, [str(tmp_path / "nope"), "--db", str(tmp_path / "r.db")])
    assert missing.exit_code != 0 and "Traceback" not in missing.output


@pytest.mark.parametrize("aliased", [False, True])
def test_alias_file_rekeys_stored_reports(tmp_path: Path, aliased: bool, db_url: str) -> None:
    folder = make_folder(tmp_path / "in")
    db = db_url
    ingest([str(folder)], db, workers=1, progress="none")
    conn = storage.connect(db)
    name = conn.scalar("SELECT agency FROM reports WHERE agency IS NOT NULL ORDER BY path")
    conn.close()
    if aliased:
        alias = tmp_path / "aliases.csv"
        alias.write_text(f"name,key\n{name},合并后的机构\n", encoding="utf-8")
        ingest([str(folder)], db, workers=1, progress="none", aliases=str(alias))
    conn = storage.connect(db)
    key = conn.scalar("SELECT agency_key FROM reports WHERE agency = :name", {"name": name})
    conn.close()
    assert (key == "合并后的机构") is aliased


def test_scanned_image_in_a_folder_is_read_when_ocr_is_installed(tmp_path: Path) -> None:
    """A scan saved as an image is a report like any other: OCR'd when the extra is there, else
    skipped with the reason."""
    from extractor.readers.ocr import ocr_available

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(ROOT / "fixtures" / "scans" / "c002_2021_plain_p3.png", folder / "scan.png")
    summary = ingest([str(folder)], str(tmp_path / "r.db"), workers=1, progress="none")
    if ocr_available():
        assert summary.ok == 1
        conn = sqlite3.connect(tmp_path / "r.db")
        assert conn.execute("SELECT format FROM reports").fetchone() == ("image",)
        assert conn.execute("SELECT COUNT(*) FROM cells WHERE code LIKE 't3.%'").fetchone()[0] > 100
        conn.close()
    else:
        assert summary.skipped == 1 and "ocr" in summary.skips[0][1]
