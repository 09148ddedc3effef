"""SQLite storage for batches of parsed reports.

One file a user can copy and open in DB Browser or datasette. Only the ingesting parent process
writes to it; each report is written in a single transaction (old rows deleted and new rows inserted
together), so a kill at any moment leaves either the old report, the new one, or none — never half.

Schema (version `SCHEMA_VERSION`, kept in `PRAGMA user_version` and in `meta.schema_version`):

    meta(key PRIMARY KEY, value)
    reports(id, path, sha256 UNIQUE, format, pages, agency, agency_key, year, template,
            parser_version, status 'ok'|'failed', error, ingested_at)
    sections(report_id → reports, code, heading, page, found)
    cells(report_id → reports, code, value, raw, page, confidence, label, derived)
    findings(report_id → reports, rule, severity, message, codes JSON, section, expected, actual, page)
    cross_findings(report_id → reports (the later/second report), other_report_id → reports,
                   agency_key, year, other_year, rule, severity, message, codes JSON, expected, actual)
    aliases(name PRIMARY KEY, key)   -- user alias file, merged in by `ingest --aliases`

`sha256` is unique: a file's content is stored once, under the path it was first seen at, and is
replaced when it is ingested again with another parser version (or with --force).
"""

from __future__ import annotations

import csv
import json
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from extractor.report import Cell, Finding, Report, Section

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
    id             INTEGER PRIMARY KEY,
    path           TEXT NOT NULL,
    sha256         TEXT NOT NULL UNIQUE,
    format         TEXT,
    pages          INTEGER,
    agency         TEXT,
    agency_key     TEXT,
    year           INTEGER,
    template       TEXT,
    parser_version TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error          TEXT,
    ingested_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_agency_key ON reports(agency_key);
