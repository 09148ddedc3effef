"""The guard: one document parsed under a time and a memory limit it cannot escape.

Why a child process: a parser stuck in a damaged PDF, or a C library allocating 8 GB for a bomb,
cannot be stopped from inside the process. The child gets an OS memory limit (RLIMIT_DATA, which
counts heap and anonymous mappings, so a refused allocation is a MemoryError, not a killed machine)
and the parent kills it at the time limit or when its resident memory passes the limit. The child's
temporary files live in a folder the parent removes, so a killed child leaves nothing behind. The
child's own stderr goes nowhere: whatever a C library prints as it dies is not the user's message;
the one line is.

Used by `extractor parse` (the CLI), the web upload path (`parse_guarded`), and ingest's workers
(`apply_limits`, `memory_error`, `crash_reason`). Windows has no fork and no rlimits: there the child
is spawned and only the time limit is enforced (README: Reliability).
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time
from typing import Any

from extractor.api import parse
from extractor.checks.settings import RulesConfig
from extractor.checks.settings import apply as apply_rules
from extractor.document import ReadError
from extractor.readers import Progress, Source, load, printable, progress_reporter
from extractor.readers.limits import DEFAULT_LIMITS, MB, Limits
from extractor.report import Report

__all__ = ["Limits", "DEFAULT_LIMITS", "parse_guarded", "apply_limits", "memory_error", "crash_reason", "rss_mb"]

POLL_SECONDS = 0.05
# imported once by the fork server (threaded callers: a web server), so a child does not import them again
PRELOAD = ["extractor.guard", "extractor.readers.pdf", "extractor.readers.docx", "extractor.readers.html"]
# resident memory that is not heap (code, shared libraries): RLIMIT_DATA is set this much lower than
# the limit, so the whole process stays under it
NON_DATA_MB = 256


def parse_guarded(
    source: Source,
    limits: Limits = DEFAULT_LIMITS,
    ocr: str = "auto",
    rules: RulesConfig | None = None,
    progress: Progress | None = None,
) -> Report:
    """`extractor.parse` in a child process under `limits`; raises ReadError (with its kind) for a bad
    file, an exceeded limit (`too_large`, `timeout`) or a parser that crashed on it. For the CLI and
    for servers: call it from any thread."""
    if hasattr(source, "read") and not isinstance(source, str | bytes | bytearray | memoryview | os.PathLike):
        name, data = load(source, limits)  # a file object cannot cross into the child: read it here
        source = data
    else:
        name = os.fsdecode(os.fspath(source)) if isinstance(source, str | os.PathLike) else "<bytes>"
    show = _progress(name, progress)
    ctx = mp.get_context(_start_method())
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)  # the server imports the parser once; each child is a fork of it
    receiver, sender = ctx.Pipe(duplex=False)
    workdir = tempfile.mkdtemp(prefix=f"extractor-guard-{os.getpid()}-")
    child = ctx.Process(target=_child, args=(sender, source, ocr, limits, rules, workdir, show is not None), daemon=True)
    try:
        child.start()
        sender.close()
        return _supervise(child, receiver, limits, show)
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _start_method() -> str:
    """fork where it is safe (a single-threaded POSIX caller: the CLI), else a fresh interpreter."""
    methods = mp.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _progress(name: str, progress: Progress | None) -> Progress | None:
    if progress is not None:
        return progress
    return progress_reporter(printable(name), None)


def _supervise(child: Any, receiver: Any, limits: Limits, show: Progress | None) -> Report:
    deadline = time.monotonic() + limits.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            child.kill()
            raise ReadError(f"parsing took longer than {limits.timeout:g} s; the limit is {limits.timeout:g} s: --timeout", "timeout")
        ready = receiver.poll(min(POLL_SECONDS, left))
        if ready:
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                message = None
            if message is None:
                child.join(5)
                raise ReadError(crash_reason(child.exitcode, limits.memory_mb), _crash_kind(child.exitcode))
            what = message[0]
            if what == "progress":
                if show is not None:
                    show(*message[1:])
                continue
            if what == "ok":
                return message[1]
            raise ReadError(message[1], message[2])
        if not child.is_alive() and not receiver.poll():
            raise ReadError(crash_reason(child.exitcode, limits.memory_mb), _crash_kind(child.exitcode))
        used = rss_mb(child.pid)
        if used > limits.memory_mb:
            child.kill()
            raise memory_error(limits.memory_mb)


def _child(sender: Any, source: Source, ocr: str, limits: Limits, rules: RulesConfig | None, workdir: str, report_progress: bool) -> None:
    apply_limits(limits, workdir)
    quiet_stderr()
    settle_gc()

    def progress(page: int, pages: int) -> None:
        if report_progress:
            sender.send(("progress", page, pages))

    try:
        report = parse(source, ocr=ocr, progress=progress, limits=limits)
        if rules is not None:
            report = apply_rules(report, rules)
        message: tuple[Any, ...] = ("ok", report)
    except ReadError as exc:
        message = ("error", one_line(str(exc)), exc.kind)
    except MemoryError:
        message = ("error", str(memory_error(limits.memory_mb)), "too_large")
    except RecursionError:
        message = ("error", "the file nests its structure too deeply to read", "corrupt")
    except Exception as exc:  # noqa: BLE001 - a parser bug on this file: one line, never a traceback
        message = ("error", one_line(f"could not be parsed ({exc.__class__.__name__}: {exc})"), "corrupt")
    try:
        sender.send(message)
    except MemoryError:
        sender.send(("error", str(memory_error(limits.memory_mb)), "too_large"))
    sender.close()


# ------------------------------------------------------------------------------------------------
# pieces ingest's workers use too


def apply_limits(limits: Limits, workdir: str | None = None) -> None:
    """In a child: the OS memory limit, death with the parent, temporary files under `workdir` (which
    the parent removes), no C tracebacks on the terminal. What the platform lacks is skipped."""
    import faulthandler

    faulthandler.disable()
    if workdir:
        tempfile.tempdir = workdir
        os.environ["TMPDIR"] = workdir  # LibreOffice and other helpers write there too
    try:
        import resource  # POSIX only: imported here so Windows can import this module

        # a forked child starts with its parent's data segment (a large test runner or web server):
        # the budget is what the parse may add to that, not an absolute size
        limit = max(limits.memory_mb - NON_DATA_MB, 256) * MB + _data_segment_bytes()
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ImportError, ValueError, OSError, AttributeError):
        pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def settle_gc() -> None:
    """In a parse child: leave the objects it starts with (the imported modules, their vocabularies)
    out of the cyclic collector's scans, and run its youngest generation less often. A parse makes
    hundreds of thousands of small objects, nearly all freed by reference counting; collections of
    them were ≈ 4 % of a corpus report's CPU, at the price of ≈ 4 MB more peak memory."""
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


