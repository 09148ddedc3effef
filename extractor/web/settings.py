"""Settings of the review workspace, as plain data (one object, passed to `create_app`)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass


@dataclass
class Settings:
    db: str  # SQLite path or database URL (the same database `extractor ingest` writes)
    data_dir: str  # uploaded originals (by sha256), the session signing key, temporary files
    idle_minutes: int = 60  # a session unused this long ends
    max_file_mb: int = 100  # one uploaded file
    max_files: int = 500  # files in one upload
    max_upload_mb: int = 2048  # one upload request in all
    login_attempts: int = 5  # failed logins allowed per user name and per address …
    login_window_s: int = 300  # … within this many seconds
    workers: int | None = None  # ingest worker processes (default: one per core)
    timeout_s: float | None = None  # per file (default: ingest's)
    memory_mb: int | None = None  # per worker (default: ingest's)
    run_batches: bool = True  # run uploaded batches in the background (off only in tests that want to look at a queue)
    secure_cookies: bool = False  # set when served over https (behind a proxy)

    @property
    def idle_seconds(self) -> float:
        return self.idle_minutes * 60.0

    def secret_key(self) -> bytes:
        """The key that signs cookies, kept in the data folder (0600) so sessions survive a restart."""
        path = os.path.join(self.data_dir, "secret_key")
        if not os.path.exists(path):
            os.makedirs(self.data_dir, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                pass
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_urlsafe(48))
        with open(path, encoding="ascii") as fh:
            return fh.read().strip().encode("ascii")
