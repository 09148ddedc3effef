"""Storage of parsed reports in SQLite (the default: one file, nothing to install) or PostgreSQL.

`connect(target)` takes a path (SQLite) or a URL (`postgresql://user@host:port/db`, driven by
psycopg 3; `sqlite:///path` works too) and returns a `Database`. The schema is `schema.py`; opening
a database creates it or upgrades it in place with the Alembic revisions in `migrations/` (a
schema-v2 SQLite file from before keeps its reports and reviewer decisions).

Concurrency: several processes may write at once (two `ingest` runs, ingest while reviewers record
decisions). Every write is one short transaction. SQLite runs in WAL mode with a busy timeout and
takes the write lock at BEGIN (BEGIN IMMEDIATE), so a writer waits its turn instead of failing with
"database is locked". PostgreSQL relies on transactions, unique keys and advisory locks: writers of
the same file (sha256) queue behind each other, and the derived state (cross-report findings and
canonical copies, `refresh_derived`) is written under one exclusive lock after checking that no
report changed since it was computed, so it always equals a fresh computation over the stored reports.

A file's content (sha256) is stored once, under the path it was first seen at, and replaced when it
is ingested again with another parser version (or with --force); a kill at any moment leaves the old
report, the new one, or none — never half.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, Result

from extractor.lexicon.agency import agency_key
from extractor.report import Cell, Finding, Report, Section, Sentence, TableBox
from extractor.store import copies
from extractor.store import schema as s
from extractor.store.schema import upsert  # noqa: F401 - part of this module's API
from extractor.version import PARSER_VERSION

SCHEMA_VERSION = 3  # PRAGMA user_version of an Alembic-managed SQLite file (1 and 2 predate Alembic)
BUSY_TIMEOUT_S = 300  # how long a SQLite writer waits for another's transaction before giving up
_LOCK_CLASS = 0x6578  # advisory lock namespace ('ex') for PostgreSQL
_LOCK_DERIVED = 1


class StorageError(Exception):
    """A database that cannot be used (not SQLite, newer schema, unreachable server, unreadable alias file)."""


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
# connection


def database_url(target: str) -> sa.URL:
    """A path → sqlite URL; postgresql:// (or postgres://) → the psycopg 3 driver; other URLs as given."""
    if "://" not in target:
        return sa.URL.create("sqlite", database=os.path.abspath(target))
    try:
        url = sa.make_url(target)
    except sa.exc.ArgumentError:
        raise StorageError(f"not a database URL: {target}") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StorageError(f"{url.get_backend_name()}: only SQLite and PostgreSQL databases are supported")
    return url


def is_database_url(target: str) -> bool:
    return "://" in target


