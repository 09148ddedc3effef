"""Plain text and Markdown: paragraphs, with tab-separated and `|`-piped lines read as table rows.

Text converted from PDF or Word keeps tables as tab-separated lines or Markdown pipe tables; each run
of such lines becomes one Grid. Everything else is one Paragraph per non-empty line.
"""

from __future__ import annotations

import re

from extractor.document import Document, Grid, Paragraph, ReadError

_MD_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def decode_text(data: bytes) -> str:
    """Decode text bytes: UTF-8 (with or without BOM), else GB18030, else what detection says."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ReadError("cannot tell the text encoding", "corrupt")
    return str(best)


def _pipe_cells(line: str) -> list[str]:
    inner = line.strip()
    if inner.startswith("|"):
        inner = inner[1:]
    if inner.endswith("|"):
        inner = inner[:-1]
    return [c.strip() for c in inner.split("|")]


def read_text(path: str, data: bytes) -> Document:
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    doc = Document(path=path, format="text", pages=None)
    grid_rows: list[list[str | None]] = []

    def flush() -> None:
        if grid_rows:
            doc.blocks.append(Grid(rows=list(grid_rows)))
            grid_rows.clear()

    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("|") and stripped.count("|") >= 2:
            if not _MD_SEPARATOR.match(stripped):
                grid_rows.append(list(_pipe_cells(stripped)))
            continue
        if "\t" in line and line.strip("\t ").strip():
            grid_rows.append([c.strip() for c in line.rstrip("\n").split("\t")])
            continue
        flush()
        if stripped:
            doc.blocks.append(Paragraph(text=stripped))
    flush()
    if not doc.blocks:
        raise ReadError("the text file is empty", "empty")
    return doc
