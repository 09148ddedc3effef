"""Old Word (.doc), WPS (.wps) and RTF files: converted to DOCX by LibreOffice, then read as DOCX.

Why LibreOffice: no maintained pure-Python reader handles the binary Word/WPS formats with merged table
cells, and LibreOffice's import filters are the ones the agencies' own files were checked against. Each
conversion runs in its own temporary folder with its own LibreOffice profile (parallel ingest workers would
otherwise fight over the user's profile lock) and under a time limit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from extractor.document import Document, ReadError

CONVERT_TIMEOUT = 120  # seconds; a large .doc converts in a few seconds, a hang must not stall a batch
INSTALL_HINT = "install LibreOffice (Debian/Ubuntu: apt-get install libreoffice-writer-nogui)"


def soffice_path() -> str | None:
    """The LibreOffice binary, or None when it is not installed (`EXTRACTOR_SOFFICE` overrides the search)."""
    override = os.environ.get("EXTRACTOR_SOFFICE")
    if override:
        return override if os.path.exists(override) else shutil.which(override)
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in ("/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice",
                      "/Applications/LibreOffice.app/Contents/MacOS/soffice"):
        if os.path.exists(candidate):
            return candidate
    return None


def convert_to_docx(data: bytes, suffix: str, timeout: float = CONVERT_TIMEOUT) -> bytes:
    """DOCX bytes of an old Word/WPS/RTF file's bytes; ReadError with a one-line reason on failure."""
    soffice = soffice_path()
    if soffice is None:
        raise ReadError(f"reading {suffix.lstrip('.').upper()} files needs LibreOffice: {INSTALL_HINT}", "unsupported")
    with tempfile.TemporaryDirectory(prefix="extractor-doc-") as tmp:
        work = Path(tmp)
        source = work / f"input{suffix}"
        source.write_bytes(data)
        profile = (work / "profile").as_uri()
        out_dir = work / "out"
        command = [
            soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nolockcheck",
            "--convert-to", "docx", "--outdir", str(out_dir), str(source),
        ]
        env = {**os.environ, "HOME": tmp}  # LibreOffice writes caches under $HOME
        try:
            proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        except OSError as exc:
            raise ReadError(f"LibreOffice could not be started ({exc.strerror or exc})", "unsupported") from None
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ReadError(f"LibreOffice did not convert the file within {timeout:.0f} s", "timeout") from None
        result = out_dir / "input.docx"
        if not result.exists() or result.stat().st_size == 0:
            detail = (stderr or stdout).decode("utf-8", "replace").strip().splitlines()
            reason = detail[-1] if detail else f"exit code {proc.returncode}"
            raise ReadError(f"LibreOffice could not convert the file (corrupt or not a Word file?): {reason}", "corrupt")
        return result.read_bytes()


def _die_with_parent() -> None:
    """In the soffice child (Linux): the kernel kills it when the process that started it dies, so a
    parse killed for its time or memory limit leaves no LibreOffice behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    """soffice starts helper processes: end the whole session it was started in, then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()
    proc.communicate()


def read_doc(path: str, data: bytes, fmt: str = "doc", timeout: float = CONVERT_TIMEOUT) -> Document:
    """Read a .doc/.wps (fmt 'doc') or .rtf (fmt 'rtf') file through a DOCX conversion."""
    from extractor.readers.docx import read_docx

    suffix = ".rtf" if fmt == "rtf" else (".wps" if path.lower().endswith(".wps") else ".doc")
    docx = convert_to_docx(data, suffix, timeout=timeout)
    doc = read_docx(path, docx)
    doc.format = fmt
    return doc
