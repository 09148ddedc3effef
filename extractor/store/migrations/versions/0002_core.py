"""SQLAlchemy Core schema: an id on every row table, cell bounding boxes, canonical copies, failure kinds.

Revision ID: 0002_core
Revises: 0001_v2
"""

import sqlalchemy as sa
from alembic import op

from extractor.store.schema import Untyped

revision = "0002_core"
down_revision = "0001_v2"
branch_labels = None
depends_on = None


def _v2_tables() -> dict[str, sa.Table]:
    """The four row tables as schema v2 made them (no key; SQLite's rowid kept their order). Given to
    the batch rebuild as they are, because reflection loses ON DELETE CASCADE and untyped columns."""
    md = sa.MetaData()

    def report_id() -> sa.Column:
        return sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)

    sa.Table("reports", md, sa.Column("id", sa.Integer, primary_key=True))
    tables = [
        sa.Table("sections", md, report_id(), sa.Column("code", sa.Text, nullable=False), sa.Column("heading", sa.Text),
                 sa.Column("page", sa.Integer), sa.Column("found", sa.Integer, nullable=False),
                 sa.Index("sections_report", "report_id")),
        sa.Table("cells", md, report_id(), sa.Column("code", sa.Text, nullable=False), sa.Column("value", Untyped()),
                 sa.Column("raw", sa.Text), sa.Column("page", sa.Integer), sa.Column("confidence", sa.Float),
                 sa.Column("label", sa.Text), sa.Column("derived", sa.Integer, nullable=False, server_default=sa.text("0")),
                 sa.Index("cells_report", "report_id"), sa.Index("cells_code", "code", "report_id")),
        sa.Table("sentences", md, report_id(), sa.Column("idx", sa.Integer, nullable=False), sa.Column("section", sa.Text),
                 sa.Column("page", sa.Integer), sa.Column("text", sa.Text, nullable=False),
                 sa.Column("key", sa.Text, nullable=False), sa.Column("chars", sa.Integer, nullable=False),
                 sa.Index("sentences_report", "report_id")),
        sa.Table("table_boxes", md, report_id(), sa.Column("tbl", sa.Text, nullable=False),
                 sa.Column("page", sa.Integer, nullable=False), sa.Column("x0", sa.Float), sa.Column("y0", sa.Float),
                 sa.Column("x1", sa.Float), sa.Column("y1", sa.Float)),
    ]  # fmt: skip
    return {t.name: t for t in tables}


def upgrade() -> None:
    op.add_column("reports", sa.Column("canonical", sa.Boolean()))
    # error_kind and path_bytes were added in place to some v2 files before this revision existed
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("reports")}
    for name, kind in (("error_kind", sa.Text()), ("path_bytes", sa.LargeBinary())):
        if name not in have:
            op.add_column("reports", sa.Column(name, kind))
    for name, old in _v2_tables().items():
        # the rebuild copies the rows in their old (rowid) order, so the new ids keep that order
        with op.batch_alter_table(name, recreate="always", copy_from=old) as batch:
            batch.add_column(sa.Column("id", sa.Integer(), primary_key=True), insert_before="report_id")
            if name == "cells":
                for axis in ("x0", "y0", "x1", "y1"):
                    batch.add_column(sa.Column(axis, sa.Float()))
                batch.create_unique_constraint("cells_report_code", ["report_id", "code"])
    op.create_index("table_boxes_report", "table_boxes", ["report_id"])
    op.create_index("decision_log_fingerprint", "decision_log", ["fingerprint"])


def downgrade() -> None:
    raise NotImplementedError("schema changes are not undone; restore a copy of the database instead")
