"""Generate the hostile-file set: bombs, traps and oddities that `extractor` must refuse in one line
within its limits, plus good reports dressed oddly that it must still read.

    python scripts/make_hostile.py OUT_DIR [--list]

Nothing here is committed: tests/test_hostile.py generates the set into a temporary folder (about
10 MB on disk, a few seconds). `make(out)` returns {file name: Case}; `expect` is the ReadError
kind (`ok` for a good report) and `says` a piece of the one-line message.
"""

from __future__ import annotations

import argparse
import io
import os
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOOD_PDF = ROOT / "fixtures" / "real" / "hzq2023.pdf"
GOOD_DOCX = ROOT / "fixtures" / "corpus" / "c002_2021_plain.docx"
GOOD_HTML = ROOT / "fixtures" / "html" / "c002_2021_plain.html"
GOOD_RTF = ROOT / "fixtures" / "doc" / "c001_2019_plain.rtf"
MB = 1 << 20


@dataclass
class Case:
    expect: str  # a ReadError kind, or "ok"
    says: str = ""  # part of the one-line error
    posix: bool = False  # needs a POSIX file system feature (FIFO, symlink to a device)
    name: bytes | None = None  # the file's name as bytes, when it is not UTF-8


# ------------------------------------------------------------------------------------------------
# zip helpers


def _zeros_deflate(size: int) -> tuple[bytes, int]:
    """Raw deflate data of `size` zero bytes, built from one compressed 16 MB block repeated (a full
    flush resets the compressor, so the block is the same each time): seconds, not minutes."""
    chunk = 16 * MB
    assert size % chunk == 0
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(bytes(chunk)) + comp.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    zeros = bytes(chunk)
    for _ in range(size // chunk):
        crc = zlib.crc32(zeros, crc)
    return block * (size // chunk) + b"\x03\x00", crc


def _raw_zip(entries: list[tuple[bytes, bytes, int, int]], aliases: int = 0, version: int = 20) -> bytes:
    """A zip of deflated (name, raw data, crc, size) members; `aliases` extra central-directory
    entries all pointing at the first member's data (an overlapping-member bomb)."""
    out = io.BytesIO()
    central = []
    for name, data, crc, size in entries:
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, version, 0x800, 8, 0, 0, crc, len(data), size, len(name), 0))
        out.write(name + data)
        central.append((name, crc, len(data), size, offset))
    first = central[0]
    for i in range(aliases):
        central.append((b"copy%03d_" % i + first[0], first[1], first[2], first[3], first[4]))
    start = out.tell()
    for name, crc, csize, size, offset in central:
        out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, version, version, 0x800, 8, 0, 0, crc, csize, size, len(name), 0, 0, 0, 0, 0, offset))
        out.write(name)
    end = out.tell()
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), end - start, start, 0))
    return out.getvalue()


def _docx_with(base: Path, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = (replace or {}).get(info.filename, src.read(info))
            dst.writestr(info.filename, data)
        for name, data in (add or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def _variant(base: Path, tag: bytes) -> bytes:
    """The same DOCX with its own bytes (a zip comment), so batch de-duplication keeps it."""
    out = io.BytesIO()
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        dst.comment = tag
    return out.getvalue()


def _document_xml(base: Path) -> bytes:
    with zipfile.ZipFile(base) as zf:
        return zf.read("word/document.xml")


# ------------------------------------------------------------------------------------------------
# PDF helpers


def pdf_bytes(objects: list[bytes], root: int = 1, prev_loop: bool = False, header: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n") -> bytes:
    """A PDF of numbered objects (1-based) with a correct xref; `prev_loop` makes the trailer's /Prev
    point at its own xref table (an xref loop). The one small PDF writer of the scripts and tests."""
    out = io.BytesIO()
    out.write(header)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    prev = b" /Prev %d" % xref if prev_loop else b""
    out.write(b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, prev, xref))
    return out.getvalue()


def _stream(content: bytes, extra: bytes = b"", flate: bool = False) -> bytes:
    if flate:
        content = zlib.compress(content, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(content), extra) + content + b"\nendstream"


def _text_page_pdf(pages: int, media: bytes = b"[0 0 595 842]", content: bytes | None = None, flate: bool = False) -> bytes:
    """`pages` pages sharing one content stream and one font."""
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        _stream(content if content is not None else b"BT /F1 12 Tf 72 720 Td (Annual report page) Tj ET", flate=flate),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for _ in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Contents 3 0 R /Resources << /Font << /F1 4 0 R >> >> >>" % media)
    return pdf_bytes(objects)


def _huge_mediabox_scan() -> bytes:
    """A 'scan': one small gray image on a 100,000-point page."""
    image = zlib.compress(bytes([200]) * 64 * 64)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        _stream(image, b" /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100000 100000] /Contents 5 0 R /Resources << /XObject << /Im1 3 0 R >> >> >>",
        _stream(b"q 100000 0 0 100000 0 0 cm /Im1 Do Q"),
    ]
    return pdf_bytes(objects)


def _page_tree_cycle() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 2 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 4 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] >>",
    ]
    return pdf_bytes(objects)