CREATE INDEX IF NOT EXISTS reports_year ON reports(year);
CREATE TABLE IF NOT EXISTS sections (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    code      TEXT NOT NULL,
    heading   TEXT,
    page      INTEGER,
    found     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sections_report ON sections(report_id);
CREATE TABLE IF NOT EXISTS cells (
    report_id  INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    code       TEXT NOT NULL,
    value,
    raw        TEXT,
    page       INTEGER,
    confidence REAL,
    label      TEXT,
    derived    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cells_report ON cells(report_id);
CREATE INDEX IF NOT EXISTS cells_code ON cells(code, report_id);
CREATE TABLE IF NOT EXISTS findings (
    id        INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    rule      TEXT NOT NULL,
    severity  TEXT NOT NULL,
    message   TEXT NOT NULL,
    codes     TEXT NOT NULL,
    section   TEXT,
    expected,
    actual,
    page      INTEGER
);
CREATE INDEX IF NOT EXISTS findings_report ON findings(report_id);
CREATE INDEX IF NOT EXISTS findings_rule ON findings(rule);
CREATE TABLE IF NOT EXISTS cross_findings (
    id              INTEGER PRIMARY KEY,
    report_id       INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    other_report_id INTEGER REFERENCES reports(id) ON DELETE CASCADE,
    agency_key      TEXT,
    year            INTEGER,
    other_year      INTEGER,
    rule            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    message         TEXT NOT NULL,
    codes           TEXT NOT NULL,
    expected,
    actual
);
CREATE INDEX IF NOT EXISTS cross_findings_report ON cross_findings(report_id);
CREATE TABLE IF NOT EXISTS aliases (
    name TEXT PRIMARY KEY,
    key  TEXT NOT NULL
);
"""


class StorageError(Exception):
    """A database that cannot be used (not SQLite, newer schema, unreadable alias file); one-line message."""


# --------------------------------------------------------------------------------------------------
# agency keys


def agency_key(name: str | None, aliases: Mapping[str, str] | None = None) -> str | None:
    """Normalised agency key: NFKC, spaces and punctuation removed, then mapped through the aliases.

    Pure, so cross-report checks can key reports the same way without a database. `aliases` maps a
    normalised name (see `load_aliases`) to a user-chosen key.
    """
    if not name:
        return None
    text = unicodedata.normalize("NFKC", name)
    key = "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch)[0] in "PSZC"))
    if not key:
        return None
    if aliases:
        return aliases.get(key, key)
    return key


def load_aliases(path: str) -> dict[str, str]:
    """Read an alias CSV (`name,key`, header optional) into {normalised name: key}.

    The key itself is also normalised, and maps to itself, so a key can be written as any spelling.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise StorageError(f"cannot read alias file {path}: {exc}") from None
    out: dict[str, str] = {}
    for lineno, row in enumerate(rows, 1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if lineno == 1 and [c.lower() for c in cells[:2]] == ["name", "key"]:
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise StorageError(f"alias file {path} line {lineno}: expected 'name,key'")
        name, key = agency_key(cells[0]), agency_key(cells[1])
        if name and key:
            out[name] = key
            out.setdefault(key, key)
    return out


# --------------------------------------------------------------------------------------------------
# connection and schema


def connect(db_path: str) -> sqlite3.Connection:
    """Open (creating if needed) a reports database in WAL mode, with the current schema."""
    try:
        conn = sqlite3.connect(db_path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA foreign_keys = ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.close()
            raise StorageError(
                f"{db_path}: database schema version {version} is newer than this extractor's ({SCHEMA_VERSION})"
            )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL survives process kills
        if version < SCHEMA_VERSION:
            # one script, one transaction: executescript would commit an open transaction first
            conn.executescript(
                "BEGIN IMMEDIATE;"
                + _SCHEMA
                + f"INSERT OR REPLACE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
                + f"INSERT OR IGNORE INTO meta VALUES ('created_at', '{_now()}');"
                + f"PRAGMA user_version = {SCHEMA_VERSION};"
                + "COMMIT;"
            )
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{db_path}: not a usable SQLite database ({exc})") from None
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (autocommit connection)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------------
# writing


def lookup(conn: sqlite3.Connection, sha256: str) -> tuple[str, str, str | None] | None:
    """(parser_version, status, error) of the stored report with this content, or None."""
    row = conn.execute("SELECT parser_version, status, error FROM reports WHERE sha256 = ?", (sha256,)).fetchone()
    return tuple(row) if row else None  # type: ignore[return-value]


def write_report(conn: sqlite3.Connection, report: Report, agency_key_value: str | None = None) -> int:
    """Store one parsed report, replacing any earlier version of the same content; returns its id."""
    with transaction(conn):
        conn.execute("DELETE FROM reports WHERE sha256 = ?", (report.sha256,))
        cur = conn.execute(
            "INSERT INTO reports (path, sha256, format, pages, agency, agency_key, year, template,"
            " parser_version, status, error, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,'ok',NULL,?)",
            (
                report.path,
                report.sha256,
                report.format,
                report.pages,
                report.agency,
                agency_key_value,
                report.year,
                report.template,
                report.parser_version,
                _now(),
            ),
        )
        rid = int(cur.lastrowid)  # type: ignore[arg-type]
        conn.executemany(
            "INSERT INTO sections VALUES (?,?,?,?,?)",
            [(rid, s.code, s.heading, s.page, int(bool(s.found))) for s in report.sections],
        )
        seen: set[str] = set()
        rows = []
        for c in report.cells:
            if c.code in seen:  # a parser emitting a code twice: keep the first, as cell_map users expect
                continue
            seen.add(c.code)
            rows.append((rid, c.code, c.value, c.raw, c.page, c.confidence, c.label, int(bool(c.derived))))
        conn.executemany("INSERT INTO cells VALUES (?,?,?,?,?,?,?,?)", rows)
        conn.executemany(
            "INSERT INTO findings (report_id, rule, severity, message, codes, section, expected, actual, page)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    rid,
                    f.rule,
                    f.severity,
                    f.message,
                    json.dumps(f.codes, ensure_ascii=False),
                    f.section,
                    f.expected,
                    f.actual,
                    f.page,
                )
                for f in report.findings
            ],
        )
    return rid


def write_failure(
    conn: sqlite3.Connection, path: str, sha256: str, fmt: str | None, error: str, parser_version: str
) -> int:
    """Record a file that could not be parsed, so the summary and later runs know why."""
    with transaction(conn):
        conn.execute("DELETE FROM reports WHERE sha256 = ?", (sha256,))
        cur = conn.execute(
            "INSERT INTO reports (path, sha256, format, parser_version, status, error, ingested_at)"
            " VALUES (?,?,?,?,'failed',?,?)",
            (path, sha256, fmt, parser_version, error, _now()),
        )
    return int(cur.lastrowid)  # type: ignore[arg-type]


def stored_aliases(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT name, key FROM aliases").fetchall())


def merge_aliases(conn: sqlite3.Connection, aliases: Mapping[str, str]) -> None:
    """Add a user alias file to the database (its entries win) so later runs keep using it."""
    with transaction(conn):
        conn.executemany("INSERT OR REPLACE INTO aliases VALUES (?, ?)", list(aliases.items()))


def rekey_agencies(conn: sqlite3.Connection, aliases: Mapping[str, str]) -> int:
    """Recompute every report's agency_key (after the aliases changed); returns rows changed."""
    rows = conn.execute("SELECT id, agency, agency_key FROM reports").fetchall()
    changes = [(agency_key(agency, aliases), rid) for rid, agency, old in rows if agency_key(agency, aliases) != old]
    if changes:
        with transaction(conn):
            conn.executemany("UPDATE reports SET agency_key = ? WHERE id = ?", changes)
    return len(changes)


def replace_cross_findings(conn: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> int:
    """Replace all cross-report findings in one transaction (they are recomputed after every ingest)."""
    data = [
        (
            r["report_id"],
            r.get("other_report_id"),
            r.get("agency_key"),
            r.get("year"),
            r.get("other_year"),
            r["rule"],
            r["severity"],
            r["message"],
            json.dumps(r.get("codes", []), ensure_ascii=False),
            r.get("expected"),
            r.get("actual"),
        )
        for r in rows
    ]
    with transaction(conn):
        conn.execute("DELETE FROM cross_findings")
        conn.executemany(
            "INSERT INTO cross_findings (report_id, other_report_id, agency_key, year, other_year, rule, severity,"
            " message, codes, expected, actual) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            data,
        )
    return len(data)


# --------------------------------------------------------------------------------------------------
# reading


def load_reports(
    conn: sqlite3.Connection, ids: Iterable[int] | None = None, with_details: bool = False
) -> list[tuple[int, str | None, Report]]:
    """Successfully parsed reports as (id, agency_key, Report); cells always, sections/findings on request."""
    sql = (
        "SELECT id, path, sha256, format, pages, agency, agency_key, year, template, parser_version"
        " FROM reports WHERE status = 'ok'"
    )
    params: list[Any] = []
    if ids is not None:
        id_list = list(ids)
        if not id_list:
            return []
        sql += f" AND id IN ({','.join('?' * len(id_list))})"
        params = id_list
    sql += " ORDER BY id"
    out: dict[int, tuple[str | None, Report]] = {}
    for rid, path, sha, fmt, pages, agency, key, year, template, pv in conn.execute(sql, params):
        out[rid] = (
            key,
            Report(
                path=path,
                sha256=sha,
                format=fmt or "",
                pages=pages,
                agency=agency,
                year=year,
                template=template,
                parser_version=pv,
            ),
        )
    if not out:
        return []
    for rid, code, value, raw, page, conf, label, derived in conn.execute(
        "SELECT report_id, code, value, raw, page, confidence, label, derived FROM cells ORDER BY report_id, rowid"
    ):
        if rid in out:
            out[rid][1].cells.append(
                Cell(code, value, raw or "", page, conf if conf is not None else 1.0, label or "", bool(derived))
            )
    if with_details:
        for rid, code, heading, page, found in conn.execute(
            "SELECT report_id, code, heading, page, found FROM sections ORDER BY report_id, rowid"
        ):
            if rid in out:
                out[rid][1].sections.append(Section(code, heading, page, bool(found)))
        for rid, rule, sev, msg, codes, section, exp, act, page in conn.execute(
            "SELECT report_id, rule, severity, message, codes, section, expected, actual, page FROM findings"
            " ORDER BY report_id, id"
        ):
            if rid in out:
                out[rid][1].findings.append(Finding(rule, sev, msg, json.loads(codes), section, exp, act, page))
    return [(rid, key, rep) for rid, (key, rep) in out.items()]


def canonical_dump(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Content of the database without row ids and timestamps, sorted: equal dumps = same data.

    Row ids depend on the order parallel workers finished in, so they are replaced by sha256.
    """
    sha = dict(conn.execute("SELECT id, sha256 FROM reports").fetchall())

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return sorted(
            (tuple(sha.get(v, v) if i == 0 else v for i, v in enumerate(r)) for r in conn.execute(sql)),
            key=repr,
        )

    cross = sorted(
        (
            (sha[r[0]], sha.get(r[1]), *r[2:])
            for r in conn.execute(
                "SELECT report_id, other_report_id, agency_key, year, other_year, rule, severity, message, codes,"
                " expected, actual FROM cross_findings"
            )
        ),
        key=repr,
    )
    return {
        "schema_version": [(conn.execute("PRAGMA user_version").fetchone()[0],)],
        "reports": sorted(
            conn.execute(
                "SELECT sha256, path, format, pages, agency, agency_key, year, template, parser_version, status,"
                " error FROM reports"
            ).fetchall(),
            key=repr,
        ),
        "sections": rows("SELECT report_id, code, heading, page, found FROM sections"),
        "cells": rows("SELECT report_id, code, value, raw, page, confidence, label, derived FROM cells"),
        "findings": rows(
            "SELECT report_id, rule, severity, message, codes, section, expected, actual, page FROM findings"
        ),
        "cross_findings": cross,
        "aliases": sorted(conn.execute("SELECT name, key FROM aliases").fetchall()),
    }
