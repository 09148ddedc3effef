"""Batch ingest: walk files, folders and .zip archives, parse in worker processes, store in SQLite.

Why a hand-made pool instead of ProcessPoolExecutor: a hung or crashed parse must cost one file, not
the batch. Each worker has its own pipe, so the parent knows which file a worker holds, can SIGKILL
just that worker when the file overruns its time limit, record the file as failed and start a fresh
worker. Workers run under an address-space limit (RLIMIT_AS) and are recycled after a number of files
to bound leaks. Only the parent writes to the database, one transaction per file.
"""

from __future__ import annotations

import faulthandler
import functools
import hashlib
import importlib.util
import io
import multiprocessing as mp
import os
import resource
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from extractor.report import Report
from extractor.store import database as storage

ParseFn = Callable[[str], Report]

DEFAULT_TIMEOUT = 120.0
DEFAULT_MEMORY_MB = 4096
MAX_TASKS_PER_CHILD = 200
MAX_ZIP_DEPTH = 3
MAX_MEMBER_BYTES = 512 * 1024 * 1024
# failures that depend on the moment (load, memory) rather than the file: retried on the next run
TRANSIENT_PREFIXES = ("timeout", "worker crashed", "out of memory", "unreadable on the worker")

_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "image (PNG)"),
    (b"\xff\xd8\xff", "image (JPEG)"),
    (b"BM", "image (BMP)"),
    (b"II*\x00", "image (TIFF)"),
    (b"MM\x00*", "image (TIFF)"),
)
_SKIP_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF8", "image (GIF)"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\x7fELF", "executable"),
    (b"Rar!", "RAR archive (not supported: unpack it first)"),
    (b"7z\xbc\xaf", "7z archive (not supported: unpack it first)"),
    (b"\x1f\x8b", "gzip file (not supported: unpack it first)"),
)


@dataclass
class Source:
    """One file to ingest: a path on disk, a member of a zip archive (held as bytes), or an fsspec URL."""

    display: str  # what the database records: the path, the URL, or 'archive.zip!member'
    path: str | None = None
    data: bytes | None = None
    url: str | None = None  # read by the cluster's workers (extractor.store.cluster), never by this process
    sha256: str = ""
    format: str = ""


@dataclass
class IngestSummary:
    total: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    pages: int = 0
    seconds: float = 0.0
    cross_findings: int = 0
    peak_worker_rss_mb: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    skips: list[tuple[str, str]] = field(default_factory=list)

    def text(self, limit: int = 20) -> str:
        """Human summary for the end of a run: counts, rate, and the first failures with reasons."""
        rate = self.ok / self.seconds if self.seconds > 0 else 0.0
        lines = [
            f"{self.total} files: {self.ok} ingested, {self.failed} failed, {self.skipped} skipped"
            f" in {self.seconds:.1f} s ({rate:.2f} reports/s, {self.pages} pages);"
            f" {self.cross_findings} cross-report findings"
        ]
        for path, reason in self.failures[:limit]:
            lines.append(f"  failed  {path}: {reason}")
        if len(self.failures) > limit:
            lines.append(f"  … and {len(self.failures) - limit} more failures")
        return "\n".join(lines)


# Record(index, status, payload, worker_rss_mb): status 'ok' with a Report, or 'failed' with a one-line reason
Record = Callable[[int, str, Any, float], None]


class Executor(Protocol):
    """Where files are found, hashed and parsed: `LocalPool` (the default) or a cluster
    (`extractor.store.cluster.DaskExecutor`). The parent alone checks the database and writes to it."""

    def sources(self, paths: list[str]) -> Iterator[Source | tuple[str, str]]:
        """Candidate files with sha256 and format set, or (display, reason) for a skipped one; in sorted order."""
        ...

    def run(self, todo: list[Source], record: Record) -> None:
        """Parse every source in `todo`; call `record` in this process once per source, in any order."""
        ...


@dataclass
class LocalPool:
    """Worker processes on this machine, under per-file time and memory limits (see the module docstring)."""

    workers: int | None = None
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int | None = DEFAULT_MEMORY_MB
    parse_fn: ParseFn | None = None
    max_tasks_per_child: int = MAX_TASKS_PER_CHILD

    def sources(self, paths: list[str]) -> Iterator[Source | tuple[str, str]]:
        return hashed(discover(paths))

    def run(self, todo: list[Source], record: Record) -> None:
        _run_pool(todo, record, self.workers, self.timeout, self.memory_mb, self.parse_fn, self.max_tasks_per_child)


