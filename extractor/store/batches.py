"""Upload batches: the files a reviewer sent together, kept by content, ingested in the background.

An uploaded file is stored under the data folder as `originals/<sha256[:2]>/<sha256>.<ext>`, the
extension chosen from the bytes (never from the name the user gave: that name is only shown). A zip
is opened by the ingest engine's own walker and each member is stored the same way, by its sha256,
so no member is ever written under its own name. The batch then goes through `ingest.ingest` (its
worker processes, time and memory limits per file); progress is read from the reports table while it
runs, and every file ends ok, failed (the reason), skipped (why) or duplicate (a copy of a report
already present).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import Connection, delete, func, insert, select, update

from extractor.store.schema import batch_files, batches, reports

STATES = ("queued", "running", "done")
FILE_STATUSES = ("queued", "ok", "failed", "skipped", "duplicate")
STATUS_LABELS = {"queued": "排队中", "ok": "已读取", "failed": "读取失败", "skipped": "已跳过", "duplicate": "重复文件"}
STATE_LABELS = {"queued": "排队中", "running": "处理中", "done": "已完成"}
EXTENSIONS = {"pdf": "pdf", "docx": "docx", "doc": "doc", "rtf": "rtf", "html": "html", "mht": "mht", "text": "txt", "image": "img", "zip": "zip"}
CHUNK = 1 << 20


class TooLarge(ValueError):
    """A file over the size limit."""


@dataclass
class BatchFile:
    name: str
    status: str
    reason: str | None = None
    report_id: int | None = None
    sha256: str | None = None


@dataclass
class BatchView:
    id: int
    state: str
    created_by: str
    created_at: str
    error: str | None
    files: list[BatchFile] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for f in self.files if f.status != "queued")

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(FILE_STATUSES, 0)
        for f in self.files:
            out[f.status] += 1
        return out


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------------
# originals on disk


def store_original(data_dir: str, stream: IO[bytes], limit: int | None = None) -> tuple[str, str, int]:
    """Copy `stream` under the data folder by its sha256: (sha256, stored path, size). Raises TooLarge."""
    tmp_dir = os.path.join(data_dir, "tmp")
    os.makedirs(tmp_dir, exist_ok=True)
    digest, size, head = hashlib.sha256(), 0, b""
    fd, tmp = tempfile.mkstemp(dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise TooLarge(f"超过单个文件 {limit // 2**20} MB 的上限")
                if len(head) < 1 << 16:
                    head += chunk[: (1 << 16) - len(head)]
                digest.update(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        path = _original_path(data_dir, sha, _format(tmp, head))
        if os.path.exists(path):
            os.unlink(tmp)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.replace(tmp, path)
        return sha, path, size
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def store_bytes(data_dir: str, data: bytes) -> tuple[str, str, int]:
    import io

    return store_original(data_dir, io.BytesIO(data))


def _format(path: str, head: bytes) -> str:
    from extractor.readers import sniff

    if head.startswith(b"PK\x03\x04"):  # a zip's kind needs its directory, at the end of the file
        with open(path, "rb") as fh:
            return sniff(fh.read())
    return sniff(head)


def _original_path(data_dir: str, sha: str, fmt: str) -> str:
    return os.path.join(data_dir, "originals", sha[:2], f"{sha}.{EXTENSIONS.get(fmt, 'bin')}")


# --------------------------------------------------------------------------------------------------
# batches in the database


def create(conn: Connection, by: str, files: Iterable[tuple[str, str | None, int | None, str | None, str | None]]) -> int:
    """A queued batch of (name, sha256, size, stored path, refusal reason) rows; a refused file is failed."""
    batch_id = conn.execute(insert(batches).values(created_by=by, created_at=_now(), state="queued")).inserted_primary_key[0]
    rows = [
        {"batch_id": batch_id, "idx": i, "name": name, "sha256": sha, "size": size, "stored": stored,
         "status": "failed" if refused else "queued", "reason": refused}
        for i, (name, sha, size, stored, refused) in enumerate(files)
    ]  # fmt: skip
    if rows:
        conn.execute(insert(batch_files), rows)
    return int(batch_id)


def unfinished(conn: Connection) -> list[int]:
    """Batches not done (queued, or running when the server stopped): to run (again) at start-up."""
    return [r.id for r in conn.execute(select(batches.c.id).where(batches.c.state != "done").order_by(batches.c.id))]


def view(conn: Connection, batch_id: int) -> BatchView | None:
    """The batch with each file's outcome; a file still queued shows its report once ingest stored it."""
    b = conn.execute(select(batches).where(batches.c.id == batch_id)).first()
    if b is None:
        return None
    out = BatchView(b.id, b.state, b.created_by, b.created_at, b.error)
    rows = conn.execute(select(batch_files).where(batch_files.c.batch_id == batch_id).order_by(batch_files.c.idx, batch_files.c.id)).all()
    live: dict[str, Any] = {}
    if b.state == "running" and b.started_at:
        shas = [r.sha256 for r in rows if r.status == "queued" and r.sha256]
        if shas:
            live = {
                r.sha256: r
                for r in conn.execute(
                    select(reports.c.id, reports.c.sha256, reports.c.status, reports.c.error).where(
                        reports.c.sha256.in_(shas), reports.c.ingested_at >= b.started_at
                    )
                )
            }
    ids = _report_ids(conn, [r.sha256 for r in rows if r.sha256 and r.status in ("ok", "duplicate")])
    for r in rows:
        if r.status == "queued" and r.sha256 in live:
            rep = live[r.sha256]
            out.files.append(BatchFile(r.name, "ok" if rep.status == "ok" else "failed", rep.error, rep.id, r.sha256))
        else:
            out.files.append(BatchFile(r.name, r.status, r.reason, ids.get(r.sha256 or ""), r.sha256))
    return out


