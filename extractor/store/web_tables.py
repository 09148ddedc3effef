"""Tables of the review workspace (accounts, sessions, upload batches, cell revisions).

Temporary home until the SQLAlchemy schema of the store lands; the definitions move there unchanged.
Also read-only stubs of the ingest tables the workspace queries.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", String(20), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the token: a leaked table opens nothing
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(8), nullable=False),  # web | api
    Column("csrf", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", String(20), nullable=False),
    Column("started_at", String(20)),
    Column("finished_at", String(20)),
    Column("state", String(8), nullable=False),  # queued | running | done
    Column("error", Text),
)

batch_files = Table(
    "batch_files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, ForeignKey("batches.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("idx", Integer, nullable=False),
    Column("name", Text, nullable=False),  # as uploaded (shown, never used as a path)
    Column("sha256", String(64)),
    Column("size", Integer),
    Column("stored", Text),  # path under the data dir, made from the sha256
    Column("status", String(10), nullable=False),  # queued | ok | failed | skipped | duplicate
    Column("reason", Text),
)

revisions = Table(
    "cell_revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, index=True),  # the report's content: survives re-ingest
    Column("code", String(64), nullable=False),
    Column("old_value", JSON),
    Column("new_value", JSON),
    Column("note", Text),
    Column("revised_by", String(64), nullable=False),
    Column("revised_at", String(20), nullable=False),
)

# --- the ingest tables, as the web reads them (owned by store.database) ---------------------------
_ingest = MetaData()
reports = Table(
    "reports", _ingest,
    Column("id", Integer, primary_key=True), Column("path", Text), Column("sha256", String(64)),
    Column("format", Text), Column("pages", Integer), Column("agency", Text), Column("agency_key", Text),
    Column("year", Integer), Column("template", Text), Column("parser_version", Text), Column("status", Text),
    Column("error", Text), Column("ingested_at", Text),
    Column("error_kind", Text), Column("path_bytes", LargeBinary),  # the ReadError kind; a non-UTF-8 name's bytes
)  # fmt: skip
cells = Table(
    "cells", _ingest,
    Column("report_id", Integer), Column("code", Text), Column("value"), Column("raw", Text),
    Column("page", Integer), Column("confidence", Float), Column("label", Text), Column("derived", Integer),
)  # fmt: skip
findings = Table(
    "findings", _ingest,
    Column("id", Integer, primary_key=True), Column("report_id", Integer), Column("rule", Text),
    Column("severity", Text), Column("message", Text), Column("codes", Text), Column("section", Text),
    Column("expected"), Column("actual"), Column("page", Integer), Column("fingerprint", Text),
)  # fmt: skip
cross_findings = Table(
    "cross_findings", _ingest,
    Column("id", Integer, primary_key=True), Column("report_id", Integer), Column("other_report_id", Integer),
    Column("agency_key", Text), Column("year", Integer), Column("other_year", Integer), Column("rule", Text),
    Column("severity", Text), Column("message", Text), Column("codes", Text), Column("expected"),
    Column("actual"), Column("fingerprint", Text),
)  # fmt: skip
decisions = Table(
    "decisions", _ingest,
    Column("fingerprint", Text, primary_key=True), Column("decision", Text), Column("value"),
    Column("decided_by", Text), Column("note", Text), Column("decided_at", Text),
)  # fmt: skip
decision_log = Table(
    "decision_log", _ingest,
    Column("id", Integer, primary_key=True), Column("fingerprint", Text), Column("decision", Text),
    Column("value"), Column("decided_by", Text), Column("note", Text), Column("decided_at", Text),
)  # fmt: skip


def engine(db: str) -> Engine:
    """An engine for a database path (SQLite) or URL, with the ingest schema and the workspace tables."""
    from extractor.store import database as storage

    eng = storage.connect(db).engine  # the ingest schema first (created or upgraded); WAL, busy timeout
    metadata.create_all(eng)
    return eng