def quiet_stderr() -> None:
    """Point file descriptor 2 at the null device: C libraries dying (std::bad_alloc) print there."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
    except OSError:
        pass


def memory_error(memory_mb: int) -> ReadError:
    return ReadError(f"parsing needed more than {memory_mb:,} MB of memory; the limit is {memory_mb:,} MB: --memory-mb", "too_large")


def crash_reason(exitcode: int | None, memory_mb: int) -> str:
    """One line for a child that died without an answer. An abort or a kill we did not send is
    almost always a refused allocation (std::bad_alloc) or the kernel's OOM killer."""
    if exitcode is not None and exitcode < 0:
        name = _signal_name(-exitcode)
        if name in ("SIGABRT", "SIGKILL", "SIGBUS"):
            return f"the parser stopped ({name}), out of memory: the limit is {memory_mb:,} MB: --memory-mb"
        return f"the parser crashed on this file ({name})"
    return f"the parser stopped without an answer (exit code {exitcode})"


def _crash_kind(exitcode: int | None) -> str:
    return "too_large" if exitcode is not None and exitcode < 0 and _signal_name(-exitcode) in ("SIGABRT", "SIGKILL", "SIGBUS") else "corrupt"


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _data_segment_bytes() -> int:
    """This process's data segment (VmData) in bytes; 0 where /proc is absent."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (LibreOffice) in MB; 0 where /proc is absent."""
    total, pending, seen = 0.0, [pid], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB
            with open(f"/proc/{current}/task/{current}/children") as fh:
                pending.extend(int(p) for p in fh.read().split())
        except (OSError, ValueError, AttributeError):
            continue
    return total


def one_line(text: str, width: int = 500) -> str:
    return " ".join(text.split())[:width]

