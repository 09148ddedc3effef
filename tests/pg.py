"""A real PostgreSQL server for the tests: `initdb` + `pg_ctl` in a temporary folder, on a free port
on 127.0.0.1, stopped at the end of the session. One server per session, a fresh database per test.

The server binaries come from Debian's `postgresql` package (scripts/setup-system.sh installs it).
PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user (made if
missing) in a folder it owns. Only when the binaries are absent are the PostgreSQL tests skipped.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


def server_bindir() -> str | None:
    """The folder holding initdb and pg_ctl: pg_config's bindir, Debian's versioned folders, or PATH."""
    candidates: list[str] = []
    if shutil.which("pg_config"):
        try:
            out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
            candidates.append(out)
        except (OSError, subprocess.SubprocessError):
            pass
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versioned, key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0, reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(os.path.dirname(os.path.realpath(found)))
    for folder in candidates:
        if folder and all(os.access(os.path.join(folder, tool), os.X_OK) for tool in ("initdb", "pg_ctl")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_user() -> dict[str, Any]:
    """subprocess arguments to run the server as a non-root user."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], check=True)
    return {"user": "postgres", "group": pwd.getpwnam("postgres").pw_gid}


@dataclass
class PostgresServer:
    bindir: str
    folder: str
    port: int
    run_as: dict[str, Any]
    _names = itertools.count(1)

    @property
    def data(self) -> str:
        return os.path.join(self.folder, "data")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _tool(self, name: str, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            [os.path.join(self.bindir, name), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.folder,
            **self.run_as,
        )
        if result.returncode != 0:
            log = os.path.join(self.folder, "server.log")
            tail = open(log, encoding="utf-8", errors="replace").read()[-2000:] if os.path.exists(log) else ""
            raise RuntimeError(f"{name} failed: {result.stderr.strip() or result.stdout.strip()}\n{tail}")

    def start(self) -> None:
        self._tool("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        self._tool("pg_ctl", "-D", self.data, "-o", options, "-l", os.path.join(self.folder, "server.log"), "-w", "start")

    def stop(self) -> None:
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._tool("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", timeout=60)

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_server() -> Iterator[PostgresServer]:
    bindir = server_bindir()
    if bindir is None:
        raise LookupError("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package")
    run_as = _server_user()
    folder = tempfile.mkdtemp(prefix="extractor-pg-")
    if run_as:
        os.chown(folder, pwd.getpwnam("postgres").pw_uid, run_as["group"])
    server = PostgresServer(bindir, folder, _free_port(), run_as)
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
