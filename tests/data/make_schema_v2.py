"""Made tests/data/schema_v2.db with extractor at commit 3ad16f0 (schema v2, before the SQLAlchemy port).

Kept to show how the fixture was made; it only runs against that old code (`git worktree add … 3ad16f0`).
"""

import shutil
import tempfile
from pathlib import Path

from extractor.store import database as storage
from extractor.store import review
from extractor.store.ingest import ingest

REAL = Path("fixtures/real")
OUT = Path("tests/data/schema_v2.db")

with tempfile.TemporaryDirectory() as tmp:
    folder = Path(tmp) / "in"
    folder.mkdir()
    for name in ("hzq2023.pdf", "seed2020.txt", "pingtan2019.html", "pingtan2020.html"):
        shutil.copy(REAL / name, folder / name)
    db = Path(tmp) / "v2.db"
    ingest([str(folder)], str(db), workers=1, progress="none")
    conn = storage.connect(str(db))
    fp = conn.execute("SELECT fingerprint FROM findings WHERE rule='t4.group_total' ORDER BY id").fetchone()[0]
    review.record(conn, fp, "corrected", "张三", note="复议总计应为 11", value="11", when="2026-11-30T08:00:00Z")
    fp2 = conn.execute("SELECT fingerprint FROM findings WHERE rule='t3.column_sum' ORDER BY id").fetchone()[0]
    review.record(conn, fp2, "confirmed", "李四", when="2026-11-30T08:05:00Z")
    review.record(conn, fp2, "dismissed", "李四", note="复核后不成立", when="2026-11-30T08:10:00Z")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("UPDATE reports SET path = replace(path, ?, 'in')", (str(folder),))
    conn.execute("VACUUM")
    conn.close()
    shutil.copy(db, OUT)
