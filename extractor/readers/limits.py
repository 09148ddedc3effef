"""Limits on one document, and the cheap checks that apply them before any heavy work.

Why here, below the readers' heavy code: a zip bomb, a 3,000-page PDF or a 900-megapixel image is
cheapest to refuse from its headers (zip directory, page count, image size), before a reader
decompresses or decodes it. Each limit refused gives its own one-line reason that names the flag
which raises it, and a `ReadError` of kind `too_large` (or `not_a_file`). The time and memory limits
are enforced by `extractor.guard`, in a separate process; the rest are checked here, in-process.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, fields

from extractor.document import ReadError

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-document limits. Defaults fit a 2-core, 24 GB machine running two documents at once."""

    timeout: float = 120.0  # seconds of wall time per document (guard: the child is killed)
    memory_mb: int = 2048  # resident memory per document (guard: the child is killed)
    max_file_mb: int = 256  # size of the file itself
    max_pages: int = 300  # PDF pages
    max_stream_mb: int = 64  # one PDF stream, decompressed
    max_unzipped_mb: int = 512  # everything a DOCX/ZIP (or all of a PDF's streams) decompresses to
    max_zip_ratio: int = 200  # decompressed : compressed, for zip members over 1 MB
    max_zip_members: int = 10_000
    max_megapixels: int = 100  # one image or scanned page (at 300 dpi for a PDF page)
    max_frames: int = 100  # frames of a multi-page TIFF
    max_html_mb: int = 32  # an HTML/MHT page
    max_html_depth: int = 1000  # element nesting of an HTML page
    max_table_cells: int = 1_000_000  # slots of one table after rowspan/colspan

    @staticmethod
    def flag(name: str) -> str:
        """The command-line flag that sets a limit (`--timeout`, `--max-pages`, …)."""
        return "--" + name.replace("_", "-")

    def replace(self, **changes: object) -> Limits:
        """A copy with some limits changed; `None` values are ignored (unset command-line flags)."""
        known = {f.name for f in fields(self)}
        values = {k: v for k, v in changes.items() if k in known and v is not None}
        return Limits(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **values})


DEFAULT_LIMITS = Limits()


def over(what: str, value: float, limit_name: str, limit: float, unit: str = "", *, more: bool = False) -> ReadError:
    """'the PDF has 3,000 pages; the limit is 300: --max-pages' as a too_large ReadError. `unit` is
    shown after both numbers ('MB'), `more` says the value is only known to exceed the limit."""
    shown = f"more than {_num(limit)}" if more else _num(value)
    unit = f" {unit}" if unit else ""
    return ReadError(f"{what} {shown}{unit}; the limit is {_num(limit)}{unit}: {Limits.flag(limit_name)}", "too_large")


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


# ------------------------------------------------------------------------------------------------
# the file itself


