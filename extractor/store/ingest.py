"""Batch ingest: walk files, folders and .zip archives, parse in worker processes, store in the database.

Why a hand-made pool instead of ProcessPoolExecutor: a hung or crashed parse must cost one file, not
the batch. Each worker has its own pipe, so the parent knows which file a worker holds, can SIGKILL
just that worker when the file overruns its time or memory limit, record the file as failed and start
a fresh worker. Workers run under the guard's limits (`extractor.guard.apply_limits`: an OS memory
limit, death with the parent, temporary files in a folder the parent removes) and are recycled after
a number of files to bound leaks; a worker that hit a limit says so and is replaced before its next
file. Only the parent writes to the database, one transaction per file; a failure that depends on the
moment (a timeout under load, a busy database, a kill from outside) is retried on the next run, a
failure the file causes is final. Several ingests may
run on one database at once (see store/database.py); each ends by recomputing the cross-report
findings and canonical copies from everything stored.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import multiprocessing as mp
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

import sqlalchemy as sa

from extractor.guard import apply_limits, crash_reason, memory_error, quiet_stderr, rss_mb, settle_gc
from extractor.lexicon.labels import failure_text, reason_text
from extractor.readers import printable
from extractor.readers.limits import DEFAULT_LIMITS, MB, Limits, over
from extractor.report import Report
from extractor.store import database as storage

ParseFn = Callable[[str], Report]

DEFAULT_TIMEOUT = DEFAULT_LIMITS.timeout
DEFAULT_MEMORY_MB = DEFAULT_LIMITS.memory_mb
MAX_TASKS_PER_CHILD = 200
MAX_ZIP_DEPTH = 3
OCR_HINT = "pip install 'zfxxgk-extractor[ocr]'"
# failures that depend on the moment rather than the file: retried on the next run
TRANSIENT_KINDS = ("timeout", "transient")
# rows stored before kinds were, and reasons given as text by an executor
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
    """One file to ingest: a path on disk (a zip member is extracted to a temporary file first), or
    an fsspec URL."""

    display: str  # what the database records: the path, the URL, or 'archive.zip!member' (printable)
    path: str | None = None
    data: bytes | None = None  # the bytes, for executors that ship them instead of a path
    url: str | None = None  # read by the cluster's workers (extractor.store.cluster), never by this process
    sha256: str = ""
    format: str = ""
    raw_name: bytes | None = None  # the name as bytes when it is not UTF-8 (stored losslessly)
    temporary: bool = False  # `path` is this run's extracted copy of a member, removed once parsed
    error: str = ""  # failed before parsing (discovery): the reason, and its kind
    error_kind: str = ""


SKIPS_SHOWN = 5  # skipped files named per reason in the summary


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
    kinds: dict[str, str] = field(default_factory=dict)  # display -> kind of its failure

    def text(self, limit: int = 50) -> str:
        """The end of a run, in words: how many files came in, were read, failed and were skipped;
        every failed file with its reason (the first `limit`), skipped files by reason (the first
        few of each: a folder's 500 truth or data files are not news)."""
        rate = self.ok / self.seconds if self.seconds > 0 else 0.0
        lines = [
            f"收到 {self.total} 个文件：读取 {self.ok} 个，未能读取 {self.failed} 个，跳过 {self.skipped} 个"
            f"（用时 {self.seconds:.1f} 秒，{rate:.2f} 份/秒，共 {self.pages} 页）；跨报告发现 {self.cross_findings} 条"
        ]
        for path, reason in self.failures[:limit]:
            lines.append(f"  未能读取  {path}：{failure_text(reason, self.kinds.get(path))}")
        if len(self.failures) > limit:
            lines.append(f"  …另有 {len(self.failures) - limit} 个文件未能读取（见审核报告「未能读取的文件」）")
        by_reason: dict[str, list[str]] = {}
        for path, reason in self.skips:
            by_reason.setdefault(reason_text(reason), []).append(path)
        for reason, paths in by_reason.items():
            shown = "、".join(paths[:SKIPS_SHOWN]) + (f" 等 {len(paths)} 个" if len(paths) > SKIPS_SHOWN else "")
            lines.append(f"  跳过（{reason}）：{shown}")
        return "\n".join(lines)


# Record(index, status, payload, worker_rss_mb): status 'ok' with a Report, or 'failed' with a
# (one-line reason, kind) pair (a plain reason string is accepted too)
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
    limits: Limits = DEFAULT_LIMITS

    def _limits(self) -> Limits:
        return self.limits.replace(timeout=self.timeout, memory_mb=self.memory_mb)

    def sources(self, paths: list[str]) -> Iterator[Source | tuple[str, str]]:
        return hashed(discover(paths, self._limits()))

    def run(self, todo: list[Source], record: Record) -> None:
        _run_pool(todo, record, self.workers, self._limits(), self.parse_fn, self.max_tasks_per_child)


# --------------------------------------------------------------------------------------------------
# discovering files
#
# Discovery runs in the parent and must never end the run: every archive member is streamed to a
# temporary file (never held in memory), bounded by the per-file size and ratio limits and by the
# time limit, and any exception becomes a failed row for that source.


@functools.lru_cache(maxsize=1)
def _ocr_installed() -> bool:
    """Scanned pages saved as images are reports too, when the OCR extra can read them."""
    return all(importlib.util.find_spec(name) is not None for name in ("rapidocr_onnxruntime", "cv2"))


def _skip_reason(head: bytes) -> str | None:
    for magic, what in _IMAGE_MAGIC:
        if head.startswith(magic):
            return None if _ocr_installed() else f"{what}: reading scans needs the ocr extra ({OCR_HINT})"
    for magic, what in _SKIP_MAGIC:
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return None if _ocr_installed() else f"image (WEBP): reading scans needs the ocr extra ({OCR_HINT})"
    if head.startswith(b"{\\rtf"):
        return None  # RTF starts with a brace too
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return "JSON data file"  # e.g. truth or export files next to the reports; no report starts with a brace
    return None


def _zip_kind(data_or_path: bytes | str) -> str:
    """'archive' for a plain zip, else why it is not one we walk into (Office/ODF package, broken)."""
    try:
        src = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
        with zipfile.ZipFile(src) as zf:
            names = set(zf.namelist())
    except Exception:  # noqa: BLE001 - zipfile raises many types for damaged directories
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


def _failed(display: str, reason: str, kind: str, raw: bytes | None = None) -> Source:
    """A source that failed before parsing (too large, unreadable member): a failed row keyed by its
    name, so reruns see it and skip it like any final failure."""
    key = hashlib.sha256(b"unparsed:" + (raw or display.encode("utf-8"))).hexdigest()
    return Source(display=display, sha256=key, format="unknown", error=_one_line(reason), error_kind=kind, raw_name=raw)


def _names(path: str) -> tuple[str, bytes | None]:
    """(printable name, raw bytes when the name is not UTF-8) of a path from the file system."""
    shown = printable(path)
    return shown, (os.fsencode(path) if shown != path else None)


def discover(paths: Iterable[str], limits: Limits | None = None, workdir: str | None = None) -> Iterator[Source | tuple[str, str]]:
    """Yield a Source for each candidate file, or (path, reason) for one skipped; sorted, deterministic.
    Zip members are extracted into `workdir` (default: this run's temporary folder)."""
    limits = limits or DEFAULT_LIMITS
    workdir = workdir or _workdir()
    for root in paths:
        try:
            yield from _root_sources(root, limits, workdir)
        except Exception as exc:  # noqa: BLE001 - one unlistable root costs itself, not the batch
            shown, raw = _names(root)
            yield _failed(shown, f"cannot be listed: {exc.__class__.__name__}: {exc}", "corrupt", raw)


def _root_sources(root: str, limits: Limits, workdir: str) -> Iterator[Source | tuple[str, str]]:
    if os.path.isdir(root):
        problems: list[OSError] = []
        for dirpath, dirnames, filenames in os.walk(root, onerror=problems.append):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if name.startswith("."):
                    yield (printable(path), "hidden file (its name starts with '.')")
                    continue
                yield from _guarded(_file_sources, path, limits, workdir)
        for exc in problems:
            yield (printable(exc.filename or root), f"cannot list the folder: {exc.strerror or exc}")
    elif os.path.lexists(root):
        yield from _guarded(_file_sources, root, limits, workdir)
    else:
        yield (printable(root), "not found")


def _guarded(fn: Callable[..., Iterator[Source | tuple[str, str]]], path: str, *args: Any) -> Iterator[Source | tuple[str, str]]:
    try:
        yield from fn(path, *args)
    except Exception as exc:  # noqa: BLE001 - zipfile, zlib and the OS raise many types for damaged input
        shown, raw = _names(path)
        yield _failed(shown, f"cannot be read: {exc.__class__.__name__}: {exc}", "corrupt", raw)


def _file_sources(path: str, limits: Limits, workdir: str) -> Iterator[Source | tuple[str, str]]:
    shown, raw = _names(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        yield (shown, f"cannot read: {exc.strerror or exc}")
        return
    if not stat.S_ISREG(info.st_mode):
        yield (shown, "not a regular file (a FIFO, device or socket): not read")
        return
    if info.st_size > limits.max_file_mb * MB:
        yield _failed(shown, str(over("the file is", info.st_size / MB, "max_file_mb", limits.max_file_mb, "MB")), "too_large", raw)
        return
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        yield (shown, f"cannot read: {exc.strerror or exc}")
        return
    reason = _skip_reason(head)
    if reason:
        yield (shown, reason)
        return
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(path)
        if kind == "archive":
            yield from _zip_sources(shown, path, 1, limits, workdir, raw)
            return
        if kind == "office":
            yield (shown, "office document that is not DOCX (spreadsheet/presentation/ODF)")
            return
    yield Source(display=shown, path=path, raw_name=raw)


def _zip_sources(
    display: str, archive: str | bytes, depth: int, limits: Limits | None = None, workdir: str | None = None, raw: bytes | None = None
) -> Iterator[Source | tuple[str, str]]:
    """The members of a zip archive (a path, or its bytes), each extracted to a file in `workdir`."""
    limits, workdir = limits or DEFAULT_LIMITS, workdir or _workdir()
    try:
        zf = zipfile.ZipFile(io.BytesIO(archive) if isinstance(archive, bytes) else archive)
        infos = sorted(zf.infolist(), key=member_name)
    except Exception as exc:  # noqa: BLE001 - a damaged central directory
        yield _failed(display, f"broken zip archive: {exc.__class__.__name__}: {exc}", "corrupt", raw)
        return
    with zf:
        if len(infos) > limits.max_zip_members:
            yield _failed(display, str(over("the ZIP file has", len(infos), "max_zip_members", limits.max_zip_members, "members")), "too_large", raw)
            return
        for info in infos:
            name = member_name(info)
            member = f"{display}!{name}"
            member_raw = raw + b"!" + name.encode("utf-8") if raw else None
            try:
                yield from _member_sources(zf, info, member, member_raw, depth, limits, workdir)
            except Exception as exc:  # noqa: BLE001 - NotImplementedError (zip version), zlib.error, CRC, …
                yield _failed(member, f"cannot extract from archive: {exc.__class__.__name__}: {exc}", "corrupt", member_raw)


def _member_sources(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: str, raw: bytes | None, depth: int, limits: Limits, workdir: str
) -> Iterator[Source | tuple[str, str]]:
    name = member.rsplit("!", 1)[-1]
    base = name.rstrip("/").rsplit("/", 1)[-1]
    if info.is_dir():
        return
    if name.startswith("__MACOSX/"):
        yield (member, "macOS resource data (__MACOSX), not a document")
        return
    if base.startswith("."):
        yield (member, "hidden file (its name starts with '.')")
        return
    if info.file_size > limits.max_file_mb * MB:
        yield _failed(member, str(over("the member is", info.file_size / MB, "max_file_mb", limits.max_file_mb, "MB")), "too_large", raw)
        return
    if info.file_size > MB and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
        ratio = info.file_size / max(info.compress_size, 1)
        yield _failed(member, str(over("the member's compression ratio is", ratio, "max_zip_ratio", limits.max_zip_ratio)), "too_large", raw)
        return
    path, sha256, head = _extract(zf, info, base, limits, workdir)
    reason = _skip_reason(head)
    if reason:
        os.unlink(path)
        yield (member, reason)
        return
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(path)
        if kind in ("archive", "office"):
            try:
                if kind == "office":
                    yield (member, "office document that is not DOCX (spreadsheet/presentation/ODF)")
                elif depth >= MAX_ZIP_DEPTH:
                    yield _failed(member, f"zip archives nested more than {MAX_ZIP_DEPTH} deep", "too_large", raw)
                else:
                    yield from _zip_sources(member, path, depth + 1, limits, workdir, raw)
            finally:
                os.unlink(path)
            return
    yield Source(display=member, path=path, sha256=sha256, format=_sniff(head) if head else "empty", raw_name=raw, temporary=True)


_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}$")


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, base: str, limits: Limits, workdir: str) -> tuple[str, str, bytes]:
    """Stream one member into a new file in `workdir` (never by its own name: no path from the archive
    reaches the file system, only a short extension); returns (path, sha256, first 4 KB)."""
    match = _SAFE_SUFFIX.search(base)
    fd, path = tempfile.mkstemp(dir=workdir, suffix=match.group(0).lower() if match else "")
    digest, head, size = hashlib.sha256(), b"", 0
    deadline = time.monotonic() + limits.timeout
    try:
        with os.fdopen(fd, "wb") as out, zf.open(info) as src:
            while chunk := src.read(1 << 20):
                size += len(chunk)
                if size > limits.max_file_mb * MB:
                    raise OSError(str(over("the member is", size / MB, "max_file_mb", limits.max_file_mb, "MB", more=True)))
                if time.monotonic() > deadline:
                    raise OSError(f"extracting took longer than {limits.timeout:g} s: --timeout")
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path, digest.hexdigest(), head


