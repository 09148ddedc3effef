"""The schema: one Alembic head; a schema-v2 file made by the previous release is upgraded in place
with its reports and reviewer decisions, to the same tables as a new database; views on both databases."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from extractor.store import database as storage
from extractor.store import review, schema

V2 = Path(__file__).resolve().parent / "data" / "schema_v2.db"  # made by tests/data/make_schema_v2.py


def test_the_migrations_have_one_head():
    assert storage.head_revision()


def _shape(path: Path) -> dict:
    """Tables with columns (name, affinity, not null, pk), foreign keys and indexes, from SQLite itself."""

    def affinity(declared: str) -> str:
        t = declared.upper()
        return "int" if "INT" in t else "text" if "TEXT" in t or "CHAR" in t else "real" if t in ("REAL", "FLOAT") else t

    conn = sqlite3.connect(path)
    out = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"):
        cols = {(n, affinity(t), bool(nn or pk), pk) for _, n, t, nn, _, pk in conn.execute(f"PRAGMA table_info('{table}')")}
        fks = {(r[3], r[2], r[4], r[6]) for r in conn.execute(f"PRAGMA foreign_key_list('{table}')")}
        indexes = {
            (name, unique, tuple(c[2] for c in conn.execute(f"PRAGMA index_info('{name}')")))
            for _, name, unique, origin, _ in conn.execute(f"PRAGMA index_list('{table}')")
            if origin == "c"
        }
        uniques = {
            tuple(c[2] for c in conn.execute(f"PRAGMA index_info('{name}')"))
            for _, name, unique, origin, _ in conn.execute(f"PRAGMA index_list('{table}')")
            if origin == "u"
        }
        out[table] = (cols, fks, indexes, uniques)
    conn.close()
    return out


def test_a_schema_v2_file_is_upgraded_in_place_with_its_decisions(tmp_path):
    old = tmp_path / "old.db"
    shutil.copy(V2, old)
    raw = sqlite3.connect(old)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 2
    before = {
        "decisions": raw.execute("SELECT * FROM decisions ORDER BY fingerprint").fetchall(),
        "log": raw.execute("SELECT * FROM decision_log ORDER BY id").fetchall(),
        "cells": raw.execute("SELECT report_id, code, value, raw, page FROM cells ORDER BY rowid").fetchall(),
        "findings": raw.execute("SELECT id, report_id, rule, fingerprint FROM findings ORDER BY id").fetchall(),
        "reports": raw.execute("SELECT id, sha256, agency_key, year FROM reports ORDER BY id").fetchall(),
    }
    raw.close()
    assert before["decisions"] and before["log"]

    db = storage.connect(str(old))
    assert db.scalar("SELECT version_num FROM alembic_version") == storage.head_revision()
    assert db.scalar("PRAGMA user_version") == storage.SCHEMA_VERSION
    assert db.execute("SELECT * FROM decisions ORDER BY fingerprint").all() == before["decisions"]
    assert db.execute("SELECT * FROM decision_log ORDER BY id").all() == before["log"]
    # the rows keep their order: the new ids follow SQLite's old rowids
    assert db.execute("SELECT report_id, code, value, raw, page FROM cells ORDER BY id").all() == before["cells"]
    assert db.execute("SELECT id, report_id, rule, fingerprint FROM findings ORDER BY id").all() == before["findings"]
    assert db.execute("SELECT id, sha256, agency_key, year FROM reports ORDER BY id").all() == before["reports"]
    assert {flag for (flag,) in db.execute("SELECT canonical FROM reports")} == {1}  # one copy of each agency-year
    corrected = review.decisions(db)
    assert {d.decision for d in corrected.values()} == {"corrected", "dismissed"}
    assert next(d for d in corrected.values() if d.decision == "corrected").value == 11
    assert len(review.history(db, next(fp for fp, d in corrected.items() if d.decision == "dismissed"))) == 2
    # a decision can still be recorded, and foreign keys still cascade
    fp = db.scalar("SELECT fingerprint FROM findings WHERE fingerprint NOT IN (SELECT fingerprint FROM decisions)")
    review.record(db, fp, "confirmed", "王五")
    db.execute("DELETE FROM reports WHERE id = 1")
    assert db.scalar("SELECT count(*) FROM cells WHERE report_id = 1") == 0
    db.close()

    again = storage.connect(str(old))  # opening again changes nothing
    assert again.scalar("SELECT count(*) FROM decision_log") == len(before["log"]) + 1
    again.close()
    fresh = tmp_path / "fresh.db"
    storage.connect(str(fresh)).close()
    assert _shape(old) == _shape(fresh)


def test_a_database_from_a_newer_extractor_is_refused(tmp_path):
    path = tmp_path / "new.db"
    storage.connect(str(path)).close()
    raw = sqlite3.connect(path)
    raw.execute("UPDATE alembic_version SET version_num = '9999_future'")
    raw.commit()
    raw.close()
    with pytest.raises(storage.StorageError, match="newer extractor"):
        storage.connect(str(path))


def test_a_file_that_is_not_a_database_is_one_line_error(tmp_path):
    path = tmp_path / "x.db"
    path.write_text("not a database")
    with pytest.raises(storage.StorageError, match="not a usable SQLite database") as err:
        storage.connect(str(path))
    assert "\n" not in str(err.value)


def test_an_unreachable_server_is_one_line_error():
    with pytest.raises(storage.StorageError, match="cannot use the database") as err:
        storage.connect("postgresql://nobody:secret@127.0.0.1:1/none")
    assert "\n" not in str(err.value) and "secret" not in str(err.value)


def test_urls():
    assert storage.database_url("postgresql://u@h:5/d").drivername == "postgresql+psycopg"
    assert storage.database_url("postgres://u@h/d").drivername == "postgresql+psycopg"
    assert storage.database_url("r.db").database.endswith("/r.db")
    with pytest.raises(storage.StorageError, match="only SQLite and PostgreSQL"):
        storage.database_url("mysql://u@h/d")


def test_views_and_tables_exist_on_both_databases(db_url):
    db = storage.connect(db_url)
    try:
        for name in [*(t for t in schema.metadata.tables if t != "meta"), *schema.VIEWS]:
            assert db.execute(f"SELECT count(*) FROM {name}").scalar() == 0
        assert db.scalar("SELECT version_num FROM alembic_version") == storage.head_revision()
    finally:
        db.close()
    storage.connect(db_url).close()  # opening again: nothing to do