def read_regular_file(path: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of a regular file, refusing FIFOs, devices, sockets and folders before opening them
    (opening a FIFO blocks; /dev/zero never ends) and files over the size limit."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ReadError("file not found", "not_a_file") from None
    except OSError as exc:
        raise ReadError(f"cannot read the file: {exc.strerror or exc}", "not_a_file") from None
    if stat.S_ISDIR(info.st_mode):
        raise ReadError("is a folder, not a file", "not_a_file")
    if not stat.S_ISREG(info.st_mode):
        raise ReadError(f"is a {_file_type(info.st_mode)}, not a regular file", "not_a_file")
    if info.st_size > limits.max_file_mb * MB:
        raise over("the file is", info.st_size / MB, "max_file_mb", limits.max_file_mb, "MB")
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: a file swapped for a FIFO after the stat cannot hang us
    except OSError as exc:
        raise ReadError(f"cannot read the file: {exc.strerror or exc}", "not_a_file") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ReadError("is not a regular file", "not_a_file")
        data = fh.read(limits.max_file_mb * MB + 1)
    if len(data) > limits.max_file_mb * MB:
        raise over("the file is", len(data) / MB, "max_file_mb", limits.max_file_mb, "MB", more=True)
    return data


def _file_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def read_stream(stream: object, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of a binary file object, at most the size limit."""
    data = stream.read(limits.max_file_mb * MB + 1)  # type: ignore[attr-defined]
    if not isinstance(data, bytes | bytearray):
        raise TypeError("parse() needs a binary file object (opened with 'rb')")
    if len(data) > limits.max_file_mb * MB:
        raise over("the file is", len(data) / MB, "max_file_mb", limits.max_file_mb, "MB", more=True)
    return bytes(data)


# ------------------------------------------------------------------------------------------------
# per format


def check(data: bytes, fmt: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a file whose headers already show it is over a limit (raises a too_large ReadError)."""
    if fmt == "pdf":
        check_pdf(data, limits)
    elif fmt in ("docx", "zip"):
        check_zip(data, limits, "DOCX" if fmt == "docx" else "ZIP")
    elif fmt == "image":
        check_image(data, limits)
    elif fmt in ("html", "mht") and len(data) > limits.max_html_mb * MB:
        raise over("the web page is", len(data) / MB, "max_html_mb", limits.max_html_mb, "MB")


def check_zip(data: bytes | str, limits: Limits = DEFAULT_LIMITS, what: str = "ZIP") -> None:
    """Zip bombs from the central directory: member count, each member's and the total declared size,
    and the compression ratio. Declared sizes bind: Python's zipfile never inflates past them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise ReadError(f"corrupt {what} file ({exc.__class__.__name__})", "corrupt") from None
    if len(infos) > limits.max_zip_members:
        raise over(f"the {what} file has", len(infos), "max_zip_members", limits.max_zip_members, "members")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MB and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise over(f"{what} member {_short(info.filename)}: compression ratio", ratio, "max_zip_ratio", limits.max_zip_ratio)
        if total > limits.max_unzipped_mb * MB:
            raise over(f"the {what} file decompresses to", total / MB, "max_unzipped_mb", limits.max_unzipped_mb, "MB")


def _short(name: str, width: int = 60) -> str:
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return name if len(name) <= width else name[: width - 1] + "…"


_STREAM = re.compile(rb"stream\r?\n")  # 'endstream' is dropped after the match (a look-behind is 15x slower)
MAX_DEFLATE_RATIO = 1032  # the most deflate expands: a 258-byte match coded in two bits


def _stream_starts(data: bytes) -> list[int]:
    """Where the data of each stream begins (after a `stream` keyword that is not `endstream`)."""
    return [m.end() for m in _STREAM.finditer(data) if data[max(m.start() - 3, 0) : m.start()] != b"end"]


def check_pdf(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Page count and page size from pdfium (no page content is parsed), and the decompressed size of
    every Flate stream, inflated in bounded steps so a bomb costs at most the limit."""
    from extractor.readers import pdfium_raw
    from extractor.readers.pdfium_lock import PDFIUM_LOCK

    with PDFIUM_LOCK:  # pdfium is not thread-safe
        try:
            pdf = pdfium_raw.Document(data)
        except pdfium_raw.PdfiumError:
            return  # the reader gives the precise reason (encrypted, corrupt)
        with pdf:
            pages = len(pdf)
            if pages > limits.max_pages:
                raise over("the PDF has", pages, "max_pages", limits.max_pages, "pages")
            limit_px = limits.max_megapixels * 1_000_000
            for index in range(pages):
                try:
                    width, height = pdf.get_page_size(index)
                except pdfium_raw.PdfiumError:
                    raise ReadError(f"corrupt PDF: page {index + 1} cannot be read (a broken page tree)", "corrupt") from None
                pixels = abs(width * height) * (300 / 72) ** 2
                if pixels > limit_px:
                    raise over(
                        f"PDF page {index + 1} is {_num(abs(width))} × {_num(abs(height))} pt: at 300 dpi",
                        pixels / 1e6, "max_megapixels", limits.max_megapixels, "megapixels",
                    )
    _check_streams(data, limits)


def _check_streams(data: bytes, limits: Limits) -> None:
    """First with each stream too short to pass the per-stream limit even at deflate's largest ratio
    counted at that bound, not inflated: when that shows no limit can be passed, none is; otherwise
    every stream is inflated, to refuse (or not) exactly."""
    starts = _stream_starts(data)
    if _streams_over(data, starts, limits, bound_short=True) and (error := _streams_over(data, starts, limits, bound_short=False)):
        raise error


def _streams_over(data: bytes, starts: list[int], limits: Limits, bound_short: bool) -> ReadError | None:
    """The first limit the streams (decompressed, in file order) pass, or None."""
    each, total_limit, total = limits.max_stream_mb * MB, limits.max_unzipped_mb * MB, 0
    for start in starts:
        most = (len(data) - start + 1) * MAX_DEFLATE_RATIO
        size = most if bound_short and most <= each else _inflated_size(data, start, each)
        if size > each:
            return over(f"a PDF stream (at byte {start:,}) decompresses to", size / MB, "max_stream_mb", limits.max_stream_mb, "MB", more=True)
        total += size
        if total > total_limit:
            return over("the PDF's streams decompress to", total / MB, "max_unzipped_mb", limits.max_unzipped_mb, "MB", more=True)
    return None


def _inflated_size(data: bytes, start: int, limit: int) -> int:
    """What the Flate data at `start` decompresses to, inflated in bounded steps (at most `limit` + 1
    bytes are made); data that is not Flate, or damaged, counts up to the error: the readers judge it."""
    inflater = zlib.decompressobj()
    size, pos, tail = 0, start, b""
    try:
        while size <= limit and not inflater.eof and (tail or pos < len(data)):
            if not tail:
                tail, pos = data[pos : pos + 65536], pos + 65536
            size += len(inflater.decompress(tail, limit + 1 - size))
            tail = inflater.unconsumed_tail
    except zlib.error:
        pass
    return size


def check_image(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Pixels and frames from the image header, before anything is decoded."""
    import warnings

    from PIL import Image

    pil_limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's own bomb check: replaced by ours, in our words
            Image.MAX_IMAGE_PIXELS = None
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types (TypeError, struct.error, …) for damaged headers
        raise ReadError(f"corrupt or unreadable image ({exc.__class__.__name__})", "corrupt") from None
    finally:
        Image.MAX_IMAGE_PIXELS = pil_limit
    pixels = width * height
    if pixels > limits.max_megapixels * 1_000_000:
        raise over(f"the image is {width:,} × {height:,} pixels:", pixels / 1e6, "max_megapixels", limits.max_megapixels, "megapixels")
    if frames > limits.max_frames:
        raise over("the TIFF has", frames, "max_frames", limits.max_frames, "frames")
