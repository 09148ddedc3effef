import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pg  # noqa: E402


@pytest.fixture(scope="session")
def pg_server():
    """One real PostgreSQL server for the session (tests/pg.py); skipped only without its binaries."""
    servers = pg.start_server()
    try:
        server = next(servers)
    except LookupError as exc:
        pytest.skip(str(exc))
    yield server
    servers.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """Where a storage test writes: a new SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "reports.db")
    return request.getfixturevalue("pg_server").create_database()
