"""Ingest on a Dask distributed cluster: this process lists and records, the cluster's workers read and parse.

`DaskExecutor` plugs into `ingest(executor=…)` (see `Executor` in extractor/store/ingest.py). What
stays in this process: walking local folders and zips, listing fsspec URLs, the sha256 check against
the database (resume), and every database write. What goes to the workers: reading URL inputs
(hashing them first, so an interrupted run skips what is stored), and parsing. On each Dask worker the
parse runs in a child process of ingest's own kind (`_Worker`: RLIMIT_AS, killed on overrun, recycled),
so a file keeps its time and memory limits and a hung or crashing parse costs that file, not the Dask
worker. Results stream back as they finish (`as_completed`), with a bounded number of tasks in flight.

Dask and fsspec are imported only here, and only when a cluster is used (`pip install 'zfxxgk-extractor[cluster]'`).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from extractor.store import ingest as local
from extractor.store.ingest import Record, Source

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
CONNECT_TIMEOUT = 20.0  # seconds to reach the scheduler
WORKERS_TIMEOUT = 60.0  # seconds to wait for the first worker
READ_CHUNK = 1 << 20


class ClusterError(Exception):
    """The cluster cannot be used (unreachable scheduler, no workers, a worker with another parser)."""


def parse_storage_options(pairs: Iterable[str]) -> dict[str, Any]:
    """`KEY=VALUE` strings to fsspec options; a JSON value (true, 3, {"a": 1}) is decoded, else kept as text."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"storage option {pair!r}: expected KEY=VALUE")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def is_url(path: str) -> bool:
    """`s3://…`, `file://…`, `memory://…`: read through fsspec by the workers; anything else is a local path."""
    return bool(URL.match(path))


@dataclass(frozen=True)
class Job:
    """What every parse task carries: the limits, the parser, and the run's token (names its child pool)."""

    token: str
    timeout: float = local.DEFAULT_TIMEOUT
    memory_mb: int | None = local.DEFAULT_MEMORY_MB
    parse_fn: local.ParseFn | None = None
    max_tasks_per_child: int = local.MAX_TASKS_PER_CHILD
    storage_options: dict[str, Any] = field(default_factory=dict)


