"""The review workspace: users, sessions, upload batches and their files, cell revisions.

Revision ID: 0003_workspace
Revises: 0002_core
"""

import sqlalchemy as sa
from alembic import op

from extractor.store.schema import Scalar

revision = "0003_workspace"
down_revision = "0002_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("csrf", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
    )
    op.create_index("sessions_user", "sessions", ["user_id"])
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("started_at", sa.Text),
        sa.Column("finished_at", sa.Text),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "batch_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text),
        sa.Column("size", sa.Integer),
        sa.Column("stored", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
    )
    op.create_index("batch_files_batch", "batch_files", ["batch_id"])
    op.create_index("batch_files_sha256", "batch_files", ["sha256"])
    op.create_table(
        "cell_revisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("old_value", Scalar()),
        sa.Column("new_value", Scalar()),
        sa.Column("note", sa.Text),
        sa.Column("revised_by", sa.Text, nullable=False),
        sa.Column("revised_at", sa.Text, nullable=False),
    )
    op.create_index("cell_revisions_sha256", "cell_revisions", ["sha256"])


def downgrade() -> None:
    raise NotImplementedError("schema changes are not undone; restore a copy of the database instead")
