"""Alembic environment: always called by `database.migrate` with an open connection in a transaction.

There is no alembic.ini: `database.alembic_config` points Alembic here and hands over the connection
(in `config.attributes["connection"]`), so the migration runs inside the caller's locked transaction.
"""

from alembic import context

from extractor.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
