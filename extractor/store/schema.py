"""The database schema: every table as one SQLAlchemy Core `Table` on `metadata`, and the views.

This module is the one definition of the schema, for SQLite and PostgreSQL alike. A new database is
made from it (`metadata.create_all`, then stamped with the newest Alembic revision); an older one is
brought up to it by the Alembic revisions in `extractor/store/migrations/versions/`, which
`database.connect` runs on open (no alembic.ini: users never run alembic themselves).

How to add a table or a column (other parts of the project do this: users, batches, revisions …):

1. Add the `Table(...)` here on `metadata` (or a column to an existing one). Use portable types:
   `Integer`, `Text`, `Float`, `Boolean`, and `Number` for a cell value (int or float, kept exactly),
   `Scalar` for a number-or-text. Give every table an integer primary key `id` or a natural key.
2. Add a revision file in `extractor/store/migrations/versions/` whose `down_revision` is the current
   head (`alembic heads` would say; or look for the revision nobody points to), creating exactly
   what you added with `op.create_table` / `op.add_column` (`op.batch_alter_table` for changes
   SQLite cannot ALTER). Keep revision ids short and ordered: `0004_users`, `0005_batches` …
   When you rebase onto a main that gained a revision, re-point your `down_revision` at it.
3. tests/test_schema.py checks that there is one head and that an upgraded old database has the
   same tables and columns as a new one; run it.

Views (`VIEWS`) are plain SQL that both databases accept. They are dropped before and recreated after
every migration (SQLite cannot rebuild a table that a view names), so a revision never touches them:
edit the SQL here. They are for people and BI tools (datasette, DuckDB, Metabase); the code reads
the tables.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine, UserDefinedType

# The revision a new database is stamped with is the script's head; this one marks the last schema
# made without Alembic (PRAGMA user_version = 2), which an old SQLite file is stamped with first.
LEGACY_REVISION = "0001_v2"


class Untyped(UserDefinedType):
    """A SQLite column declared without a type: it keeps each value as given (integer, real or text)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return ""


class Number(TypeDecorator):
    """A cell value: int or float, read back as the same type.

    SQLite keeps the column untyped (as schema v2 did), so 11 stays an integer and 12.5 a real.
    PostgreSQL stores NUMERIC, which keeps the scale: 12.0 is read back as a float, 12 as an int.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Untyped())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def bind_processor(self, dialect: Dialect) -> Any:
        return None if dialect.name == "sqlite" else super().bind_processor(dialect)  # SQLite: kept as given

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name != "sqlite" and isinstance(value, float):
            return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return number_value(value)


def number_value(value: Any) -> Any:
    """A cell value as read from the database: PostgreSQL's NUMERIC comes as a Decimal (whole → int,
    else float); SQLite gives back the int or float it was given."""
    if isinstance(value, Decimal):
        return int(value) if value.as_tuple().exponent >= 0 else float(value)
    return value


class Scalar(TypeDecorator):
    """A number or a short text (a reviewer's corrected value). Untyped in SQLite, JSONB in PostgreSQL."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Untyped())
        return dialect.type_descriptor(postgresql.JSONB(none_as_null=True))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name != "sqlite" and isinstance(value, str) and value[:1] in "[{":
            return json.loads(value)
        return value


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", Text, nullable=False),
    Column("sha256", Text, nullable=False, unique=True),
    Column("format", Text),
    Column("pages", Integer),
    Column("agency", Text),
    Column("agency_key", Text),
    Column("year", Integer),
    Column("template", Text),
    Column("parser_version", Text, nullable=False),
    Column("status", Text, CheckConstraint("status IN ('ok', 'failed')"), nullable=False),
    Column("error", Text),
    Column("ingested_at", Text, nullable=False),
    # one copy of each agency-year is canonical (store/copies.py); NULL for failed files
    Column("canonical", Boolean),
    # the ReadError kind of a failed row (extractor.document.READ_ERROR_KINDS, or `transient`)
    Column("error_kind", Text),
    # the file name as bytes when it is not UTF-8 (`path` then shows U+FFFD in its place)
    Column("path_bytes", LargeBinary),
)
Index("reports_agency_key", reports.c.agency_key)
Index("reports_year", reports.c.year)


def _report_fk() -> Column[int]:
    return Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)