# --------------------------------------------------------------------------------------------------
# discovering files


@functools.lru_cache(maxsize=1)
def _ocr_installed() -> bool:
    """Scanned pages saved as images are reports too, when the OCR extra can read them."""
    return all(importlib.util.find_spec(name) is not None for name in ("rapidocr_onnxruntime", "cv2"))


def _skip_reason(head: bytes) -> str | None:
    for magic, what in _IMAGE_MAGIC:
        if head.startswith(magic):
            return None if _ocr_installed() else f"{what}: reading scans needs the ocr extra (pip install 'extractor[ocr]')"
    for magic, what in _SKIP_MAGIC:
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return None if _ocr_installed() else "image (WEBP): reading scans needs the ocr extra (pip install 'extractor[ocr]')"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return "JSON data file"  # e.g. truth or export files next to the reports; no report starts with a brace
    return None


def _zip_kind(data_or_path: bytes | str) -> str:
    """'archive' for a plain zip, else why it is not one we walk into (Office/ODF package, broken)."""
    try:
        src = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
        with zipfile.ZipFile(src) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "broken"
    if "word/document.xml" in names:
        return "docx"
    if "[Content_Types].xml" in names or "mimetype" in names:
        return "office"
    return "archive"


def member_name(info: zipfile.ZipInfo) -> str:
    """Zip member names from Chinese Windows tools are GBK without the UTF-8 flag: decode them right."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _sniff(data: bytes) -> str:
    from extractor.readers import sniff

    return sniff(data)


def discover(paths: Iterable[str]) -> Iterator[Source | tuple[str, str]]:
    """Yield a Source for each candidate file, or (path, reason) for one skipped; sorted, deterministic."""
    for root in paths:
        if os.path.isdir(root):
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if name.startswith("."):
                        continue
                    yield from _file_sources(os.path.join(dirpath, name))
        elif os.path.exists(root):
            yield from _file_sources(root)
        else:
            yield (root, "not found")


def _file_sources(path: str) -> Iterator[Source | tuple[str, str]]:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        yield (path, f"cannot read: {exc.strerror or exc}")
        return
    reason = _skip_reason(head)
    if reason:
        yield (path, reason)
        return
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(path)
        if kind == "archive":
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                yield (path, f"cannot read: {exc.strerror or exc}")
                return
            yield from _zip_sources(path, data, 1)
            return
        if kind == "office":
            yield (path, "office document that is not DOCX (spreadsheet/presentation/ODF)")
            return
    yield Source(display=path, path=path)


def _zip_sources(display: str, data: bytes, depth: int) -> Iterator[Source | tuple[str, str]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = sorted(zf.infolist(), key=member_name)
    except (zipfile.BadZipFile, ValueError) as exc:
        yield (display, f"broken zip archive: {exc}")
        return
    for info in infos:
        name = member_name(info)
        base = name.rstrip("/").rsplit("/", 1)[-1]
        if info.is_dir() or base.startswith(".") or name.startswith("__MACOSX/"):
            continue
        member = f"{display}!{name}"
        if info.file_size > MAX_MEMBER_BYTES:
            yield (member, f"member larger than {MAX_MEMBER_BYTES // 2**20} MB")
            continue
        try:
            content = zf.read(info)
        except (RuntimeError, zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
            yield (member, f"cannot extract from archive: {exc}")
            continue
        reason = _skip_reason(content[:64])
        if reason:
            yield (member, reason)
            continue
        if content.startswith(b"PK\x03\x04"):
            kind = _zip_kind(content)
            if kind == "archive":
                if depth >= MAX_ZIP_DEPTH:
                    yield (member, "zip nested too deep")
                else:
                    yield from _zip_sources(member, content, depth + 1)
                continue
            if kind == "office":
                yield (member, "office document that is not DOCX (spreadsheet/presentation/ODF)")
                continue
        yield Source(display=member, data=content)


def _hash(src: Source) -> None:
    h = hashlib.sha256()
    head = b""
    if src.data is not None:
        h.update(src.data)
        head = src.data[:4096]
    else:
        assert src.path is not None
        with open(src.path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                if not head:
                    head = chunk[:4096]
                h.update(chunk)
    src.sha256 = h.hexdigest()
    src.format = _sniff(head) if head else "empty"


def hashed(items: Iterable[Source | tuple[str, str]]) -> Iterator[Source | tuple[str, str]]:
    """Discovered items with sha256 and format filled in by this process; an unreadable file is skipped."""
    for item in items:
        if isinstance(item, Source):
            try:
                _hash(item)
            except OSError as exc:
                yield (item.display, f"cannot read: {exc.strerror or exc}")
                continue
        yield item


# --------------------------------------------------------------------------------------------------
# worker processes


def _die_with_parent(parent_pid: int) -> None:
    """Make the kernel kill this worker when the parent dies (Linux), so a killed batch leaves no orphans."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        os._exit(1)


