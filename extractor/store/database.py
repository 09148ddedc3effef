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
    -- version 2 (supervisory audit):
    findings.fingerprint, cross_findings.fingerprint   -- stable id of a finding (see `fingerprint`)
    sentences(report_id → reports, idx, section, page, text, key, chars)   -- narrative, for text reuse
    table_boxes(report_id → reports, tbl, page, x0, y0, x1, y1)          -- table position on PDF pages
    decisions(fingerprint PRIMARY KEY, decision, value, decided_by, note, decided_at, rule, agency_key,
              year, codes)   -- the reviewer's current decision; NOT tied to a report row, so it
                             -- survives re-parsing and re-ingesting
    decision_log(id, fingerprint, decision, value, decided_by, note, decided_at)   -- every decision made

`sha256` is unique: a file's content is stored once, under the path it was first seen at, and is
replaced when it is ingested again with another parser version (or with --force).
"""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from extractor.lexicon.agency import agency_key
from extractor.report import Cell, Finding, Report, Section, Sentence, TableBox

SCHEMA_VERSION = 2

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
    ingested_at    TEXT NOT NULL,
    error_kind     TEXT,
    path_bytes     BLOB
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
    page      INTEGER,
    fingerprint TEXT
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
    actual,
    fingerprint     TEXT
);
CREATE INDEX IF NOT EXISTS cross_findings_report ON cross_findings(report_id);
CREATE TABLE IF NOT EXISTS aliases (
    name TEXT PRIMARY KEY,
    key  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sentences (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    section   TEXT,
    page      INTEGER,
    text      TEXT NOT NULL,
    key       TEXT NOT NULL,
    chars     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_report ON sentences(report_id);
CREATE TABLE IF NOT EXISTS table_boxes (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    tbl       TEXT NOT NULL,
    page      INTEGER NOT NULL,
    x0 REAL, y0 REAL, x1 REAL, y1 REAL
);
CREATE TABLE IF NOT EXISTS decisions (
    fingerprint TEXT PRIMARY KEY,
    decision    TEXT NOT NULL CHECK (decision IN ('confirmed', 'dismissed', 'corrected')),
    value,
    decided_by  TEXT NOT NULL,
    note        TEXT,
    decided_at  TEXT NOT NULL,
    rule        TEXT,
    agency_key  TEXT,
    year        INTEGER,
    codes       TEXT
);
CREATE TABLE IF NOT EXISTS decision_log (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    decision    TEXT NOT NULL,
    value,
    decided_by  TEXT NOT NULL,
    note        TEXT,
    decided_at  TEXT NOT NULL
);
"""

# columns added by version 2 to tables of version 1, then the indexes that need them
_MIGRATE_1_TO_2 = """
ALTER TABLE findings ADD COLUMN fingerprint TEXT;
ALTER TABLE cross_findings ADD COLUMN fingerprint TEXT;
"""
_INDEXES_2 = """
CREATE INDEX IF NOT EXISTS findings_fingerprint ON findings(fingerprint);
CREATE INDEX IF NOT EXISTS cross_findings_fingerprint ON cross_findings(fingerprint);
"""


class StorageError(Exception):
    """A database that cannot be used (not SQLite, newer schema, unreadable alias file); one-line message."""


# --------------------------------------------------------------------------------------------------
# agency keys


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
            # one transaction: executescript would commit an open transaction first, so BEGIN is in the script
            conn.executescript(
                "BEGIN IMMEDIATE;"
                + _SCHEMA
                + (_MIGRATE_1_TO_2 if version == 1 else "")
                + _INDEXES_2
                + f"INSERT OR REPLACE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
                + f"INSERT OR IGNORE INTO meta VALUES ('created_at', '{_now()}');"
                + f"PRAGMA user_version = {SCHEMA_VERSION};"
            )
            try:
                if version == 1:
                    _backfill_fingerprints(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        _add_columns(conn)
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{db_path}: not a usable SQLite database ({exc})") from None
    return conn


# nullable columns added in place to a version-2 database (no schema version of their own):
# error_kind — the ReadError kind of a failed row (extractor.document.READ_ERROR_KINDS, or `transient`);
# path_bytes — the file name as bytes when it is not UTF-8 (`path` then shows U+FFFD in its place)
_ADDED_COLUMNS = {"reports": (("error_kind", "TEXT"), ("path_bytes", "BLOB"))}


def _add_columns(conn: sqlite3.Connection) -> None:
    for table, columns in _ADDED_COLUMNS.items():
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns:
            if name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


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


def error_kind(conn: sqlite3.Connection, sha256: str) -> str | None:
    """The kind of the stored failure for this content (None for rows stored before kinds were)."""
    row = conn.execute("SELECT error_kind FROM reports WHERE sha256 = ?", (sha256,)).fetchone()
    return row[0] if row else None


def write_report(
    conn: sqlite3.Connection, report: Report, agency_key_value: str | None = None, path_bytes: bytes | None = None
) -> int:
    """Store one parsed report, replacing any earlier version of the same content; returns its id.
    `path_bytes`: the file name as bytes, when it is not UTF-8."""
    with transaction(conn):
        conn.execute("DELETE FROM reports WHERE sha256 = ?", (report.sha256,))
        cur = conn.execute(
            "INSERT INTO reports (path, sha256, format, pages, agency, agency_key, year, template,"
            " parser_version, status, error, ingested_at, path_bytes) VALUES (?,?,?,?,?,?,?,?,?,'ok',NULL,?,?)",
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
                path_bytes,
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
        prints = fingerprints(report.findings, agency_key_value or f"sha:{report.sha256[:16]}", report.year)
        conn.executemany(
            "INSERT INTO findings (report_id, rule, severity, message, codes, section, expected, actual, page,"
            " fingerprint) VALUES (?,?,?,?,?,?,?,?,?,?)",
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
                    fp,
                )
                for f, fp in zip(report.findings, prints, strict=True)
            ],
        )
        conn.executemany(
            "INSERT INTO sentences VALUES (?,?,?,?,?,?,?)",
            [(rid, i, s.section, s.page, s.text, s.key, s.chars) for i, s in enumerate(report.sentences)],
        )
        conn.executemany(
            "INSERT INTO table_boxes VALUES (?,?,?,?,?,?,?)",
            [(rid, b.table, b.page, *b.bbox) for b in report.table_boxes],
        )
    return rid


