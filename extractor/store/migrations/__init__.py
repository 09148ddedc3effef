"""Alembic migrations of the reports database, run by `extractor.store.database.connect` on open."""