sections = Table(
    "sections",
    metadata,
    Column("id", Integer, primary_key=True),
    _report_fk(),
    Column("code", Text, nullable=False),
    Column("heading", Text),
    Column("page", Integer),
    Column("found", Integer, nullable=False),
)
Index("sections_report", sections.c.report_id)

cells = Table(
    "cells",
    metadata,
    Column("id", Integer, primary_key=True),
    _report_fk(),
    Column("code", Text, nullable=False),
    Column("value", Number),
    Column("raw", Text),
    Column("page", Integer),
    Column("confidence", Float),
    Column("label", Text),
    Column("derived", Integer, nullable=False, server_default=text("0")),
    # where the cell was printed on `page` (PDF points, top-left origin), for highlighting it
    Column("x0", Float),
    Column("y0", Float),
    Column("x1", Float),
    Column("y1", Float),
    UniqueConstraint("report_id", "code", name="cells_report_code"),
)
Index("cells_report", cells.c.report_id)
Index("cells_code", cells.c.code, cells.c.report_id)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True),
    _report_fk(),
    Column("rule", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("codes", Text, nullable=False),  # JSON list of cell codes
    Column("section", Text),
    Column("expected", Number),
    Column("actual", Number),
    Column("page", Integer),
    Column("fingerprint", Text),
)
Index("findings_report", findings.c.report_id)
Index("findings_rule", findings.c.rule)
Index("findings_fingerprint", findings.c.fingerprint)

cross_findings = Table(
    "cross_findings",
    metadata,
    Column("id", Integer, primary_key=True),
    _report_fk(),  # the later / second report
    Column("other_report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE")),
    Column("agency_key", Text),
    Column("year", Integer),
    Column("other_year", Integer),
    Column("rule", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("codes", Text, nullable=False),
    Column("expected", Number),
    Column("actual", Number),
    Column("fingerprint", Text),
)
Index("cross_findings_report", cross_findings.c.report_id)
Index("cross_findings_fingerprint", cross_findings.c.fingerprint)

aliases = Table(
    "aliases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("key", Text, nullable=False),
)

sentences = Table(
    "sentences",
    metadata,
    Column("id", Integer, primary_key=True),
    _report_fk(),
    Column("idx", Integer, nullable=False),
    Column("section", Text),
    Column("page", Integer),
    Column("text", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("chars", Integer, nullable=False),
)
Index("sentences_report", sentences.c.report_id)

table_boxes = Table(
    "table_boxes",
    metadata,
    Column("id", Integer, primary_key=True),
    _report_fk(),
    Column("tbl", Text, nullable=False),
    Column("page", Integer, nullable=False),
    Column("x0", Float),
    Column("y0", Float),
    Column("x1", Float),
    Column("y1", Float),
)
Index("table_boxes_report", table_boxes.c.report_id)

# the reviewer's current decision, keyed by the finding's fingerprint and NOT tied to a report row,
# so it survives re-parsing and re-ingesting
decisions = Table(
    "decisions",
    metadata,
    Column("fingerprint", Text, primary_key=True),
    Column(
        "decision",
        Text,
        CheckConstraint("decision IN ('confirmed', 'dismissed', 'corrected')"),
        nullable=False,
    ),
    Column("value", Scalar),
    Column("decided_by", Text, nullable=False),
    Column("note", Text),
    Column("decided_at", Text, nullable=False),
    Column("rule", Text),
    Column("agency_key", Text),
    Column("year", Integer),
    Column("codes", Text),
)

decision_log = Table(
    "decision_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("fingerprint", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("value", Scalar),
    Column("decided_by", Text, nullable=False),
    Column("note", Text),
    Column("decided_at", Text, nullable=False),
)
Index("decision_log_fingerprint", decision_log.c.fingerprint)


# --------------------------------------------------------------------------------------------------
# the review workspace (extractor serve): accounts, sessions, upload batches, cell revisions

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),  # viewer | reviewer | admin
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("active", Boolean, nullable=False),
    Column("created_at", Text, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", Text, primary_key=True),  # sha256 of the token: a leaked table opens nothing
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),  # web | api
    Column("csrf", Text, nullable=False),
    Column("created_at", Float, nullable=False),  # epoch seconds
    Column("last_seen", Float, nullable=False),
)
Index("sessions_user", sessions.c.user_id)

batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_by", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("started_at", Text),
    Column("finished_at", Text),
    Column("state", Text, nullable=False),  # queued | running | done
    Column("error", Text),
)

