"""Schema v2: the last schema made without Alembic (SQLite, PRAGMA user_version = 2).

Nothing to do: an old file is stamped with this revision when it is first opened, and the revisions
after it bring it up to date. A new database is made from `schema.metadata` and stamped with the head.
"""

revision = "0001_v2"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