class DaskExecutor:
    """Parse on the Dask cluster at `address` (`tcp://host:8786`); use as a context manager.

    `window`: tasks in flight at once (default: four per worker thread), so millions of files never sit
    in the scheduler's memory together. `storage_options` go to fsspec (credentials, endpoint…).
    """

    def __init__(
        self,
        address: str,
        timeout: float = local.DEFAULT_TIMEOUT,
        memory_mb: int | None = local.DEFAULT_MEMORY_MB,
        parse_fn: local.ParseFn | None = None,
        max_tasks_per_child: int = local.MAX_TASKS_PER_CHILD,
        window: int | None = None,
        storage_options: dict[str, Any] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self.address, self.connect_timeout = address, connect_timeout
        self.job = Job(uuid.uuid4().hex, timeout, memory_mb, parse_fn, max_tasks_per_child, dict(storage_options or {}))
        self.window = window
        self.client: Any = None
        self._tasks = 0

    # -- connection ------------------------------------------------------------------------------

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError("--cluster needs the cluster extra: pip install 'zfxxgk-extractor[cluster]'") from None
        from distributed.comm import get_address_host_port, parse_address
        from distributed.comm.registry import get_backend

        try:  # a bad address fails here, before a Client half-starts
            scheme, _ = parse_address(self.address)
            get_backend(scheme)
            if scheme != "inproc":  # an in-process cluster's address has no port
                get_address_host_port(self.address)
        except (ValueError, TypeError) as exc:
            raise ClusterError(f"{self.address!r} is not a Dask scheduler address (tcp://HOST:PORT): {_one_line(exc)}") from None
        try:
            self.client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {self.address}: {_one_line(exc)}") from None
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
            self._check_versions()
        except BaseException as exc:
            self.client.close()
            if isinstance(exc, ClusterError):
                raise
            if isinstance(exc, (OSError, TimeoutError)):
                raise ClusterError(f"no Dask worker joined {self.address} within {WORKERS_TIMEOUT:g} s") from None
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            try:
                self.client.run(retire_children, self.job.token)
            except Exception:  # a worker gone at the end is no reason to fail a finished batch
                pass
            self.client.close()
            self.client = None

    def _check_versions(self) -> None:
        """Every worker must run this parser version, or one batch would mix two parsers' output."""
        from extractor.version import PARSER_VERSION

        try:
            versions = self.client.run(worker_parser_version)
        except Exception as exc:
            raise ClusterError(f"the Dask workers cannot import extractor: {_one_line(exc)}") from None
        other = {addr: v for addr, v in versions.items() if v != PARSER_VERSION}
        if other:
            addr, version = sorted(other.items())[0]
            raise ClusterError(
                f"Dask worker {addr} has extractor parser {version}, this one has {PARSER_VERSION}: install the same version on every worker"
            )

    def threads(self) -> int:
        """Worker threads in the cluster now (tasks that can run at once)."""
        info = self.client.scheduler_info()
        return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def _window(self) -> int:
        return self.window or 4 * self.threads()

    def _submit(self, fn: Any, *args: Any) -> Any:
        self._tasks += 1
        key = f"extractor-{fn.__name__.strip('_')}-{self.job.token[:12]}-{self._tasks}"
        return self.client.submit(fn, *args, key=key, retries=0)

    # -- Executor: sources -----------------------------------------------------------------------

    def sources(self, paths: list[str]) -> Iterator[Source | tuple[str, str]]:
        """Local paths as the local pool finds them (hashed here); URLs listed here, hashed by the workers."""
        for root in paths:
            if is_url(root):
                yield from self._url_sources(root)
            else:
                yield from local.hashed(local.discover([root]))

    def _url_sources(self, root: str) -> Iterator[Source | tuple[str, str]]:
        import fsspec

        try:
            fs, base = fsspec.core.url_to_fs(root, **self.job.storage_options)
            if fs.isdir(base):
                files = sorted(p for p in fs.find(base) if not _hidden(p, base))
            elif fs.exists(base):
                files = [base]
            else:
                yield (root, "not found")
                return
        except Exception as exc:  # any backend's error (permissions, network, bad URL) is one line
            yield (root, f"cannot list: {_one_line(exc)}")
            return
        urls = [fs.unstrip_protocol(p) for p in files]
        for path, url, probe in zip(files, urls, self._in_order(_probe, urls), strict=True):
            if probe[0] == "skip":
                yield (url, probe[1])
            elif probe[0] == "archive":
                try:
                    data = fs.cat_file(path)
                except Exception as exc:
                    yield (url, f"cannot read: {_one_line(exc)}")
                    continue
                yield from local.hashed(local._zip_sources(url, data, 1))
            else:
                _, sha256, fmt = probe
                yield Source(display=url, url=url, sha256=sha256, format=fmt)

    def _in_order(self, fn: Any, items: list[str]) -> Iterator[tuple[Any, ...]]:
        """fn(item, storage_options) on the workers, a window at a time, results in the items' order."""
        pending: deque[Any] = deque()
        todo = iter(items)
        try:
            for item in todo:
                pending.append(self._submit(fn, item, self.job.storage_options))
                if len(pending) >= self._window():
                    break
            while pending:
                fut = pending.popleft()
                yield _result(fut, on_error=lambda reason: ("skip", f"cannot read: {reason}"))
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(self._submit(fn, nxt, self.job.storage_options))
        finally:
            self.client.cancel(list(pending))

    # -- Executor: run ---------------------------------------------------------------------------

    def run(self, todo: list[Source], record: Record) -> None:
        """Parse on the workers; record each result here as it arrives, whatever order they finish in."""
        from distributed import as_completed

        queue = deque(enumerate(todo))
        running: dict[str, int] = {}

        def submit() -> Any:
            index, src = queue.popleft()
            if src.data is None and src.temporary and src.path:  # a zip member discovery extracted here:
                with open(src.path, "rb") as fh:  # the workers cannot see this machine's temporary folder
                    src.data = fh.read()
            fut = self._submit(_parse_task, self.job, _locator(src), src.display, src.sha256, src.data)
            src.data = None  # the bytes are with the scheduler now
            running[fut.key] = index
            return fut

        first = [submit() for _ in range(min(len(queue), self._window()))]
        done = as_completed(first, loop=self.client.loop)
        try:
            for batch in done.batches():
                for fut in batch:
                    index = running.pop(fut.key)
                    status, payload, rss = _result(fut, on_error=lambda reason: ("failed", f"worker crashed (Dask: {reason})", 0.0))
                    fut.release()
                    record(index, status, payload, rss)
                    if queue:
                        done.add(submit())
        finally:
            if running:
                self.client.cancel([f for f in done.futures])


def _locator(src: Source) -> tuple[str, str]:
    """('url', URL) | ('path', absolute path: workers have another working folder) | ('data', '')."""
    if src.data is not None:
        return ("data", "")
    if src.url:
        return ("url", src.url)
    assert src.path is not None
    return ("path", os.path.abspath(src.path))


def _result(fut: Any, on_error: Any) -> tuple[Any, ...]:
    """A finished future's value; a task lost with its worker (KilledWorker) or cancelled becomes one line."""
    try:
        return fut.result()
    except Exception as exc:
        return on_error(f"{type(exc).__name__}: {_one_line(exc)}"[:300])


def _hidden(path: str, base: str) -> bool:
    rel = path[len(base) :].strip("/")
    return any(part.startswith(".") for part in rel.split("/"))


def _one_line(exc: object) -> str:
    return local._one_line(str(exc)) or type(exc).__name__


# --------------------------------------------------------------------------------------------------
# on the Dask workers


def worker_parser_version() -> str:
    from extractor.version import PARSER_VERSION

    return PARSER_VERSION


def _probe(url: str, storage_options: dict[str, Any]) -> tuple[str, ...]:
    """Read a URL once: ('skip', reason) | ('archive',) | ('file', sha256, format). Runs on a worker."""
    import fsspec

    h = hashlib.sha256()
    try:
        with fsspec.open(url, "rb", **storage_options) as fh:
            first = fh.read(READ_CHUNK)
            head = first[:4096]
            reason = local._skip_reason(head)
            if reason:
                return ("skip", reason)
            if head.startswith(b"PK\x03\x04"):  # a zip: archive, DOCX or another office package
                data = first + fh.read()
                kind = local._zip_kind(data)
                if kind == "archive":
                    return ("archive",)
                if kind == "office":
                    return ("skip", "office document that is not DOCX (spreadsheet/presentation/ODF)")
                return ("file", hashlib.sha256(data).hexdigest(), local._sniff(head))
            h.update(first)
            while chunk := fh.read(READ_CHUNK):
                h.update(chunk)
    except Exception as exc:  # any backend's read error
        return ("skip", f"cannot read: {_one_line(exc)}")
    return ("file", h.hexdigest(), local._sniff(head) if head else "empty")


def _parse_task(job: Job, locator: tuple[str, str], display: str, sha256: str, data: bytes | None) -> tuple[str, Any, float]:
    """(status, Report | reason, child peak RSS MB) for one file. Runs on a Dask worker."""
    kind, where = locator
    folder = None
    try:
        if kind == "path":
            path = where
            try:
                got = _sha256_of(open(path, "rb"))
            except OSError as exc:
                return ("failed", _unreadable(f"{exc.strerror or exc} (local paths must be visible to every worker at the same place)"), 0.0)
        else:
            folder = tempfile.mkdtemp(prefix="extractor-cluster-")
            path = os.path.join(folder, display.rsplit("!", 1)[-1].rsplit("/", 1)[-1] or "member")
            if kind == "data":
                with open(path, "wb") as out:
                    out.write(data or b"")
                got = hashlib.sha256(data or b"").hexdigest()
            else:
                try:
                    import fsspec

                    with fsspec.open(where, "rb", **job.storage_options) as fh, open(path, "wb") as out:
                        got = _sha256_of(fh, out)
                except Exception as exc:
                    return ("failed", _unreadable(_one_line(exc)), 0.0)
        if got != sha256:
            return ("failed", _unreadable("its content differs from what was listed (changed since, or another file at that path)"), 0.0)
        return _parse_in_child(job, path, display)
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


def _unreadable(reason: str) -> str:
    return local._one_line(f"unreadable on the worker: {reason}")


def _sha256_of(fh: Any, copy_to: Any = None) -> str:
    h = hashlib.sha256()
    with fh:
        while chunk := fh.read(READ_CHUNK):
            h.update(chunk)
            if copy_to is not None:
                copy_to.write(chunk)
    return h.hexdigest()


# limited children per run token, on this worker process: taken by a task, given back when it is done
_IDLE: dict[str, list[local._Worker]] = {}
_LOCK = threading.Lock()


CHILD_START_TIMEOUT = 120.0  # seconds for a fresh parse child to import the parser (not counted to any file)


class _Child(local._Worker):
    """Ingest's limited worker, started for a Dask worker: spawned, with the parser imported before the
    first file, so a file's time limit never pays for a child's start.

    Spawned, not forked: a Dask worker runs threads, and a forked child could inherit a lock some thread
    held. The nanny starts Dask workers as daemonic processes, which multiprocessing forbids to have
    children (they would be orphaned); ours die with their parent (PR_SET_PDEATHSIG in ingest's
    worker), so the flag is lifted while the child starts.
    """

    def __init__(self, job: Job) -> None:
        ctx = mp.get_context("spawn")
        parent_end, child_end = ctx.Pipe(duplex=True)
        self.conn = parent_end
        self.proc = ctx.Process(target=_child_main, args=(child_end, job.parse_fn, job.memory_mb, os.getpid()), daemon=True)
        me = mp.current_process()
        with _LOCK:
            daemonic = me._config.get("daemon")  # type: ignore[attr-defined]
            me._config["daemon"] = False  # type: ignore[attr-defined]
            try:
                self.proc.start()
            finally:
                me._config["daemon"] = daemonic  # type: ignore[attr-defined]
        child_end.close()
        self.task, self.started, self.done = None, 0.0, 0
        ready = wait([self.conn, self.proc.sentinel], timeout=CHILD_START_TIMEOUT)
        if self.conn not in ready or self.conn.recv() != "ready":  # it died or hung while importing
            self.kill()
            raise OSError("parse child did not start")


def _child_main(conn: Any, parse_fn: local.ParseFn | None, memory_mb: int | None, parent_pid: int) -> None:
    """Import the readers, say so, then serve files exactly like a local ingest worker."""
    try:
        import extractor.readers.docx  # noqa: F401
        import extractor.readers.pdf  # noqa: F401
    except Exception:  # a reader that cannot import fails its files with the reason, not the child
        pass
    conn.send("ready")
    local._worker_main(conn, parse_fn, memory_mb, parent_pid)


def _take_child(job: Job) -> local._Worker:
    with _LOCK:
        for token in [t for t in _IDLE if t != job.token]:  # an earlier run's children: it has ended
            for w in _IDLE.pop(token):
                w.retire()
        idle = _IDLE.setdefault(job.token, [])
        while idle:
            w = idle.pop()
            if w.proc.is_alive():
                return w
            w.kill()
    return _Child(job)


def _give_back(job: Job, w: local._Worker) -> None:
    with _LOCK:
        _IDLE.setdefault(job.token, []).append(w)


def retire_children(token: str) -> int:
    """Stop this worker's idle parse children of one run (called at the end of the run); returns how many."""
    with _LOCK:
        children = _IDLE.pop(token, [])
    for w in children:
        w.retire()
    return len(children)


def _parse_in_child(job: Job, path: str, display: str) -> tuple[str, Any, float]:
    """Ingest's worker protocol, one file: a result, or the file's failure on overrun or crash."""
    try:
        w = _take_child(job)
        try:
            w.give(0, path, display)
        except OSError:  # died while idle: one fresh child
            w.kill()
            w = _Child(job)
            w.give(0, path, display)
    except OSError as exc:
        return ("failed", f"worker crashed (cannot start a parse process: {_one_line(exc)})", 0.0)
    deadline = w.started + job.timeout
    while True:
        wait([w.conn, w.proc.sentinel], timeout=max(0.0, min(deadline - time.monotonic(), 1.0)))
        msg = w.receive()
        if msg is not None:
            _, status, payload, rss, *rest = msg
            w.task, w.done = None, w.done + 1
            if w.done >= job.max_tasks_per_child or (rest and rest[0]):  # the child hit a limit: replace it
                w.retire()
            else:
                _give_back(job, w)
            return (status, payload, rss)
        if not w.proc.is_alive():
            w.kill()
            return ("failed", local._exit_reason(w.proc), 0.0)
        if time.monotonic() >= deadline:
            w.kill()
            return ("failed", f"timeout after {job.timeout:g} s", 0.0)