batch_files = Table(
    "batch_files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("name", Text, nullable=False),  # as uploaded: shown, never used as a path
    Column("sha256", Text),
    Column("size", Integer),
    Column("stored", Text),  # path under the data dir, made from the sha256
    Column("status", Text, nullable=False),  # queued | ok | failed | skipped | duplicate
    Column("reason", Text),
)
Index("batch_files_batch", batch_files.c.batch_id)
Index("batch_files_sha256", batch_files.c.sha256)

cell_revisions = Table(
    "cell_revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", Text, nullable=False),  # the report's content: survives re-ingest
    Column("code", Text, nullable=False),
    Column("old_value", Scalar),
    Column("new_value", Scalar),
    Column("note", Text),
    Column("revised_by", Text, nullable=False),
    Column("revised_at", Text, nullable=False),
)
Index("cell_revisions_sha256", cell_revisions.c.sha256)


# --------------------------------------------------------------------------------------------------
# views: the same SQL on SQLite and PostgreSQL

VIEWS: dict[str, str] = {
    # the copy of each agency-year that exports and comparisons use
    "v_reports_canonical": """
        SELECT id, path, sha256, format, pages, agency, agency_key, year, template, parser_version, ingested_at
        FROM reports WHERE status = 'ok' AND canonical = TRUE
    """,
    # one row per extracted cell with its report; `canonical` tells the copy exports use
    "v_cells_long": """
        SELECT r.agency, r.agency_key, r.year, r.template, r.format, r.path AS source, r.canonical,
               c.report_id, c.code, c.value, c.raw, c.page, c.confidence, c.label, c.derived,
               c.x0, c.y0, c.x1, c.y1
        FROM cells c JOIN reports r ON r.id = c.report_id
        WHERE r.status = 'ok'
    """,
    # findings (report and cross-report) nobody has decided yet, or confirmed and not corrected
    "v_open_findings": """
        SELECT 'report' AS kind, f.fingerprint, f.report_id, r.agency, r.agency_key, r.year, r.path AS source,
               f.rule, f.severity, f.message, f.codes, f.section, f.expected, f.actual, f.page, d.decision
        FROM findings f JOIN reports r ON r.id = f.report_id
        LEFT JOIN decisions d ON d.fingerprint = f.fingerprint
        WHERE r.status = 'ok' AND (d.decision IS NULL OR d.decision = 'confirmed')
        UNION ALL
        SELECT 'cross', x.fingerprint, x.report_id, r.agency, r.agency_key, x.year, r.path,
               x.rule, x.severity, x.message, x.codes, CAST(NULL AS TEXT), x.expected, x.actual,
               CAST(NULL AS INTEGER), d.decision
        FROM cross_findings x JOIN reports r ON r.id = x.report_id
        LEFT JOIN decisions d ON d.fingerprint = x.fingerprint
        WHERE d.decision IS NULL OR d.decision = 'confirmed'
    """,
}


def drop_views(conn: Connection) -> None:
    for name in reversed(list(VIEWS)):
        conn.execute(text(f"DROP VIEW IF EXISTS {name}"))


def create_views(conn: Connection) -> None:
    for name, sql in VIEWS.items():
        conn.execute(text(f"CREATE VIEW {name} AS {sql.strip()}"))


# --------------------------------------------------------------------------------------------------
# statements that differ between the two databases


def _dialect_insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def meta_value(conn: Connection, key: str) -> str | None:
    """The value kept in `meta` under `key`, or None."""
    return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()


# the same SQL in SQLite and PostgreSQL, built once: every stored report bumps the generation
_BUMP = text(
    """INSERT INTO meta ("key", value) VALUES (:key, '1')"""
    """ ON CONFLICT ("key") DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)"""
)


def bump_counter(conn: Connection, key: str) -> None:
    """Add one to the integer kept in `meta` under `key` (1 if absent), in one statement: two writers
    bumping a counter that does not exist yet must not both try to create it."""
    conn.execute(_BUMP, {"key": key})


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]] | dict[str, Any]) -> None:
    """INSERT … ON CONFLICT (primary key) DO UPDATE, in SQLite and PostgreSQL alike: safe when two
    writers store the same key at once."""
    rows = [rows] if isinstance(rows, dict) else rows
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    stmt = _dialect_insert(conn, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={n: stmt.excluded[n] for n in rows[0] if n not in keys}
    )
    conn.execute(stmt, rows)