def _report_ids(conn: Connection, shas: list[str]) -> dict[str, int]:
    if not shas:
        return {}
    return {r.sha256: r.id for r in conn.execute(select(reports.c.id, reports.c.sha256).where(reports.c.sha256.in_(shas)))}


def recent(conn: Connection, limit: int = 20) -> list[int]:
    return [r.id for r in conn.execute(select(batches.c.id).order_by(batches.c.id.desc()).limit(limit))]


def uploaded_names(conn: Connection, shas: Iterable[str]) -> dict[str, str]:
    """The name each stored content was first uploaded under (for showing, never for paths)."""
    shas = list(shas)
    if not shas:
        return {}
    rows = conn.execute(
        select(batch_files.c.sha256, func.min(batch_files.c.id).label("first"))
        .where(batch_files.c.sha256.in_(shas))
        .group_by(batch_files.c.sha256)
    ).all()
    firsts = [r.first for r in rows]
    if not firsts:
        return {}
    return dict(conn.execute(select(batch_files.c.sha256, batch_files.c.name).where(batch_files.c.id.in_(firsts))).all())


# --------------------------------------------------------------------------------------------------
# running one batch (in a background process)


def run(
    database: Any,
    db: str,
    data_dir: str,
    batch_id: int,
    workers: int | None = None,
    timeout: float | None = None,
    memory_mb: int | None = None,
    rules: str | None = None,
) -> None:
    """Expand zips, mark copies, ingest the rest, record each file's outcome; the batch ends 'done'.
    `database`: the open store.database.Database of `db` (the target ingest opens itself).
    `rules`: the office's rules file (tolerances, severities), applied as the files are checked."""
    from extractor.store import ingest as engine_ingest

    with database.begin() as conn:
        conn.execute(update(batches).where(batches.c.id == batch_id).values(state="running", started_at=_now(), error=None))
    try:
        with database.begin() as conn:
            _expand_zips(conn, data_dir, batch_id)
            todo = _mark_copies(conn, batch_id)
        summary = None
        if todo:
            kwargs: dict[str, Any] = {"progress": "none", "workers": workers}
            if timeout:
                kwargs["timeout"] = timeout
            if memory_mb:
                kwargs["memory_mb"] = memory_mb
            if rules:
                from extractor.api import ConfiguredParse
                from extractor.checks.settings import RulesConfigError, load

                try:
                    kwargs["parse_fn"] = ConfiguredParse(load(rules))
                except RulesConfigError:
                    pass  # refused when saved; a file broken by hand is not applied
            summary = engine_ingest.ingest(sorted({path for _, path in todo}), db, **kwargs)
        with database.begin() as conn:
            _finish(conn, batch_id, dict(summary.skips) if summary else {})
            conn.execute(update(batches).where(batches.c.id == batch_id).values(state="done", finished_at=_now()))
    except Exception as exc:  # the batch ends visibly failed; its files keep their rows
        with database.begin() as conn:
            abandon(conn, batch_id, f"{type(exc).__name__}: {exc}")