# --------------------------------------------------------------------------------------------------
# fingerprints: a finding's identity across re-parsing, re-ingesting and parser versions


def fingerprint(rule: str, agency: str | None, year: int | None, codes: Iterable[str], section: str | None = None, other: str | None = None) -> str:
    """rule + agency key + year + sorted cells (+ section when no cell, + the other report's agency and
    year for cross-report findings). Messages, values and row ids are left out: they change with the
    parser, the identity of the problem does not."""
    parts = [rule, agency or "", str(year or ""), ",".join(sorted(set(codes))), "" if codes else section or "", other or ""]
    return hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:16]


def fingerprints(findings: Iterable[Finding], agency: str | None, year: int | None) -> list[str]:
    """Fingerprints of one report's findings; a repeat of the same identity gets '-2', '-3' …"""
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        fp = fingerprint(f.rule, agency, year, f.codes, f.section)
        seen[fp] = seen.get(fp, 0) + 1
        out.append(fp if seen[fp] == 1 else f"{fp}-{seen[fp]}")
    return out


def _refresh_fingerprints(conn: sqlite3.Connection, report_ids: Iterable[int] | None = None) -> None:
    """Recompute the stored findings' fingerprints (after a migration or a change of agency keys)."""
    reports = {
        rid: (key or f"sha:{sha[:16]}", year)
        for rid, key, sha, year in conn.execute("SELECT id, agency_key, sha256, year FROM reports")
    }
    wanted = set(report_ids) if report_ids is not None else set(reports)
    rows = conn.execute("SELECT id, report_id, rule, codes, section FROM findings ORDER BY report_id, id").fetchall()
    by_report: dict[int, list[tuple]] = {}
    for row in rows:
        if row[1] in wanted:
            by_report.setdefault(row[1], []).append(row)
    updates = []
    for rid, items in by_report.items():
        key, year = reports[rid]
        found = [Finding(rule, "", "", json.loads(codes), section) for _, _, rule, codes, section in items]
        updates += [(fp, fid) for fp, (fid, *_) in zip(fingerprints(found, key, year), items, strict=True)]
    conn.executemany("UPDATE findings SET fingerprint = ? WHERE id = ?", updates)


def _backfill_fingerprints(conn: sqlite3.Connection) -> None:
    _refresh_fingerprints(conn)


def write_failure(
    conn: sqlite3.Connection,
    path: str,
    sha256: str,
    fmt: str | None,
    error: str,
    parser_version: str,
    kind: str | None = None,
    path_bytes: bytes | None = None,
) -> int:
    """Record a file that could not be parsed, so the summary and later runs know why; `kind` is the
    ReadError kind (or `transient`: retried on the next run)."""
    with transaction(conn):
        conn.execute("DELETE FROM reports WHERE sha256 = ?", (sha256,))
        cur = conn.execute(
            "INSERT INTO reports (path, sha256, format, parser_version, status, error, ingested_at, error_kind, path_bytes)"
            " VALUES (?,?,?,?,'failed',?,?,?,?)",
            (path, sha256, fmt, parser_version, error, _now(), kind, path_bytes),
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
            _refresh_fingerprints(conn, [rid for _, rid in changes])
    return len(changes)


def replace_cross_findings(conn: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> int:
    """Replace all cross-report findings in one transaction (they are recomputed after every ingest)."""
    rows = list(rows)
    keys = dict(conn.execute("SELECT id, agency_key FROM reports").fetchall())
    seen: dict[str, int] = {}
    prints = []
    for r in rows:
        other = r.get("other_report_id")
        other_id = f"{keys.get(other) or ''}:{r.get('other_year') or ''}" if other else ""
        fp = fingerprint(r["rule"], r.get("agency_key") or keys.get(r["report_id"]), r.get("year"), r.get("codes", []), None, other_id)
        seen[fp] = seen.get(fp, 0) + 1
        prints.append(fp if seen[fp] == 1 else f"{fp}-{seen[fp]}")
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
            fp,
        )
        for r, fp in zip(rows, prints, strict=True)
    ]
    with transaction(conn):
        conn.execute("DELETE FROM cross_findings")
        conn.executemany(
            "INSERT INTO cross_findings (report_id, other_report_id, agency_key, year, other_year, rule, severity,"
            " message, codes, expected, actual, fingerprint) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
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
    for rid, _idx, section, page, text, key, chars in conn.execute(
        "SELECT report_id, idx, section, page,"
        + (" text" if with_details else " CASE WHEN text LIKE '%全%' THEN text ELSE '' END")
        + ", key, chars FROM sentences ORDER BY report_id, idx"
    ):
        if rid in out:
            out[rid][1].sentences.append(Sentence(text, page, section, key, chars))
    if with_details:
        for rid, tbl, page, x0, y0, x1, y1 in conn.execute(
            "SELECT report_id, tbl, page, x0, y0, x1, y1 FROM table_boxes ORDER BY report_id, rowid"
        ):
            if rid in out:
                out[rid][1].table_boxes.append(TableBox(tbl, page, (x0, y0, x1, y1)))
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