def _quiet_parse(path: str) -> Any:
    """`extractor.parse` without per-page OCR progress lines (they would cut through the batch's bar)."""
    from extractor import parse  # noqa: PLC0415 - imported in the worker, after the fork

    return parse(path, progress=lambda page, pages: None)


def _worker_main(conn: Connection, parse_fn: ParseFn | None, memory_mb: int | None, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    faulthandler.disable()  # a crash is recorded as the file's failure; no C traceback on the batch's stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ValueError, OSError):
            pass
    os.environ.setdefault("EXTRACTOR_OCR_THREADS", "1")  # one OCR thread per worker: workers already use every core
    if parse_fn is None:
        parse_fn = _quiet_parse
    from extractor.document import ReadError

    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, path, display = task
        restart = False
        try:
            report = parse_fn(path)
            report.path = display
            msg: tuple[Any, ...] = (index, "ok", report)
        except ReadError as exc:
            msg = (index, "failed", _one_line(str(exc)) or "unreadable file")
        except MemoryError:
            msg = (index, "failed", f"out of memory (limit {memory_mb} MB per worker)")
            restart = True
        except RecursionError:
            msg = (index, "failed", "parser error: recursion too deep")
            restart = True
        except Exception as exc:  # any parser bug costs this file only
            msg = (index, "failed", _one_line(f"parser error: {type(exc).__name__}: {exc}"))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        try:
            conn.send((*msg, rss))
        except MemoryError:
            conn.send((index, "failed", f"out of memory (limit {memory_mb} MB per worker)", rss))
            restart = True
        if restart:
            return


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text[:500]


class _Worker:
    def __init__(self, ctx: Any, parse_fn: ParseFn | None, memory_mb: int | None) -> None:
        parent_end, child_end = ctx.Pipe(duplex=True)
        self.conn: Connection = parent_end
        self.proc = ctx.Process(target=_worker_main, args=(child_end, parse_fn, memory_mb, os.getpid()), daemon=True)
        self.proc.start()
        child_end.close()
        self.task: int | None = None
        self.started = 0.0
        self.done = 0

    def give(self, index: int, path: str, display: str) -> None:
        self.conn.send((index, path, display))
        self.task, self.started = index, time.monotonic()

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def retire(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(5)
        self.kill()


def _exit_reason(proc: Any) -> str:
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return f"worker crashed ({name}: probably out of memory)"
        return f"worker crashed ({name})"
    return f"worker crashed (exit code {code})"


# --------------------------------------------------------------------------------------------------
# progress


class _Progress:
    """tqdm bar on a terminal, a plain line every few seconds otherwise, nothing when mode is 'none'."""

    def __init__(self, mode: str, total: int, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode, self.total = mode, total
        self.counts = {"ok": 0, "failed": 0, "skipped": 0}
        self.start = self.last = time.monotonic()
        self.bar = None
        if mode == "bar":
            from tqdm import tqdm

            tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked
            self.bar = tqdm(total=total, file=self.stream, unit="file", dynamic_ncols=True)

    def add(self, what: str) -> None:
        self.counts[what] += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(self.counts, refresh=False)
        elif self.mode == "lines":
            now = time.monotonic()
            if now - self.last >= 10 or self.done == self.total:
                self.last = now
                print(self.line(), file=self.stream, flush=True)

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        c = self.counts
        return (
            f"ingest: {self.done}/{self.total} ({c['ok']} ok, {c['failed']} failed, {c['skipped']} skipped)"
            f" {rate:.1f} files/s, ETA {int(eta // 60)}m{int(eta % 60):02d}s"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --------------------------------------------------------------------------------------------------
# the batch


def ingest(
    paths: Iterable[str],
    db_path: str,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    force: bool = False,
    aliases: str | dict[str, str] | None = None,
    progress: str = "auto",
    parse_fn: ParseFn | None = None,
    max_tasks_per_child: int = MAX_TASKS_PER_CHILD,
    executor: Executor | None = None,
) -> IngestSummary:
    """Ingest files/folders/zips into `db_path`; failures are recorded, never raised.

    `progress`: 'auto' (bar on a terminal, lines otherwise), 'bar', 'lines' or 'none'.
    `parse_fn` replaces `extractor.parse` (for experiments); it runs in the worker processes.
    `executor` says where files are read and parsed (default: a `LocalPool` built from the arguments
    above; `extractor.store.cluster.DaskExecutor` for a cluster, which carries its own limits).
    Raises `storage.StorageError` only when the database or alias file itself is unusable.
    """
    from extractor.version import PARSER_VERSION

    started = time.monotonic()
    summary = IngestSummary()
    if executor is None:
        executor = LocalPool(workers, timeout, memory_mb, parse_fn, max_tasks_per_child)
    conn = storage.connect(db_path)
    try:
        if isinstance(aliases, str):
            aliases = storage.load_aliases(aliases)
        if aliases:
            storage.merge_aliases(conn, aliases)
        alias_map = storage.stored_aliases(conn)
        storage.rekey_agencies(conn, alias_map)

        db_abs = os.path.abspath(db_path)
        todo: list[Source] = []
        skipped: list[tuple[str, str]] = []
        seen: dict[str, str] = {}
        for item in executor.sources(list(paths)):
            if isinstance(item, tuple):
                skipped.append(item)
                continue
            if item.path and os.path.abspath(item.path) in (db_abs, db_abs + "-wal", db_abs + "-shm"):
                continue
            if item.sha256 in seen:
                skipped.append((item.display, f"same content as {seen[item.sha256]}"))
                continue
            seen[item.sha256] = item.display
            known = storage.lookup(conn, item.sha256)
            if known and not force and known[0] == PARSER_VERSION:
                status, error = known[1], known[2] or ""
                if status == "ok" or not error.startswith(TRANSIENT_PREFIXES):
                    skipped.append((item.display, f"already ingested ({status})"))
                    continue
            todo.append(item)

        summary.total = len(todo) + len(skipped)
        summary.skips = skipped
        summary.skipped = len(skipped)
        bar = _Progress(progress, summary.total)
        for _ in skipped:
            bar.add("skipped")
        try:
            if todo:
                executor.run(todo, _Recorder(conn, todo, summary, bar, alias_map, PARSER_VERSION))
        finally:
            bar.close()
        summary.cross_findings = run_cross_checks(conn)
    finally:
        conn.close()
    summary.seconds = time.monotonic() - started
    return summary


class _Recorder:
    """The parent's side of a result: store the report (or the failure) and count it."""

    def __init__(
        self,
        conn: Any,
        todo: list[Source],
        summary: IngestSummary,
        bar: _Progress,
        alias_map: dict[str, str],
        parser_version: str,
    ) -> None:
        self.conn, self.todo, self.summary, self.bar = conn, todo, summary, bar
        self.alias_map, self.parser_version = alias_map, parser_version

    def __call__(self, index: int, status: str, payload: Any, rss: float = 0.0) -> None:
        src, summary = self.todo[index], self.summary
        summary.peak_worker_rss_mb = max(summary.peak_worker_rss_mb, rss)
        if status == "ok":
            report: Report = payload
            report.sha256 = src.sha256  # the parent's hash of the bytes it found (zip members included)
            report.parser_version = report.parser_version or self.parser_version
            reason = _not_a_report(report)
            if reason is None:
                try:
                    storage.write_report(self.conn, report, storage.agency_key(report.agency, self.alias_map))
                except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:  # a value SQLite refuses
                    payload = _one_line(f"cannot store the parsed report: {exc}")
                else:
                    summary.ok += 1
                    summary.pages += report.pages or 0
                    self.bar.add("ok")
                    return
            else:
                payload = reason
        storage.write_failure(self.conn, src.display, src.sha256, src.format, str(payload), self.parser_version)
        summary.failed += 1
        summary.failures.append((src.display, str(payload)))
        self.bar.add("failed")


def _run_pool(
    todo: list[Source],
    on_result: Record,
    workers: int | None,
    timeout: float,
    memory_mb: int | None,
    parse_fn: ParseFn | None,
    max_tasks: int,
) -> None:
    if not todo:
        return
    n = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    if parse_fn is None and ctx.get_start_method() == "fork":
        try:  # import the parser once in the parent; forked workers inherit it instead of each importing it
            import extractor.readers.docx  # noqa: F401
            import extractor.readers.pdf  # noqa: F401
        except Exception:
            pass
    tmp = tempfile.mkdtemp(prefix="extractor-ingest-")
    queue = deque(enumerate(todo))
    pool: list[_Worker] = []
    temp_files: dict[int, str] = {}

    def record(index: int, status: str, payload: Any, rss: float = 0.0) -> None:
        if index in temp_files:
            shutil.rmtree(os.path.dirname(temp_files.pop(index)), ignore_errors=True)
        on_result(index, status, payload, rss)

    try:
        while queue or any(w.task is not None for w in pool):
            for w in [w for w in pool if w.task is None and not w.proc.is_alive()]:
                pool.remove(w)
                w.kill()
            while queue and (len(pool) < n or any(w.task is None for w in pool)):
                idle = next((w for w in pool if w.task is None), None)
                if idle is None:
                    idle = _Worker(ctx, parse_fn, memory_mb)
                    pool.append(idle)
                index, src = queue.popleft()
                path = src.path
                if path is None:
                    folder = tempfile.mkdtemp(dir=tmp)
                    path = os.path.join(folder, src.display.rsplit("!", 1)[-1].rsplit("/", 1)[-1] or "member")
                    with open(path, "wb") as fh:
                        fh.write(src.data or b"")
                    src.data = None  # the bytes now live on disk; free them
                    temp_files[index] = path
                try:
                    idle.give(index, path, src.display)
                except OSError:  # worker died between tasks: replace it and retry this file
                    pool.remove(idle)
                    idle.kill()
                    queue.appendleft((index, src))
            busy = [w for w in pool if w.task is not None]
            if not busy:
                continue
            now = time.monotonic()
            wait_for = max(0.05, min(w.started + timeout for w in busy) - now)
            wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=min(wait_for, 1.0))
            for w in busy:
                index = w.task
                assert index is not None
                msg = None
                try:
                    if w.conn.poll():
                        msg = w.conn.recv()
                except (EOFError, OSError):
                    msg = None
                if msg is not None:
                    _, status, payload, rss = msg
                    w.task, w.done = None, w.done + 1
                    record(index, status, payload, rss)
                    if w.done >= max_tasks or (status == "failed" and str(payload).startswith("out of memory")):
                        pool.remove(w)
                        w.retire()
                elif not w.proc.is_alive():
                    pool.remove(w)
                    w.kill()
                    record(index, "failed", _exit_reason(w.proc))
                elif time.monotonic() - w.started > timeout:
                    pool.remove(w)
                    w.kill()
                    record(index, "failed", f"timeout after {timeout:g} s")
    finally:
        for w in pool:
            w.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def _not_a_report(report: Report) -> str | None:
    """Why a parsed file is not an annual report (no table, no section, no cell), or None."""
    if report.template or report.cells or any(s.found for s in report.sections):
        return None
    return "not an annual report: no statistics table and no report section found"


def run_cross_checks(conn: Any) -> int:
    """Recompute every cross-report finding from the stored reports; returns how many there are."""
    from extractor.checks.cross import cross_report

    loaded = storage.load_reports(conn)
    ids = {rep.sha256: rid for rid, _, rep in loaded}
    keys = {rep.sha256: key for _, key, rep in loaded}
    findings = cross_report([rep for _, _, rep in loaded], agency_key=lambda r: keys.get(r.sha256))
    rows = [
        {
            "report_id": ids[f.sha256],
            "other_report_id": ids.get(f.other_sha256 or ""),
            "agency_key": f.agency_key,
            "year": f.year,
            "other_year": f.other_year,
            "rule": f.rule,
            "severity": f.severity,
            "message": f.message,
            "codes": f.codes,
            "expected": f.expected,
            "actual": f.actual,
        }
        for f in findings
    ]
    return storage.replace_cross_findings(conn, rows)
