"""Storage on SQLite and on a real PostgreSQL server: concurrent ingests end with the same database as
one sequential run (cross-report findings included), decisions recorded during an ingest are all kept,
copies of one agency-year get one canonical copy, and the views answer."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from builders import REAL

from extractor.store import copies, review, schema
from extractor.store import database as storage
from extractor.store.ingest import cross_rows, ingest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "corpus"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
# consecutive years of three agencies, and two copies of one report, split over two folders: the
# cross-report findings (year to year, duplicate year) pair a report of one ingest with one of the other
FOLDER_A = ("c064_2019_xyear_ok.docx", "c070_2019_xyear_carry.docx", "c074_2021_xyear_carry.docx", "c068_2021_xyear_ok.docx")
FOLDER_B = ("c065_2019_xyear_ok.docx", "c071_2019_xyear_carry.docx", "c075_2021_xyear_carry.docx", "c068_2021_xyear_ok.pdf")
SHARED = "seed2020.txt"  # given to both ingests: both parse it, one row must remain


def _folders(tmp: Path) -> tuple[Path, Path, Path]:
    a, b = tmp / "a", tmp / "b"
    for folder, names in ((a, FOLDER_A), (b, FOLDER_B)):
        folder.mkdir()
        for name in names:
            shutil.copy(CORPUS / name, folder / name)
    shared = tmp / SHARED
    shutil.copy(REAL / SHARED, shared)
    return a, b, shared


def _ingest_cmd(db: str, *paths: Path) -> list[str]:
    return [sys.executable, "-m", "extractor.cli.batch", "ingest", *map(str, paths), "--db", db, "--workers", "1", "--quiet"]


def dump(db_url: str) -> dict:
    db = storage.connect(db_url)
    try:
        return storage.canonical_dump(db)
    finally:
        db.close()


@pytest.fixture(scope="module")
def sequential(tmp_path_factory) -> tuple[Path, dict]:
    """The reference: the same inputs ingested one after the other, into SQLite."""
    tmp = tmp_path_factory.mktemp("seq")
    a, b, shared = _folders(tmp)
    db = str(tmp / "seq.db")
    ingest([str(a), str(shared)], db, workers=1, progress="none")
    ingest([str(b), str(shared)], db, workers=1, progress="none")
    return tmp, dump(db)


def test_two_ingests_at_once_equal_a_sequential_run(sequential, db_url):
    tmp, expected = sequential
    a, b, shared = tmp / "a", tmp / "b", tmp / SHARED  # the same paths: paths are part of the data
    procs = [
        subprocess.Popen(_ingest_cmd(db_url, *paths), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for paths in ((a, shared), (b, shared))
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "locked" not in err
    got = dump(db_url)
    assert len(got["reports"]) == len(FOLDER_A) + len(FOLDER_B) + 1
    rules = {row[5] for row in got["cross_findings"]}
    # the DOCX and PDF of c068 have the same numbers: copies, not a duplicate_year finding (issue 9)
    assert "cross_year.carry_over" in rules and "cross_report.duplicate_year" not in rules
    assert sum(1 for row in got["reports"] if row[-1]) == len(got["reports"]) - 1  # one of two copies is not canonical
    assert got == expected


def test_the_cross_checks_see_the_same_in_the_slim_load(sequential):
    """refresh_derived loads cells as code and value alone (a national database is millions of
    cells): the cross-report findings must be those of the fully loaded reports."""
    tmp, _ = sequential
    db = storage.connect(str(tmp / "seq.db"))
    try:
        with db.read() as conn:
            chosen = copies.chosen_ids(conn)
        full = cross_rows(storage.load_reports(db), chosen)
        slim = cross_rows(storage.load_reports(db, values_only=True), chosen)
        assert {row["rule"] for row in full} >= {"cross_year.carry_over"}
        assert slim == full and db.scalar("SELECT count(*) FROM cross_findings") == len(full)
    finally:
        db.close()


def test_cross_checks_are_computed_again_only_when_what_they_read_changed(tmp_path, db_url):
    """A rerun over files already stored does not reload the whole database for the cross-report
    checks; new reports or another copy preference do. (The stored cross findings are emptied by
    hand to see whether they were computed again.)"""
    a, b, shared = _folders(tmp_path)
    folders = [str(a), str(b)]
    ingest(folders, db_url, workers=1, progress="none")
    db = storage.connect(db_url)
    try:
        computed = db.scalar("SELECT count(*) FROM cross_findings")
        assert computed > 0
        db.execute("DELETE FROM cross_findings")
        ingest(folders, db_url, workers=1, progress="none")  # every file skipped: nothing changed
        assert db.scalar("SELECT count(*) FROM cross_findings") == 0
        copies.set_preference(db, "docx")
        ingest(folders, db_url, workers=1, progress="none")
        assert db.scalar("SELECT count(*) FROM cross_findings") == computed
        db.execute("DELETE FROM cross_findings")
        ingest([str(shared)], db_url, workers=1, progress="none")  # a new report
        assert db.scalar("SELECT count(*) FROM cross_findings") == computed
    finally:
        db.close()


def test_decisions_recorded_during_an_ingest_are_all_kept(tmp_path, db_url):
    a, b, shared = _folders(tmp_path)
    ingest([str(a), str(REAL / "pingtan2020.html")], db_url, workers=1, progress="none")
    db = storage.connect(db_url)
    prints = [fp for (fp,) in db.execute("SELECT fingerprint FROM findings ORDER BY id")]
    assert prints
    proc = subprocess.Popen(_ingest_cmd(db_url, b, shared), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    recorded = 0
    try:
        while proc.poll() is None or recorded < 5:
            fp = prints[recorded % len(prints)]
            review.record(db, fp, "confirmed" if recorded % 2 else "dismissed", f"审核员{recorded}")
            recorded += 1
            time.sleep(0.02)
    finally:
        out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert db.scalar("SELECT count(*) FROM decision_log") == recorded
    last = review.decisions(db)
    assert last[prints[(recorded - 1) % len(prints)]].decided_by == f"审核员{recorded - 1}"
    assert db.scalar("SELECT count(*) FROM reports") == len(FOLDER_A) + len(FOLDER_B) + 2
    db.close()


def test_first_writes_of_two_processes_at_once_both_count(db_url):
    """Two writers bumping the change counter of a new database at once: the second waits for the
    first and adds one, instead of failing on the row the first just created (that failure used to
    record a good report as unreadable)."""
    db = storage.connect(db_url)
    first, second_done = db.engine.connect(), threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with db.begin() as conn:
                schema.bump_counter(conn, "generation")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        second_done.set()

    try:
        with first.begin():
            first.execute(sa.text("DELETE FROM meta WHERE key = 'generation'"))
            schema.bump_counter(first, "generation")
            thread = threading.Thread(target=second)
            thread.start()
            assert not second_done.wait(0.5)  # it waits for this transaction
        thread.join(30)
        assert not errors, errors
        assert db.scalar("SELECT value FROM meta WHERE key = 'generation'") == "2"
    finally:
        first.close()
        db.close()


def test_two_processes_creating_one_sqlite_file_both_open_it(tmp_path):
    """While one process creates a new SQLite file, another opening it waits instead of failing with
    'database is locked' (switching to WAL does not wait for the busy timeout by itself)."""
    path = tmp_path / "new.db"
    creator = sqlite3.connect(path, isolation_level=None)
    try:
        creator.execute("BEGIN IMMEDIATE")
        creator.execute("CREATE TABLE first_writer (x INTEGER)")
        opener = subprocess.Popen([sys.executable, "-c", OPEN_DB, str(path)], env=ENV, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert opener.poll() is None  # still waiting for the creator
        creator.execute("COMMIT")
        _out, err = opener.communicate(timeout=60)
        assert opener.returncode == 0, err
    finally:
        creator.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


OPEN_DB = "import sys; from extractor.store import database; database.connect(sys.argv[1]).close()"


def _corpus_pair() -> tuple[Path, Path]:
    pdf = sorted(CORPUS.glob("c0*_plain.pdf"))[0]
    return pdf, pdf.with_suffix(".docx")


def test_copies_of_one_agency_year_have_one_canonical_copy(tmp_path, db_url):
    pdf, docx = _corpus_pair()
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(pdf, folder / pdf.name)
    shutil.copy(docx, folder / docx.name)
    (folder / f"resent_{pdf.name}").write_bytes(pdf.read_bytes() + b"\n%re-sent\n")  # other bytes, same report
    shutil.copy(REAL / "pingtan2020.html", folder / "pingtan2020.html")
    ingest([str(folder)], db_url, workers=1, progress="none")
    db = storage.connect(db_url)
    try:
        groups = copies.copy_groups(db)
        triple = next(g for g in groups.values() if len(g) == 3)
        assert triple[0].canonical and not any(c.canonical for c in triple[1:])
        assert triple[0].format == "pdf" and Path(triple[0].path).name == pdf.name  # the path breaks the tie
        assert {c.id for c in copies.copies_of(db, triple[2].id)} == {c.id for c in triple}
        assert len(copies.canonical_reports(db)) == len(groups) == 2
        assert db.scalar("SELECT count(*) FROM v_reports_canonical") == 2
        # a user who prefers DOCX: stored in the database, applied to later runs too
        copies.set_preference(db, "docx")
        docx_first = copies.copies_of(db, triple[0].id)[0]
        assert docx_first.format == "docx" and docx_first.canonical
        ingest([str(folder)], db_url, workers=1, progress="none")
        assert copies.copies_of(db, triple[0].id)[0].id == docx_first.id
        with pytest.raises(copies.PreferenceError):
            copies.parse_preference("pdf,fax")
    finally:
        db.close()


def test_views_answer_the_common_questions(tmp_path, db_url):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("hzq2023.pdf", "pingtan2020.html", "pingtan2021.html"):
        shutil.copy(REAL / name, folder / name)
    ingest([str(folder)], db_url, workers=1, progress="none")
    db = storage.connect(db_url)
    try:
        cells = db.scalar("SELECT count(*) FROM cells")
        assert db.scalar("SELECT count(*) FROM v_cells_long") == cells > 0
        value = db.scalar("SELECT value FROM v_cells_long WHERE code = 't4.review.total' AND year = 2023")
        assert value == 0
        total = db.scalar("SELECT count(*) FROM findings") + db.scalar("SELECT count(*) FROM cross_findings")
        assert db.scalar("SELECT count(*) FROM v_open_findings") == total
        fp = db.scalar("SELECT fingerprint FROM v_open_findings WHERE kind = 'report' ORDER BY fingerprint")
        review.record(db, fp, "dismissed", "张三")
        assert db.scalar("SELECT count(*) FROM v_open_findings") == total - 1
        assert db.scalar("SELECT count(*) FROM v_open_findings WHERE fingerprint = :fp", {"fp": fp}) == 0
    finally:
        db.close()