def abandon(conn: Connection, batch_id: int, reason: str) -> None:
    """End a batch that could not finish: its unfinished files fail with the reason, nothing is dropped."""
    conn.execute(
        update(batch_files)
        .where(batch_files.c.batch_id == batch_id, batch_files.c.status == "queued")
        .values(status="failed", reason=f"处理中断：{reason}"[:500])
    )
    conn.execute(update(batches).where(batches.c.id == batch_id).values(state="done", finished_at=_now(), error=reason[:500]))


def _expand_zips(conn: Connection, data_dir: str, batch_id: int) -> None:
    """Replace each queued zip by its members (stored by sha256), or by why nothing in it is read."""
    from extractor.store.ingest import Source, discover

    rows = conn.execute(
        select(batch_files).where(batch_files.c.batch_id == batch_id, batch_files.c.status == "queued", batch_files.c.stored.like("%.zip"))
    ).all()
    for row in rows:
        members = []
        for item in discover([row.stored]):
            if isinstance(item, Source):
                display = row.name + item.display[len(row.stored):].replace("!", "/", 1) if item.display.startswith(row.stored) else row.name
                if item.error:  # failed in discovery (over a limit, damaged member): visible, with its reason
                    members.append({"name": display, "sha256": None, "size": None, "stored": None, "status": "failed", "reason": item.error})
                    continue
                data = item.data if item.data is not None else _take(item.path)  # members are extracted to a temporary file
                sha, path, size = store_bytes(data_dir, data)
                members.append({"name": display, "sha256": sha, "size": size, "stored": path, "status": "queued", "reason": None})
            else:
                display, reason = item
                shown = row.name + display[len(row.stored):].replace("!", "/", 1) if display.startswith(row.stored) else row.name
                members.append({"name": shown, "sha256": None, "size": None, "stored": None, "status": "skipped", "reason": reason})
        if not members:
            conn.execute(update(batch_files).where(batch_files.c.id == row.id).values(status="skipped", reason="压缩包中没有文件"))
            continue
        conn.execute(delete(batch_files).where(batch_files.c.id == row.id))
        conn.execute(insert(batch_files), [{"batch_id": batch_id, "idx": row.idx, **m} for m in members])


def _take(path: str | None) -> bytes:
    """The bytes of a member discovery extracted to a temporary file, removing the file."""
    if path is None:
        return b""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def _mark_copies(conn: Connection, batch_id: int) -> list[tuple[int, str]]:
    """Mark files whose content is already a stored report (or earlier in this batch); the rest to ingest."""
    rows = conn.execute(
        select(batch_files).where(batch_files.c.batch_id == batch_id, batch_files.c.status == "queued").order_by(batch_files.c.idx, batch_files.c.id)
    ).all()
    known = {
        r.sha256: r
        for r in conn.execute(
            select(reports.c.sha256, reports.c.status, reports.c.agency, reports.c.year).where(reports.c.sha256.in_([r.sha256 for r in rows]))
        )
    }
    todo, first = [], {}
    for r in rows:
        if r.sha256 in first:
            _set(conn, r.id, "duplicate", f"与本批的 {first[r.sha256]} 内容相同")
        elif r.sha256 in known and known[r.sha256].status == "ok":
            k = known[r.sha256]
            _set(conn, r.id, "duplicate", f"与已有报告相同（{k.agency or '未识别机构'} {k.year or ''}）".replace(" ）", "）"))
        else:
            todo.append((r.id, r.stored))
        first.setdefault(r.sha256, r.name)
    return todo


def _finish(conn: Connection, batch_id: int, skips: dict[str, str]) -> None:
    rows = conn.execute(select(batch_files).where(batch_files.c.batch_id == batch_id, batch_files.c.status == "queued")).all()
    stored = {
        r.sha256: r
        for r in conn.execute(select(reports.c.sha256, reports.c.status, reports.c.error).where(reports.c.sha256.in_([r.sha256 for r in rows])))
    }
    for r in rows:
        rep = stored.get(r.sha256)
        if rep is not None:
            _set(conn, r.id, "ok" if rep.status == "ok" else "failed", rep.error)
        elif r.stored in skips:
            _set(conn, r.id, "skipped", skips[r.stored])
        else:
            _set(conn, r.id, "failed", "未能处理（原因不明）")


def _set(conn: Connection, row_id: int, status: str, reason: str | None) -> None:
    conn.execute(update(batch_files).where(batch_files.c.id == row_id).values(status=status, reason=reason))


def remove_tmp(data_dir: str) -> None:
    shutil.rmtree(os.path.join(data_dir, "tmp"), ignore_errors=True)