def _hash(src: Source) -> None:
    if src.sha256:
        return  # hashed while it was extracted
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
# this run's temporary folder


_WORKDIR: list[str] = []
TEMP_PREFIX = "extractor-ingest-"


def _workdir() -> str:
    """This process's temporary folder for extracted members and workers' files, named with its pid
    so a later run can tell a folder left by a killed run from one in use."""
    if not _WORKDIR or not os.path.isdir(_WORKDIR[0]):
        _WORKDIR[:] = [tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-")]
    return _WORKDIR[0]


def _drop_workdir() -> None:
    if _WORKDIR:
        shutil.rmtree(_WORKDIR.pop(), ignore_errors=True)


def clean_stale_temp(root: str | None = None) -> int:
    """Remove temporary folders left by killed runs (ingest's and the guard's) whose process is gone;
    returns how many. Folders without a pid in their name are removed after a day."""
    root = root or tempfile.gettempdir()
    removed = 0
    try:
        names = os.listdir(root)
    except OSError:
        return 0
    for name in names:
        match = re.match(r"extractor-(?:ingest|guard)-(\d+)-", name)
        if not match and not name.startswith(TEMP_PREFIX):
            continue
        path = os.path.join(root, name)
        if match:
            stale = int(match.group(1)) != os.getpid() and not _alive(int(match.group(1)))
        else:
            try:
                stale = time.time() - os.stat(path).st_mtime > 86400
            except OSError:
                continue
        if stale and os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # no cheap check without extra packages: keep the folder
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True

# --------------------------------------------------------------------------------------------------
# worker processes


def _die_with_parent(parent_pid: int) -> None:
    """Make the kernel kill this process when the parent dies (Linux), so a killed batch leaves no
    orphans; exit at once if the parent is already gone. (Also used by the web's batch process.)"""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:
        os._exit(1)


def _quiet_parse(path: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """`extractor.parse` without per-page OCR progress lines (they would cut through the batch's bar)."""
    from extractor import parse  # noqa: PLC0415 - imported in the worker, after the fork

    return parse(path, progress=lambda page, pages: None, limits=limits)


def _peak_rss_mb() -> float:
    try:
        import resource  # POSIX only
    except ImportError:
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _worker_main(conn: Connection, parse_fn: ParseFn | None, limits: Limits | int | None, parent_pid: int, workdir: str | None = None) -> None:
    """Parse files sent over `conn` until told to stop. After a MemoryError or RecursionError the
    worker says it retires with its answer (the message's last field), so the parent replaces it
    before giving it another file. `limits` may be just a memory limit in MB (the cluster's children)."""
    if not isinstance(limits, Limits):
        limits = DEFAULT_LIMITS.replace(memory_mb=limits)
    apply_limits(limits, workdir)  # memory limit, dies with the parent, temporary files under workdir
    _die_with_parent(parent_pid)
    quiet_stderr()  # a crash is recorded as the file's failure; no C traceback on the batch's stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    os.environ.setdefault("EXTRACTOR_OCR_THREADS", "1")  # one OCR thread per worker: workers already use every core
    from extractor.document import ReadError

    settle_gc()

    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, path, display = task
        retire = False
        try:
            report = parse_fn(path) if parse_fn is not None else _quiet_parse(path, limits)
            report.path = display
            msg: tuple[Any, ...] = (index, "ok", report)
        except ReadError as exc:
            msg = (index, "failed", (_one_line(str(exc)) or "unreadable file", exc.kind))
        except MemoryError:
            msg, retire = (index, "failed", (str(memory_error(limits.memory_mb)), "too_large")), True
        except RecursionError:
            msg, retire = (index, "failed", ("parser error: the file nests its structure too deeply", "corrupt")), True
        except ImportError as exc:  # the worker could not load a reader (e.g. no memory to map a library): not the file's fault
            msg, retire = (index, "failed", (_one_line(f"worker could not load the parser: {exc}"), "transient")), True
        except Exception as exc:  # any parser bug costs this file only
            msg = (index, "failed", (_one_line(f"parser error: {type(exc).__name__}: {exc}"), "corrupt"))
        try:
            conn.send((*msg, _peak_rss_mb(), retire))
        except MemoryError:
            conn.send((index, "failed", (str(memory_error(limits.memory_mb)), "too_large"), _peak_rss_mb(), True))
            retire = True
        except (OSError, ValueError):
            return
        if retire:
            return


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text[:500]


class _Worker:
    def __init__(self, ctx: Any, parse_fn: ParseFn | None, limits: Limits, workdir: str) -> None:
        parent_end, child_end = ctx.Pipe(duplex=True)
        self.conn: Connection = parent_end
        self.workdir = tempfile.mkdtemp(dir=workdir, prefix="worker-")
        self.proc = ctx.Process(target=_worker_main, args=(child_end, parse_fn, limits, os.getpid(), self.workdir), daemon=True)
        self.proc.start()
        child_end.close()
        self.task: int | None = None
        self.started = 0.0
        self.done = 0

    def give(self, index: int, path: str, display: str) -> None:
        self.conn.send((index, path, display))
        self.task, self.started = index, time.monotonic()

    def receive(self) -> tuple | None:
        """The worker's message if one is waiting; None when there is none or the pipe broke (a dead
        worker is then found by its exit)."""
        try:
            if self.conn.poll():
                return self.conn.recv()
        except (EOFError, OSError):
            pass
        return None

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()
        if getattr(self, "workdir", None):
            shutil.rmtree(self.workdir, ignore_errors=True)  # what a killed LibreOffice conversion left

    def retire(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(5)
        self.kill()


def _exit_reason(proc: Any, memory_mb: int = DEFAULT_MEMORY_MB) -> tuple[str, str]:
    """(reason, kind) for a worker that died holding a file. A SIGKILL we did not send is the OOM killer
    or an operator acting for the whole machine: transient, retried on the next run."""
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGKILL":
            return f"worker crashed ({name}: killed from outside, probably the machine ran out of memory)", "transient"
        if name == "SIGABRT":
            return f"worker crashed ({name}): {crash_reason(code, memory_mb)}", "too_large"
        return f"worker crashed ({name})", "corrupt"
    return f"worker crashed (exit code {code})", "corrupt"

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
    limits: Limits | None = None,
    prefer: str | None = None,
) -> IngestSummary:
    """Ingest files/folders/zips into `db_path` (a SQLite path or a database URL); failures are
    recorded, never raised.

    `progress`: 'auto' (bar on a terminal, lines otherwise), 'bar', 'lines' or 'none'.
    `parse_fn` replaces `extractor.parse` (for experiments); it runs in the worker processes.
    `executor` says where files are read and parsed (default: a `LocalPool` built from the arguments
    above; `extractor.store.cluster.DaskExecutor` for a cluster, which carries its own limits).
    `limits`: the per-document limits (`timeout` and `memory_mb` override theirs).
    `prefer`: which copy of an agency-year is canonical (store/copies.py), stored for later runs.
    Raises `storage.StorageError` only when the database or alias file itself is unusable.
    """
    from extractor.version import PARSER_VERSION

    started = time.monotonic()
    summary = IngestSummary()
    limits = (limits or DEFAULT_LIMITS).replace(timeout=timeout, memory_mb=memory_mb)
    if executor is None:
        executor = LocalPool(workers, limits.timeout, limits.memory_mb, parse_fn, max_tasks_per_child, limits)
    clean_stale_temp()
    conn = storage.connect(db_path)
    try:
        if prefer is not None:
            from extractor.store import copies

            copies.set_preference(conn, prefer)
        if isinstance(aliases, str):
            aliases = storage.load_aliases(aliases)
        if aliases:
            storage.merge_aliases(conn, aliases)
        alias_map = storage.stored_aliases(conn)
        storage.rekey_agencies(conn, alias_map)

        db_abs = conn.url.database if conn.dialect == "sqlite" else None
        todo: list[Source] = []
        early: list[Source] = []  # failed before parsing (discovery): recorded without a worker
        skipped: list[tuple[str, str]] = []
        again: list[tuple[str, str, str]] = []  # failed in an earlier run, the same bytes: failed again
        seen: dict[str, str] = {}
        for item, known in _with_stored(conn, executor.sources(list(paths))):
            if isinstance(item, tuple):
                skipped.append(item)
                continue
            if db_abs and item.path and not item.temporary and os.path.abspath(item.path) in (db_abs, db_abs + "-wal", db_abs + "-shm"):
                continue
            if item.sha256 in seen:
                skipped.append((item.display, f"与 {seen[item.sha256]} 内容相同"))
                _discard(item)
                continue
            seen[item.sha256] = item.display
            if known and not force and known[0] == PARSER_VERSION:
                status, error, kind = known[1], known[2] or "", known[3]
                if status == "ok":
                    skipped.append((item.display, "已入库，文件未变"))
                    _discard(item)
                    continue
                if not _is_transient(error, kind):
                    again.append((item.display, error, kind or _kind_of(error)))  # it fails again: a failure, not a skip
                    _discard(item)
                    continue
            (early if item.error else todo).append(item)

        summary.total = len(todo) + len(early) + len(skipped) + len(again)
        summary.skips = skipped
        summary.skipped = len(skipped)
        bar = _Progress(progress, summary.total)
        for _ in skipped:
            bar.add("skipped")
        for display, error, kind in again:
            summary.failed += 1
            summary.failures.append((display, f"{error}；此前已读取失败，文件未变"))
            summary.kinds[display] = kind
            bar.add("failed")
        try:
            recorder = _Recorder(conn, todo, summary, bar, alias_map, PARSER_VERSION)
            for src in early:
                recorder.store(src, "failed", (src.error, src.error_kind))
            if todo:
                executor.run(todo, recorder)
        finally:
            bar.close()
            for src in todo:
                _discard(src)
        summary.cross_findings = run_cross_checks(conn)
    finally:
        conn.close()
        _drop_workdir()
    summary.seconds = time.monotonic() - started
    return summary


LOOKUP_CHUNK = 500  # discovered files whose stored state is read in one query


Stored = tuple[str, str, str | None, str | None]  # (parser_version, status, error, error_kind)


def _with_stored(db: storage.Database, items: Iterable[Source | tuple[str, str]]) -> Iterator[tuple[Source | tuple[str, str], Stored | None]]:
    """Each discovered item with what the database holds for its content (storage.stored_states), a
    chunk at a time: a rerun's members already stored are still discarded soon after extraction."""
    chunk: list[Source | tuple[str, str]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == LOOKUP_CHUNK:
            yield from _paired(db, chunk)
            chunk = []
    yield from _paired(db, chunk)


def _paired(db: storage.Database, chunk: list[Source | tuple[str, str]]) -> Iterator[tuple[Source | tuple[str, str], Stored | None]]:
    states = storage.stored_states(db, [x.sha256 for x in chunk if isinstance(x, Source)]) if chunk else {}
    for x in chunk:
        yield x, (states.get(x.sha256) if isinstance(x, Source) else None)


def _discard(src: Source) -> None:
    """Remove a member's extracted copy once it is no longer needed."""
    if src.temporary and src.path:
        try:
            os.unlink(src.path)
        except OSError:
            pass


def _is_transient(error: str, kind: str | None) -> bool:
    """A failure that depends on the moment (load, a busy database, a kill for the machine's sake),
    not on the file: retried on the next run. Rows from before kinds were stored go by their text."""
    if kind:
        return kind in TRANSIENT_KINDS
    return error.startswith(TRANSIENT_PREFIXES)


class _Recorder:
    """The parent's side of a result: store the report (or the failure) and count it. A database that
    stays busy leaves the file unrecorded (said in the summary), so the next run parses it again."""

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
        self.summary.peak_worker_rss_mb = max(self.summary.peak_worker_rss_mb, rss)
        src = self.todo[index]
        self.store(src, status, payload)
        _discard(src)

    def store(self, src: Source, status: str, payload: Any) -> None:
        summary = self.summary
        if status == "ok":
            report: Report = payload
            report.sha256 = src.sha256  # the parent's hash of the bytes it found (zip members included)
            report.path = src.display
            report.parser_version = report.parser_version or self.parser_version
            reason = _not_a_report(report)
            if reason is None:
                try:
                    _busy_retry(lambda: storage.write_report(self.conn, report, storage.agency_key(report.agency, self.alias_map), path_bytes=src.raw_name))
                except (sa.exc.OperationalError, sa.exc.IntegrityError) as exc:  # the database's state, not the file
                    self._unrecorded(src, exc)
                    return
                except (sa.exc.SQLAlchemyError, ValueError, TypeError, OverflowError) as exc:  # a value the database refuses
                    payload = (_one_line(f"cannot store the parsed report: {exc}"), "corrupt")
                else:
                    summary.ok += 1
                    summary.pages += report.pages or 0
                    self.bar.add("ok")
                    return
            else:
                payload = (reason, "empty" if report.format in ("image", "image-pdf") and not report.cells else "not_a_report")
        reason, kind = payload if isinstance(payload, tuple) else (str(payload), _kind_of(str(payload)))
        try:
            _busy_retry(lambda: storage.write_failure(self.conn, src.display, src.sha256, src.format, reason, self.parser_version, kind=kind, path_bytes=src.raw_name))
        except sa.exc.OperationalError as exc:
            self._unrecorded(src, exc)
            return
        summary.failed += 1
        summary.failures.append((src.display, reason))
        summary.kinds[src.display] = kind
        self.bar.add("failed")

    def _unrecorded(self, src: Source, exc: Exception) -> None:
        reason = f"未能写入数据库（{_one_line(str(getattr(exc, 'orig', None) or exc))}），下次运行时重新读取"
        self.summary.failed += 1
        self.summary.failures.append((src.display, reason))
        self.summary.kinds[src.display] = "transient"
        self.bar.add("failed")


def _busy_retry(write: Callable[[], Any], attempts: int = 4) -> Any:
    """Run a database write, again after a pause while the database says it is locked or busy (SQLite,
    after its busy timeout) or picked this transaction as a deadlock victim (PostgreSQL)."""
    for attempt in range(attempts):
        try:
            return write()
        except sa.exc.OperationalError as exc:
            if not any(word in str(exc) for word in ("locked", "busy", "deadlock")) or attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    return None


def _kind_of(reason: str) -> str:
    """The kind of a failure given only as text (by a custom executor)."""
    if reason.startswith("timeout"):
        return "timeout"
    if reason.startswith("out of memory"):
        return "too_large"
    if reason.startswith("worker crashed (SIGKILL"):
        return "transient"
    return "corrupt"


def _run_pool(
    todo: list[Source],
    on_result: Record,
    workers: int | None,
    limits: Limits,
    parse_fn: ParseFn | None,
    max_tasks: int,
) -> None:
    if not todo:
        return
    timeout = limits.timeout
    n = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    if parse_fn is None and ctx.get_start_method() == "fork":
        try:  # import the parser once in the parent; forked workers inherit it instead of each importing it
            import extractor.readers.docx  # noqa: F401
            import extractor.readers.pdf  # noqa: F401
        except Exception:
            pass
    workdir = _workdir()
    queue = deque(enumerate(todo))
    pool: list[_Worker] = []

    def replace(w: _Worker) -> None:
        pool.remove(w)
        w.kill()

    def hand_out() -> None:
        """Give every idle worker (and new ones, up to n) its next file."""
        while queue and (len(pool) < n or any(w.task is None for w in pool)):
            idle = next((w for w in pool if w.task is None), None)
            if idle is None:
                idle = _Worker(ctx, parse_fn, limits, workdir)
                pool.append(idle)
            index, src = queue.popleft()
            assert src.path is not None
            try:
                idle.give(index, src.path, src.display)
            except OSError:  # worker died between tasks: replace it and retry this file
                replace(idle)
                queue.appendleft((index, src))

    try:
        while queue or any(w.task is not None for w in pool):
            for w in [w for w in pool if w.task is None and not w.proc.is_alive()]:
                replace(w)
            hand_out()
            busy = [w for w in pool if w.task is not None]
            if not busy:
                continue
            now = time.monotonic()
            wait_for = max(0.05, min(w.started + timeout for w in busy) - now)
            wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=min(wait_for, 0.25))
            for w in busy:
                index = w.task
                assert index is not None
                msg = w.receive()
                if msg is not None:
                    _, status, payload, rss, retire = msg
                    w.task, w.done = None, w.done + 1
                    if retire or w.done >= max_tasks:
                        pool.remove(w)  # replaced before it is given another file
                        w.retire()
                    hand_out()  # the worker's next file first: storing this result would keep it idle
                    on_result(index, status, payload, rss)
                elif not w.proc.is_alive():
                    replace(w)
                    on_result(index, "failed", _exit_reason(w.proc, limits.memory_mb))
                elif time.monotonic() - w.started > timeout:
                    replace(w)
                    on_result(index, "failed", (f"timeout after {timeout:g} s (the limit: --timeout)", "timeout"))
                elif rss_mb(w.proc.pid) > limits.memory_mb:
                    replace(w)
                    on_result(index, "failed", (str(memory_error(limits.memory_mb)), "too_large"))
    finally:
        for w in pool:
            w.kill()


def _not_a_report(report: Report) -> str | None:
    """Why a parsed file is not an annual report to store as one, or None: nothing of a report found
    (no table, no section, no cell: a scan whose text could not be recognised says so), or a blank
    template (tables with every value cell empty, and no agency named)."""
    if not (report.template or report.cells or any(s.found for s in report.sections)):
        if report.format in ("image", "image-pdf"):
            return "扫描件的文字识别结果不可用：未识别出统计表和报告章节"
        return "不是政府信息公开年度报告：未找到统计表和报告章节"
    all_blank = any(f.rule == "structure.empty_table" and f.severity == "error" for f in report.findings)
    if all_blank and not report.agency:
        return "空白模板：统计表全部未填写，也未写明机构，不是一份报告"
    return None


def run_cross_checks(db: storage.Database) -> int:
    """Recompute every cross-report finding (and the canonical copies) from the stored reports;
    returns how many cross findings there are. Safe while other processes write (refresh_derived)."""
    return storage.refresh_derived(db, cross_rows)


def cross_rows(loaded: list[tuple[int, str | None, Report]], canonical: set[int] | None = None) -> list[dict[str, Any]]:
    """The cross-report findings of these stored reports, as rows for the cross_findings table; the
    rules across years and agencies see the canonical copy of each agency-year (store/copies.py)."""
    from extractor.checks.cross import cross_report

    ids = {rep.sha256: rid for rid, _, rep in loaded}
    keys = {rep.sha256: key for _, key, rep in loaded}

    def pick(group: list[Report]) -> Report:
        return next((r for r in group if canonical and ids[r.sha256] in canonical), min(group, key=lambda r: ids[r.sha256]))

    findings = cross_report([rep for _, _, rep in loaded], agency_key=lambda r: keys.get(r.sha256), canonical=pick)
    return [
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