# ------------------------------------------------------------------------------------------------
# images


def _png(width: int, height: int) -> bytes:
    """A 1-bit PNG of the given size (all white), written row by row without PIL."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _tiff_frames(frames: int) -> bytes:
    from PIL import Image

    images = [Image.new("L", (32, 32), 255) for _ in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "TIFF", save_all=True, append_images=images[1:])
    return out.getvalue()


# ------------------------------------------------------------------------------------------------
# HTML


def _nested_html(depth: int, inner: bytes = b"x") -> bytes:
    return b"<html><body>" + b"<div>" * depth + inner + b"</div>" * depth + b"</body></html>"


def _wrapped_report(depth: int) -> bytes:
    """A real report page with its body nested `depth` divs deep."""
    html = GOOD_HTML.read_bytes()
    start = html.index(b">", html.lower().index(b"<body")) + 1
    end = html.lower().rindex(b"</body")
    return html[:start] + b"<div>" * depth + html[start:end] + b"</div>" * depth + html[end:]


def _span_bomb() -> bytes:
    row = b"<tr>" + b'<td colspan="1000" rowspan="65534">1</td>' * 50 + b"</tr>"
    return b"<html><body><p>\xe8\xa1\xa8</p><table>" + row * 2000 + b"</table></body></html>"


# ------------------------------------------------------------------------------------------------
# the set


def make(out: Path) -> dict[str, Case]:
    """Write every case into `out`; returns {file name: Case}."""
    out.mkdir(parents=True, exist_ok=True)
    cases: dict[str, Case] = {}

    def put(name: str, data: bytes, case: Case) -> None:
        (out / name).write_bytes(data)
        cases[name] = case

    body = _document_xml(GOOD_DOCX)
    # zip bombs
    zeros, crc = _zeros_deflate(640 * MB)
    put("bomb_member.docx", _bomb_docx(zeros, crc, 640 * MB), Case("too_large", "--max-zip-ratio"))
    put("bomb_overlap.zip", _raw_zip([(b"report.docx", zeros, crc, 640 * MB)], aliases=99), Case("too_large", "--max-zip-ratio"))
    put("bomb_overlap.docx", _bomb_overlap_docx(), Case("too_large", "--max-zip-ratio"))
    # XML entity expansion and external entities
    laughs = b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        b'<!ENTITY %s "%s">' % (b"abcdefghij"[i + 1 : i + 2], (b"&" + b"abcdefghij"[i : i + 1] + b";") * 10) for i in range(9)
    ) + b"]>"
    put("billion_laughs.docx", _docx_with(GOOD_DOCX, replace={"word/document.xml": laughs + body.replace(b"\xe4\xb8\x80", b"&j;\xe4\xb8\x80", 1).split(b"?>", 1)[-1]}), Case("any"))
    xxe = b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    put("xxe.docx", _docx_with(GOOD_DOCX, replace={"word/document.xml": xxe + body.replace(b"<w:t>", b"<w:t>&xxe;", 1).split(b"?>", 1)[-1]}), Case("any"))
    put("xxe.html", b'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><html><body><p>&xxe;</p><p>\xe5\xb9\xb4\xe6\x8a\xa5</p></body></html>', Case("any"))
    # nesting and spans
    put("deep_100000.html", _nested_html(100_000), Case("too_large", "--max-html-depth"))
    put("deep_100000.mht", _mht(_nested_html(100_000)), Case("too_large", "--max-html-depth"))
    put("span_bomb.html", _span_bomb(), Case("too_large", "--max-table-cells"))
    # PDFs
    put("many_pages.pdf", _text_page_pdf(3000), Case("too_large", "--max-pages"))
    put("huge_mediabox.pdf", _huge_mediabox_scan(), Case("too_large", "--max-megapixels"))
    put("big_stream.pdf", _text_page_pdf(1, content=b" " * (200 * MB), flate=True), Case("too_large", "--max-stream-mb"))
    put("page_tree_cycle.pdf", _page_tree_cycle(), Case("corrupt"))
    put("xref_loop.pdf", pdf_bytes([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"], prev_loop=True), Case("corrupt"))
    # images
    put("huge_image.png", _png(20_000, 20_000), Case("too_large", "--max-megapixels"))
    put("frames_400.tiff", _tiff_frames(400), Case("too_large", "--max-frames"))
    # not regular files
    if hasattr(os, "mkfifo"):
        os.mkfifo(out / "fifo.pdf")
        cases["fifo.pdf"] = Case("not_a_file", "FIFO", posix=True)
    if os.path.exists("/dev/zero"):
        os.symlink("/dev/zero", out / "zero.pdf")
        cases["zero.pdf"] = Case("not_a_file", "device", posix=True)
    # zips with odd members (ingest): traversal, long names, a version field no zipfile reads, hidden
    docx_bytes = GOOD_DOCX.read_bytes()
    with zipfile.ZipFile(out / "odd_members.zip", "w") as zf:  # each member its own bytes: no duplicates
        zf.writestr("../../../../../tmp/extractor_traversal_test.docx", _variant(GOOD_DOCX, b"traversal"))
        zf.writestr("/etc/extractor_absolute_test.docx", _variant(GOOD_DOCX, b"absolute"))
        zf.writestr("年报/" + "很长的名字" * 20 + ".docx", _variant(GOOD_DOCX, b"long name"))
        zf.writestr(".hidden.docx", _variant(GOOD_DOCX, b"hidden"))
    cases["odd_members.zip"] = Case("unsupported", "ZIP")
    put("odd_version.zip", _odd_version_zip(docx_bytes), Case("unsupported"))
    # good reports dressed oddly: must be read
    put("good_deep_600.html", _wrapped_report(600), Case("ok"))
    put("good_irregular_vmerge.docx", _docx_with(GOOD_DOCX, replace={"word/document.xml": _irregular_vmerge(body)}), Case("ok"))
    put("good_report.rtf", GOOD_RTF.read_bytes(), Case("ok"))
    put("good_report.pdf", GOOD_PDF.read_bytes(), Case("ok"))
    gbk = "洪泽区2023年报（GBK 文件名）.pdf".encode("gb18030")
    if sys.platform != "win32":
        with open(os.path.join(os.fsencode(out), gbk), "wb") as fh:
            fh.write(GOOD_PDF.read_bytes() + b"\n%GBK-named copy\n")
        cases[os.fsdecode(gbk)] = Case("ok", name=gbk, posix=True)
    return cases


def _bomb_docx(zeros: bytes, crc: int, size: int) -> bytes:
    """A real DOCX plus a 640 MB member of zeros compressed 1000 : 1."""
    entries = []
    with zipfile.ZipFile(GOOD_DOCX) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            comp = zlib.compressobj(9, zlib.DEFLATED, -15)
            entries.append((info.filename.encode(), comp.compress(data) + comp.flush(), zlib.crc32(data), len(data)))
    entries.append((b"word/media/image1.png", zeros, crc, size))
    return _raw_zip(entries)


def _bomb_overlap_docx() -> bytes:
    """A DOCX whose directory lists 100 members over one 60 MB block (6 GB declared)."""
    zeros, crc = _zeros_deflate(64 * MB)
    entries = []
    with zipfile.ZipFile(GOOD_DOCX) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            comp = zlib.compressobj(9, zlib.DEFLATED, -15)
            entries.append((info.filename.encode(), comp.compress(data) + comp.flush(), zlib.crc32(data), len(data)))
    return _raw_zip([(b"word/media/a.bin", zeros, crc, 64 * MB), *entries], aliases=99)


def _odd_version_zip(member: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return _raw_zip([(b"report.docx", comp.compress(member) + comp.flush(), zlib.crc32(member), len(member))], version=101)


def _irregular_vmerge(body: bytes) -> bytes:
    """The first table's first cell marked as the continuation of a vertical merge that has no start
    (python-docx's row.cells fails on it; Word shows it as a plain cell)."""
    table = body.index(b"<w:tbl>")
    cell = body.index(b"<w:tc>", table) + len(b"<w:tc>")
    if body[cell : cell + 8] == b"<w:tcPr>":
        cell += len(b"<w:tcPr>")
        return body[:cell] + b"<w:vMerge/>" + body[cell:]
    return body[:cell] + b"<w:tcPr><w:vMerge/></w:tcPr>" + body[cell:]


def _mht(html: bytes) -> bytes:
    return (
        b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b\"\r\n\r\n--b\r\n"
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + html + b"\r\n--b--\r\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--list", action="store_true", help="print each file with the outcome it must give")
    args = parser.parse_args()
    cases = make(args.out)
    if args.list:
        for name, case in cases.items():
            print(f"{name.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')}\t{case.expect}\t{case.says}")
    print(f"{len(cases)} files in {args.out}")


if __name__ == "__main__":
    main()
