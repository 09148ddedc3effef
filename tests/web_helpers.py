"""Shared set-up of the review-workspace tests: a database with users, and the real fixtures."""

from __future__ import annotations

import time
from pathlib import Path

from builders import REAL

from extractor.store import accounts
from extractor.store.database import connect

PASSWORD = "correct horse 1"
USERS = {"admin": "admin", "rita": "reviewer", "rolf": "reviewer", "vera": "viewer"}
CORRUPT = b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a PDF body\n%%EOF\n"


def make_users(db: str) -> None:
    store = connect(db)
    with store.begin() as conn:
        for name, role in USERS.items():
            accounts.add_user(conn, name, role, PASSWORD)
    store.close()


def xss_report(folder: Path) -> Path:
    """kewei2024.md with a script tag in a table row's text (it ends up in the cells' labels)."""
    text = (REAL / "kewei2024.md").read_text(encoding="utf-8")
    row = "| 一、本年新收政府信息公开申请数量 | 32 |"
    assert row in text
    path = folder / "xss2024.md"
    path.write_text(text.replace(row, "| 一、本年新收政府信息公开申请数量 | 32<script>alert(1)</script> |"), encoding="utf-8")
    return path


def wait_done(get_state, seconds: float = 240) -> None:
    """Poll until a batch is done (bounded: the batch runs real parses in worker processes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if get_state() == "done":
            return
        time.sleep(0.5)
    raise AssertionError(f"batch not done after {seconds} s")
