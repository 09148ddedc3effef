"""Readers: one per file format, each turns a file into a `Document` and knows nothing of reports.

`read(path)` recognises the format by content (magic bytes), not by the file name.
"""

from __future__ import annotations

import hashlib
import os
import sys
import zipfile
from collections.abc import Callable
from typing import IO, Union

from extractor.document import Document, ReadError
from extractor.readers.limits import DEFAULT_LIMITS, Limits, check, read_regular_file, read_stream

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM")
OCR_MODES = ("auto", "always", "never")
Progress = Callable[[int, int], None]
# what parse() reads: a path (str, bytes or PathLike), the file's bytes, or a binary file object
Source = Union[str, bytes, bytearray, memoryview, "os.PathLike[str]", IO[bytes]]


def progress_reporter(path: str, progress: Progress | None) -> Progress | None:
    """The caller's callback, else a stderr line per page when stderr is a terminal, else nothing."""
    if progress is not None:
        return progress
    if not sys.stderr.isatty():
        return None
    name = path.rsplit("/", 1)[-1]

    def show(page: int, pages: int) -> None:
        print(f"\rextractor: {name}: OCR page {page}/{pages}", end="\n" if page == pages else "", file=sys.stderr, flush=True)

    return show


def printable(name: str | bytes) -> str:
    """A file name as people see it: bytes that are not UTF-8 (a GBK name on a UTF-8 disk) become
    U+FFFD, so printing, JSON and the database never meet a lone surrogate."""
    raw = os.fsencode(name) if isinstance(name, str) else name
    return raw.decode("utf-8", "replace")


def load(source: Source, limits: Limits = DEFAULT_LIMITS) -> tuple[str, bytes]:
    """(name, bytes) of what parse() was given; ReadError for a missing/special file or one over the
    size limit. A path is read only if it is a regular file (a FIFO or /dev/zero would never end)."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > limits.max_file_mb * 1024 * 1024:
            from extractor.readers.limits import over

            raise over("the file is", len(data) / 2**20, "max_file_mb", limits.max_file_mb, "MB")
        return "<bytes>", data
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        name = os.fsdecode(path) if isinstance(path, bytes) else path
        return name, read_regular_file(name, limits)
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        return (name if isinstance(name, str) else "<stream>"), read_stream(source, limits)
    raise TypeError(f"parse() reads a path, bytes or a binary file object, not {type(source).__name__}")


def sniff(data: bytes, name: str = "") -> str:
    """Return the format of a file's bytes: pdf, docx, html, text, doc (also WPS), rtf, image, json, zip or unknown."""
    head = data[:2048]
    if head.lstrip()[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(OLE_MAGIC):
        return "doc"
    if head.startswith(b"PK\x03\x04"):
        try:
            import io

            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except Exception:  # noqa: BLE001 - zipfile raises many types for damaged directories
            return "unknown"
        if "word/document.xml" in names:
            return "docx"
        return "zip"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    lowered = head.lower()
    if b"mime-version" in lowered and b"multipart/related" in lowered:
        return "mht"  # a web page saved as one file (.mht/.mhtml): checked first, its HTML part follows
    if b"<html" in lowered or b"<!doctype html" in lowered or b"<table" in lowered or b"<body" in lowered:
        return "html"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[") and _is_json(data):
        return "json"
    if _looks_like_text(data):
        return "text"
    return "unknown"


def _is_json(data: bytes) -> bool:
    import json

    try:
        json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def _looks_like_text(data: bytes) -> bool:
    if not data.strip():
        return False
    if b"\x00" in data[:4096]:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data[:65536].decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if exc.start > 65530:  # cut in the middle of a multi-byte character
                return True
    return False


def read(
    source: Source, ocr: str = "auto", progress: Progress | None = None, limits: Limits = DEFAULT_LIMITS
) -> Document:
    """Read any supported file into a Document; raise ReadError with a one-line reason otherwise.

    `source`: a path, the file's bytes or a binary file object. `ocr`: "auto" reads PDF pages without
    a usable text layer (and images) with OCR, "always" OCRs every PDF page (for PDFs whose text layer
    is garbage), "never" refuses scans. `progress(page, pages)` is called after each OCR'd page;
    without it a line per page goes to stderr when stderr is a terminal. `limits`: the size, page,
    pixel and nesting limits checked before the heavy work (time and memory: `extractor.guard`).
    """
    if ocr not in OCR_MODES:
        raise ValueError(f"ocr must be one of {', '.join(OCR_MODES)}, not {ocr!r}")
    name, data = load(source, limits)
    path = printable(name)
    if not data:
        raise ReadError("empty file", "empty")
    fmt = sniff(data, path)
    check(data, fmt, limits)
    if fmt == "pdf":
        from extractor.readers.pdf import read_pdf

        doc = read_pdf(path, data, ocr=ocr, progress=progress)
    elif fmt == "docx":
        from extractor.readers.docx import read_docx

        doc = read_docx(path, data)
    elif fmt == "html":
        from extractor.readers.html import read_html

        doc = read_html(path, data, limits)
    elif fmt == "mht":
        from extractor.readers.html import read_mht

        doc = read_mht(path, data, limits)
    elif fmt == "text":
        from extractor.readers.text import read_text

        doc = read_text(path, data)
    elif fmt in ("doc", "rtf"):
        from extractor.readers.doc import read_doc

        doc = read_doc(path, data, fmt, timeout=limits.timeout)
    elif fmt == "image":
        from extractor.readers.ocr import read_image

        if ocr == "never":
            raise ReadError("an image (scanned page): it needs OCR, which --ocr never turns off", "needs_ocr")
        doc = read_image(path, data, progress=progress)
    elif fmt == "json":
        raise ReadError("a JSON data file, not a report", "not_a_report")
    elif fmt == "zip":
        raise ReadError("a ZIP archive, not a report: use `extractor ingest` to read archives", "unsupported")
    else:
        raise ReadError("not a supported report format (PDF, DOCX, DOC/WPS/RTF, HTML, text or a scanned image)", "unsupported")
    doc.sha256 = hashlib.sha256(data).hexdigest()
    return doc