class Database:
    """An open reports database: an SQLAlchemy engine plus the transaction habits of this project.

    `begin()` is a write transaction (SQLite takes the write lock at once), `read()` a consistent
    read-only snapshot; each is short. `execute()` runs one statement in its own transaction and
    returns its rows, for scripts and tests. `close()` releases the connections.
    """

    def __init__(self, target: str, busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        self.target = target
        self.url = database_url(target)
        self.dialect = self.url.get_backend_name()
        self.engine = _engine(self.url, busy_timeout)
        _ENGINES.add(self.engine)

    @property
    def name(self) -> str:
        """How to show the database to a person: the path, or the URL without its password."""
        if self.dialect == "sqlite":
            return self.url.database or self.target
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin() as tx:
                yield conn
                tx.rollback()

    def execute(self, statement: str | sa.Executable, params: Mapping[str, Any] | None = None) -> Result[Any]:
        sql = text(statement) if isinstance(statement, str) else statement
        with self.begin() as conn:
            result = conn.execute(sql, dict(params or {}))
            return result.freeze()() if result.returns_rows else result  # rows read before the commit

    def scalar(self, statement: str | sa.Executable, params: Mapping[str, Any] | None = None) -> Any:
        return self.execute(statement, params).scalar()

    def close(self) -> None:
        _ENGINES.discard(self.engine)
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({self.name!r})"


_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_engines_in_child() -> None:
    """A forked worker must not reuse (or close) the parent's pooled connections."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_engines_in_child)


def _set_wal(cur: Any, busy_timeout: float) -> None:
    """Switch a SQLite file to WAL. SQLite answers 'locked' at once, without waiting for the busy
    timeout, while another process is creating the same file: wait and ask again."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _engine(url: sa.URL, busy_timeout: float = BUSY_TIMEOUT_S) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below), as IMMEDIATE for writes
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if url.database not in (None, "", ":memory:"):
                _set_wal(cur, busy_timeout)
                cur.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL survives process kills
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def connect(target: str | os.PathLike[str], busy_timeout: float = BUSY_TIMEOUT_S) -> Database:
    """Open (creating or upgrading as needed) a reports database: a SQLite path or a database URL.
    `busy_timeout`: seconds a SQLite writer waits for another's transaction."""
    target = os.fspath(target)
    db = Database(target, busy_timeout)
    try:
        migrate(db)
    except StorageError:
        db.close()
        raise
    except sa.exc.SQLAlchemyError as exc:
        db.close()
        raise StorageError(_db_error(db, exc)) from None
    return db


def _db_error(db: Database, exc: BaseException) -> str:
    detail = getattr(exc, "orig", None) or exc
    first = " ".join(str(detail).split("\n")[0].split())
    if db.dialect == "sqlite":
        return f"{db.name}: not a usable SQLite database ({first})"
    return f"{db.name}: cannot use the database ({first})"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------------
# schema: create, upgrade (Alembic), views


def alembic_config(conn: Connection) -> Any:
    """An Alembic Config for the migrations shipped in this package, bound to `conn` (no alembic.ini)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "extractor.store:migrations")
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from extractor.store import migrations

    script = ScriptDirectory(os.path.dirname(migrations.__file__))
    heads = script.get_heads()
    if len(heads) != 1:
        raise StorageError(f"the migrations have {len(heads)} heads ({', '.join(heads)}): merge them")
    return heads[0]


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from extractor.store import migrations

    return {r.revision for r in ScriptDirectory(os.path.dirname(migrations.__file__)).walk_revisions()}


def _current_revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(db: Database) -> None:
    """Bring the database to the newest schema: create it, or upgrade it in place, in one transaction."""
    head = head_revision()
    with db.engine.connect() as conn:  # fast path, no lock: already current
        if db.dialect == "sqlite":
            version = conn.exec_driver_sql("PRAGMA user_version").scalar() or 0
            if version > SCHEMA_VERSION:
                raise StorageError(
                    f"{db.name}: database schema version {version} is newer than this extractor's ({SCHEMA_VERSION})"
                )
        current = _current_revision(conn)
        conn.rollback()
        if current == head:
            return
    with db.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:c, 0)"), {"c": _LOCK_CLASS})
        current = _current_revision(conn)  # again, under the lock: another process may have done it
        if current == head:
            return
        if current is not None and current not in _known_revisions():
            raise StorageError(f"{db.name}: the database was made by a newer extractor (schema {current})")
        from alembic import command

        cfg = alembic_config(conn)
        s.drop_views(conn)
        if current is None and not sa.inspect(conn).has_table("reports"):
            s.metadata.create_all(conn)
            conn.execute(s.meta.insert(), [{"key": "created_at", "value": _now()}])
            command.stamp(cfg, head)
        else:
            if current is None:  # a file from before Alembic: schema v1 or v2
                version = conn.exec_driver_sql("PRAGMA user_version").scalar() if db.dialect == "sqlite" else 2
                if version == 1:
                    _migrate_1_to_2(conn)
                elif version != 2:
                    raise StorageError(f"{db.name}: not an extractor database (no schema version)")
                command.stamp(cfg, s.LEGACY_REVISION)
            command.upgrade(cfg, head)
            _refresh_canonical(conn)
            conn.execute(s.meta.delete().where(s.meta.c.key == _DERIVED_KEY))  # computed by an older schema
        s.create_views(conn)
        _set_meta(conn, "schema_version", head)
        if db.dialect == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _migrate_1_to_2(conn: Connection) -> None:
    """Schema v1 → v2 (the supervisory audit): fingerprints on findings, four new tables."""
    conn.exec_driver_sql("ALTER TABLE findings ADD COLUMN fingerprint TEXT")
    conn.exec_driver_sql("ALTER TABLE cross_findings ADD COLUMN fingerprint TEXT")
    for ddl in _V2_TABLES:
        conn.exec_driver_sql(ddl)
    for index in ("findings(fingerprint)", "cross_findings(fingerprint)"):
        conn.exec_driver_sql(f"CREATE INDEX {index.split('(')[0]}_fingerprint ON {index}")
    _refresh_fingerprints(conn)


_V2_TABLES = (
    "CREATE TABLE sentences (report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE, idx INTEGER NOT NULL,"
    " section TEXT, page INTEGER, text TEXT NOT NULL, key TEXT NOT NULL, chars INTEGER NOT NULL)",
    "CREATE INDEX sentences_report ON sentences(report_id)",
    "CREATE TABLE table_boxes (report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE, tbl TEXT NOT NULL,"
    " page INTEGER NOT NULL, x0 REAL, y0 REAL, x1 REAL, y1 REAL)",
    "CREATE TABLE decisions (fingerprint TEXT PRIMARY KEY, decision TEXT NOT NULL CHECK (decision IN"
    " ('confirmed', 'dismissed', 'corrected')), value, decided_by TEXT NOT NULL, note TEXT, decided_at TEXT NOT NULL,"
    " rule TEXT, agency_key TEXT, year INTEGER, codes TEXT)",
    "CREATE TABLE decision_log (id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, decision TEXT NOT NULL, value,"
    " decided_by TEXT NOT NULL, note TEXT, decided_at TEXT NOT NULL)",
)


def _set_meta(conn: Connection, key: str, value: str) -> None:
    s.upsert(conn, s.meta, {"key": key, "value": value})


def get_meta(db: Database, key: str) -> str | None:
    with db.read() as conn:
        return s.meta_value(conn, key)


@contextmanager
def transaction(db: Database) -> Iterator[Connection]:
    """A write transaction, rolled back on any exception (kept for callers of the SQLite era)."""
    with db.begin() as conn:
        yield conn


# --------------------------------------------------------------------------------------------------
# writing


def _bump_generation(conn: Connection) -> None:
    """Count changes to the set of reports, so derived state can tell it is stale (see refresh_derived)."""
    s.bump_counter(conn, "generation")


def _generation(conn: Connection) -> int:
    return int(s.meta_value(conn, "generation") or 0)


def _lock_report_write(conn: Connection, sha256: str) -> None:
    """PostgreSQL: writers of one file queue behind each other; all writers share the derived-state lock."""
    if conn.dialect.name != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE already serialises writers
    conn.execute(text("SELECT pg_advisory_xact_lock_shared(:c, :k)"), {"c": _LOCK_CLASS, "k": _LOCK_DERIVED})
    key = int(sha256[:8] or "0", 16) - 2**31
    conn.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": _LOCK_CLASS + 1, "k": key})


def stored_states(db: Database, sha256s: Iterable[str], chunk: int = 500) -> dict[str, tuple[str, str, str | None, str | None]]:
    """{sha256: (parser_version, status, error, error_kind)} of the stored reports with these
    contents, one query per `chunk` of them: two queries a file cost more than hashing it. The
    error_kind is None for rows stored before kinds were."""
    r = s.reports.c
    wanted = list(dict.fromkeys(sha256s))
    out: dict[str, tuple[str, str, str | None, str | None]] = {}
    with db.read() as conn:
        for start in range(0, len(wanted), chunk):
            some = wanted[start : start + chunk]
            query = sa.select(r.sha256, r.parser_version, r.status, r.error, r.error_kind).where(r.sha256.in_(some))
            out.update((sha, (pv, status, error, kind)) for sha, pv, status, error, kind in conn.execute(query))
    return out


def write_report(
    db: Database, report: Report, agency_key_value: str | None = None, path_bytes: bytes | None = None
) -> int:
    """Store one parsed report, replacing any earlier version of the same content; returns its id.
    `path_bytes`: the file name as bytes, when it is not UTF-8."""
    seen: set[str] = set()
    cell_rows = []
    for c in report.cells:
        if c.code in seen:  # a parser emitting a code twice: keep the first, as cell_map users expect
            continue
        seen.add(c.code)
        x0, y0, x1, y1 = c.bbox if c.bbox else (None, None, None, None)
        cell_rows.append((c.code, c.value, c.raw, c.page, c.confidence, c.label, int(bool(c.derived)), x0, y0, x1, y1))
    prints = fingerprints(report.findings, agency_key_value or f"sha:{report.sha256[:16]}", report.year)
    finding_rows = [
        (f.rule, f.severity, f.message, json.dumps(f.codes, ensure_ascii=False), f.section, f.expected, f.actual, f.page, fp)
        for f, fp in zip(report.findings, prints, strict=True)
    ]
    children: list[tuple[sa.Table, tuple[str, ...], list[tuple[Any, ...]]]] = [
        (s.sections, ("code", "heading", "page", "found"), [(x.code, x.heading, x.page, int(bool(x.found))) for x in report.sections]),
        (s.cells, _CELL_COLUMNS, cell_rows),
        (s.findings, _FINDING_COLUMNS, finding_rows),
        (s.sentences, ("idx", "section", "page", "text", "key", "chars"),
         [(i, x.section, x.page, x.text, x.key, x.chars) for i, x in enumerate(report.sentences)]),
        (s.table_boxes, ("tbl", "page", "x0", "y0", "x1", "y1"), [(b.table, b.page, *b.bbox) for b in report.table_boxes]),
    ]  # fmt: skip
    with db.begin() as conn:
        _lock_report_write(conn, report.sha256)
        conn.execute(_DELETE_REPORT, {"sha": report.sha256})
        rid = conn.execute(
            _INSERT_REPORT,
            {
                "path": report.path, "sha256": report.sha256, "format": report.format, "pages": report.pages,
                "agency": report.agency, "agency_key": agency_key_value, "year": report.year,
                "template": report.template, "parser_version": report.parser_version, "status": "ok",
                "error": None, "ingested_at": _now(), "canonical": None, "path_bytes": path_bytes,
            },  # fmt: skip
        ).scalar_one()
        for table, columns, rows in children:
            if rows:
                insert_many(conn, table, ("report_id", *columns), [(rid, *row) for row in rows])
        _bump_generation(conn)
    return int(rid)


# built once: a statement object costs more to build and key for the cache than SQLite takes to run it
_DELETE_REPORT = s.reports.delete().where(s.reports.c.sha256 == sa.bindparam("sha"))
_INSERT_REPORT = s.reports.insert().returning(s.reports.c.id)
_CELL_COLUMNS = ("code", "value", "raw", "page", "confidence", "label", "derived", "x0", "y0", "x1", "y1")
_FINDING_COLUMNS = ("rule", "severity", "message", "codes", "section", "expected", "actual", "page", "fingerprint")
_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[tuple[int, Callable[[Any], Any]]]]] = {}  # statement, processors


def insert_many(conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """INSERT rows (tuples in `columns` order) with one executemany of the database driver.

    `conn.execute(table.insert(), dicts)` processes every row's parameters in Python, which took a
    third of storing a 200-cell report; here the statement is built once per table and columns, and
    only the values of columns whose type converts them (a float cell value becomes a Decimal for
    PostgreSQL's NUMERIC) pass through the type's bind processor, as SQLAlchemy would do."""
    dialect = conn.dialect
    key = (dialect.name, table.name, columns)
    if key not in _INSERTS:
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) VALUES ({', '.join([mark] * len(columns))})"
        processors = [(i, p) for i, name in enumerate(columns) if (p := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))]
        _INSERTS[key] = (sql, processors)
    sql, processors = _INSERTS[key]
    if processors and rows:
        by_column = list(zip(*rows, strict=True))
        for i, process in processors:
            by_column[i] = tuple(map(process, by_column[i]))
        rows = list(zip(*by_column, strict=True))
    conn.exec_driver_sql(sql, rows)


def write_failure(
    db: Database,
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
    with db.begin() as conn:
        _lock_report_write(conn, sha256)
        conn.execute(_DELETE_REPORT, {"sha": sha256})
        rid = conn.execute(
            _INSERT_REPORT,
            {"path": path, "sha256": sha256, "format": fmt, "parser_version": parser_version, "status": "failed",
             "error": error, "ingested_at": _now(), "error_kind": kind, "path_bytes": path_bytes},
        ).scalar_one()  # fmt: skip
        _bump_generation(conn)
    return int(rid)


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


def _refresh_fingerprints(conn: Connection, report_ids: Iterable[int] | None = None) -> None:
    """Recompute the stored findings' fingerprints (after a migration or a change of agency keys)."""
    r, f = s.reports.c, s.findings.c
    reports = {
        rid: (key or f"sha:{sha[:16]}", year)
        for rid, key, sha, year in conn.execute(sa.select(r.id, r.agency_key, r.sha256, r.year))
    }
    wanted = set(report_ids) if report_ids is not None else set(reports)
    rows = conn.execute(sa.select(f.id, f.report_id, f.rule, f.codes, f.section).order_by(f.report_id, f.id)).all()
    by_report: dict[int, list[Any]] = {}
    for row in rows:
        if row[1] in wanted:
            by_report.setdefault(row[1], []).append(row)
    updates = []
    for rid, items in by_report.items():
        key, year = reports[rid]
        found = [Finding(rule, "", "", json.loads(codes), section) for _, _, rule, codes, section in items]
        updates += [{"fid": fid, "fp": fp} for fp, (fid, *_) in zip(fingerprints(found, key, year), items, strict=True)]
    if updates:
        conn.execute(
            s.findings.update().where(f.id == sa.bindparam("fid")).values(fingerprint=sa.bindparam("fp")), updates
        )


def stored_aliases(db: Database) -> dict[str, str]:
    with db.read() as conn:
        return {name: key for name, key in conn.execute(sa.select(s.aliases.c.name, s.aliases.c.key))}


def merge_aliases(db: Database, aliases: Mapping[str, str]) -> None:
    """Add a user alias file to the database (its entries win) so later runs keep using it."""
    if not aliases:
        return
    with db.begin() as conn:
        s.upsert(conn, s.aliases, [{"name": n, "key": k} for n, k in aliases.items()])


def rekey_agencies(db: Database, aliases: Mapping[str, str]) -> int:
    """Recompute every report's agency_key (after the aliases changed); returns rows changed."""
    r = s.reports.c
    with db.read() as conn:
        rows = conn.execute(sa.select(r.id, r.agency, r.agency_key)).all()
    changes = [{"rid": rid, "key": agency_key(agency, aliases)} for rid, agency, old in rows if agency_key(agency, aliases) != old]
    if changes:
        with db.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock_shared(:c, :k)"), {"c": _LOCK_CLASS, "k": _LOCK_DERIVED})
            conn.execute(s.reports.update().where(r.id == sa.bindparam("rid")).values(agency_key=sa.bindparam("key")), changes)
            _refresh_fingerprints(conn, [c["rid"] for c in changes])
            _bump_generation(conn)
    return len(changes)


# --------------------------------------------------------------------------------------------------
# derived state: cross-report findings and canonical copies, always a function of the stored reports


def refresh_derived(db: Database, compute_cross: Callable[[list[tuple[int, str | None, Report]], set[int]], list[dict[str, Any]]]) -> int:
    """Recompute the cross-report findings (`compute_cross(loaded reports, canonical ids)` → rows) and
    the canonical copies from the stored reports, and store them; returns how many cross findings
    there are. The canonical ids are those the copies will be marked with, so the cross-report rules
    see one copy per agency-year.

    The computation reads a snapshot without holding the write lock; the result is written only if no
    report changed meanwhile (a generation counter), else it is done again. The last attempt holds the
    lock from reading to writing, so the stored result always matches the stored reports, whatever
    other writers do at the same time. When nothing the result depends on changed since it was
    stored (the reports' generation, the parser version, the copy preference), it is not computed
    again: re-running an ingest over files already stored costs nothing however large the database.
    """
    with db.read() as conn:
        if s.meta_value(conn, _DERIVED_KEY) == _derived_marker(conn):  # nothing it depends on changed
            return int(conn.execute(sa.select(sa.func.count()).select_from(s.cross_findings)).scalar() or 0)
    for attempt in range(4):
        locked = attempt == 3
        if locked:
            with db.begin() as conn:
                _lock_derived(conn)
                loaded = load_reports(conn, values_only=True)
                rows = compute_cross(loaded, copies.chosen_ids(conn))
                return _write_derived(conn, rows)
        with db.read() as conn:
            generation = _generation(conn)
            loaded = load_reports(conn, values_only=True)
            canonical = copies.chosen_ids(conn)
        rows = compute_cross(loaded, canonical)
        with db.begin() as conn:
            _lock_derived(conn)
            if _generation(conn) == generation:
                return _write_derived(conn, rows)
    raise AssertionError("unreachable")


def _lock_derived(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": _LOCK_CLASS, "k": _LOCK_DERIVED})


def _write_derived(conn: Connection, rows: list[dict[str, Any]]) -> int:
    n = _replace_cross_findings(conn, rows)
    _refresh_canonical(conn)
    _set_meta(conn, _DERIVED_KEY, _derived_marker(conn))
    return n


_DERIVED_KEY = "derived_state"


def _derived_marker(conn: Connection) -> str:
    """What the stored derived state was computed from: the reports (their generation), the code that
    computed it, and the copy preference that picks the canonical copies."""
    return f"{_generation(conn)}|{PARSER_VERSION}|{','.join(copies.preference(conn))}"


def _refresh_canonical(conn: Connection) -> None:
    copies.mark_canonical(conn)


def _replace_cross_findings(conn: Connection, rows: list[dict[str, Any]]) -> int:
    r = s.reports.c
    keys = {rid: key for rid, key in conn.execute(sa.select(r.id, r.agency_key))}
    seen: dict[str, int] = {}
    data = []
    for row in rows:
        other = row.get("other_report_id")
        other_id = f"{keys.get(other) or ''}:{row.get('other_year') or ''}" if other else ""
        fp = fingerprint(row["rule"], row.get("agency_key") or keys.get(row["report_id"]), row.get("year"), row.get("codes", []), None, other_id)
        seen[fp] = seen.get(fp, 0) + 1
        data.append(
            {"report_id": row["report_id"], "other_report_id": other, "agency_key": row.get("agency_key"),
             "year": row.get("year"), "other_year": row.get("other_year"), "rule": row["rule"],
             "severity": row["severity"], "message": row["message"],
             "codes": json.dumps(row.get("codes", []), ensure_ascii=False), "expected": row.get("expected"),
             "actual": row.get("actual"), "fingerprint": fp if seen[fp] == 1 else f"{fp}-{seen[fp]}"}
        )  # fmt: skip
    conn.execute(s.cross_findings.delete())
    if data:
        conn.execute(s.cross_findings.insert(), data)
    return len(data)


# --------------------------------------------------------------------------------------------------
# reading


def load_reports(
    source: Database | Connection, ids: Iterable[int] | None = None, with_details: bool = False, values_only: bool = False
) -> list[tuple[int, str | None, Report]]:
    """Successfully parsed reports as (id, agency_key, Report); cells always, sections/findings on request.
    `values_only`: cells with their code and value alone (no printed text, page or box), as the
    cross-report checks need them over a whole database: less than half the memory."""
    if isinstance(source, Database):
        with source.read() as conn:
            return load_reports(conn, ids, with_details, values_only)
    conn = source
    r = s.reports.c
    query = sa.select(
        r.id, r.path, r.sha256, r.format, r.pages, r.agency, r.agency_key, r.year, r.template, r.parser_version
    ).where(r.status == "ok")
    wanted: set[int] | None = None
    if ids is not None:
        wanted = set(ids)
        if not wanted:
            return []
        query = query.where(r.id.in_(wanted))
    out: dict[int, tuple[str | None, Report]] = {}
    for rid, path, sha, fmt, pages, agency, key, year, template, pv in conn.execute(query.order_by(r.id)):
        out[rid] = (
            key,
            Report(path=path, sha256=sha, format=fmt or "", pages=pages, agency=agency, year=year,
                   template=template, parser_version=pv),
        )  # fmt: skip
    if not out:
        return []

    def rows(table: sa.Table, *columns: Any, order: Any) -> Iterator[Any]:
        query = sa.select(table.c.report_id, *columns)
        if wanted is not None:
            query = query.where(table.c.report_id.in_(wanted))
        for row in conn.execute(query.order_by(table.c.report_id, order)):
            if row[0] in out:
                yield out[row[0]][1], row[1:]

    c = s.cells.c
    # one str object per distinct code, label and printed value: they repeat across reports, and a
    # national database loaded for the cross-report checks holds millions of cells
    same: dict[str, str] = {}
    if values_only and wanted is None:
        _load_values(conn, {rid: rep for rid, (_, rep) in out.items()}, same)
    elif values_only:
        for rep, (code, value) in rows(s.cells, c.code, c.value, order=c.id):
            rep.cells.append(Cell(same.setdefault(code, code), value, ""))
    else:
        for rep, (code, value, raw, page, conf, label, derived, x0, y0, x1, y1) in rows(
            s.cells, c.code, c.value, c.raw, c.page, c.confidence, c.label, c.derived, c.x0, c.y0, c.x1, c.y1, order=c.id
        ):
            box = (x0, y0, x1, y1) if x0 is not None else None
            code, raw, label = same.setdefault(code, code), same.setdefault(raw or "", raw or ""), same.setdefault(label or "", label or "")
            rep.cells.append(Cell(code, value, raw, page, conf if conf is not None else 1.0, label, bool(derived), box))
    t = s.sentences.c
    body = t.text if with_details else sa.case((t.text.like("%全%"), t.text), else_="")
    for rep, (section, page, body_text, key, chars) in rows(s.sentences, t.section, t.page, body, t.key, t.chars, order=t.idx):
        rep.sentences.append(Sentence(body_text, page, section, key, chars))
    if with_details:
        b = s.table_boxes.c
        for rep, (tbl, page, x0, y0, x1, y1) in rows(s.table_boxes, b.tbl, b.page, b.x0, b.y0, b.x1, b.y1, order=b.id):
            rep.table_boxes.append(TableBox(tbl, page, (x0, y0, x1, y1)))
        x = s.sections.c
        for rep, (code, heading, page, found) in rows(s.sections, x.code, x.heading, x.page, x.found, order=x.id):
            rep.sections.append(Section(code, heading, page, bool(found)))
        f = s.findings.c
        for rep, (rule, sev, msg, codes, section, exp, act, page) in rows(
            s.findings, f.rule, f.severity, f.message, f.codes, f.section, f.expected, f.actual, f.page, order=f.id
        ):
            rep.findings.append(Finding(rule, sev, msg, json.loads(codes), section, exp, act, page))
    return [(rid, key, rep) for rid, (key, rep) in out.items()]


def _load_values(conn: Connection, reports: dict[int, Report], same: dict[str, str]) -> None:
    """Every stored cell's code and value into its report, read through the driver's own cursor (in
    the connection's transaction): the cross-report checks read the whole database after every
    ingest, and SQLAlchemy's row objects and type processing were a third of that."""
    convert = conn.dialect.name != "sqlite"  # NUMERIC comes back as Decimal
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute("SELECT report_id, code, value FROM cells ORDER BY report_id, id")
        last, cells = None, None
        for rid, code, value in cursor:
            if rid != last:
                last, rep = rid, reports.get(rid)
                cells = rep.cells if rep is not None else None
            if cells is not None:
                cells.append(Cell(same.setdefault(code, code), s.number_value(value) if convert else value, ""))
    finally:
        cursor.close()


def canonical_dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Content of the database without row ids and timestamps, sorted: equal dumps = same data.

    Row ids depend on the order parallel workers finished in, so they are replaced by sha256.
    """
    with db.read() as conn:
        r = s.reports.c
        sha = {rid: h for rid, h in conn.execute(sa.select(r.id, r.sha256))}

        def rows(table: sa.Table, *names: str, ids: int = 1) -> list[tuple[Any, ...]]:
            found = conn.execute(sa.select(*(table.c[n] for n in names)))
            return sorted(
                (tuple(sha.get(v, v) if i < ids else v for i, v in enumerate(row)) for row in found), key=repr
            )

        return {
            "schema_version": [(conn.execute(text("SELECT version_num FROM alembic_version")).scalar(),)],
            "reports": rows(s.reports, "sha256", "path", "format", "pages", "agency", "agency_key", "year", "template",
                            "parser_version", "status", "error", "canonical", ids=0),
            "sections": rows(s.sections, "report_id", "code", "heading", "page", "found"),
            "cells": rows(s.cells, "report_id", "code", "value", "raw", "page", "confidence", "label", "derived",
                          "x0", "y0", "x1", "y1"),
            "findings": rows(s.findings, "report_id", "rule", "severity", "message", "codes", "section", "expected",
                             "actual", "page", "fingerprint"),
            "cross_findings": rows(s.cross_findings, "report_id", "other_report_id", "agency_key", "year", "other_year",
                                   "rule", "severity", "message", "codes", "expected", "actual", "fingerprint", ids=2),
            "aliases": rows(s.aliases, "name", "key", ids=0),
        }  # fmt: skip
