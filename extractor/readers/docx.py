"""DOCX (Word 2007+, also what WPS saves): body paragraphs and tables in document order.

Merged cells are resolved from the XML: a horizontally merged cell (gridSpan) and the continuation
of a vertically merged one (vMerge) leave `None` in the slots they cover. Nested tables become
Grids of their own, after the table that holds them.
"""

from __future__ import annotations

import io
import zipfile

from docx import Document as load_docx
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph as DocxParagraph

from extractor.document import Document, Grid, Paragraph, ReadError


def _cell_text(tc) -> str:
    """Text of a table cell without the text of tables nested in it; paragraphs joined by newlines."""
    parts = []
    for child in tc.iterchildren():
        if child.tag == qn("w:p"):
            parts.append("".join(t.text or "" for t in child.iter(qn("w:t"))))
    return "\n".join(p for p in parts if p is not None).strip()


def _table_grid(table: Table) -> tuple[Grid, list[Table]]:
    rows: list[list[str | None]] = []
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    origin: dict = {}  # tc element -> slot of its top-left (the dict keeps the lxml proxies alive)
    nested: list[Table] = []
    for r, row in enumerate(table.rows):
        out: list[str | None] = []
        try:
            cells = row.cells
        except (IndexError, ValueError):  # malformed grids: fall back to the raw tc list
            cells = [_Cell(tc, table) for tc in row._tr.tc_lst]  # not row.cells again: it is what failed
        for c, cell in enumerate(cells):
            key = cell._tc
            if key in origin:
                r0, c0 = origin[key]
                rs, cs = spans.get((r0, c0), (1, 1))
                spans[(r0, c0)] = (max(rs, r - r0 + 1), max(cs, c - c0 + 1))
                out.append(None)
                continue
            origin[key] = (r, c)
            out.append(_cell_text(cell._tc))
            for tbl in cell._tc.iterchildren(qn("w:tbl")):
                nested.append(Table(tbl, cell))
        rows.append(out)
    spans = {k: v for k, v in spans.items() if v != (1, 1)}
    return Grid(rows=rows, spans=spans), nested


_CONTAINERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml"), qn("w:smartTag"), qn("w:ins")}


def _read_body(parent, document, doc: Document) -> None:
    """Paragraphs and tables in document order, looking inside content controls and the text boxes
    some agencies put their tables in."""
    for child in parent.iterchildren():
        if child.tag == qn("w:p"):
            boxes = list(child.iter(qn("w:txbxContent")))
            text = DocxParagraph(child, document).text.strip()
            if text:
                doc.blocks.append(Paragraph(text=text))
            seen: set[int] = set()
            for box in boxes:
                # a drawing has the same box twice (the DrawingML shape and its VML fallback)
                key = hash("".join(box.itertext()))
                if key not in seen:
                    seen.add(key)
                    _read_body(box, document, doc)
        elif child.tag == qn("w:tbl"):
            pending = [Table(child, document)]
            while pending:
                grid, nested = _table_grid(pending.pop(0))
                doc.blocks.append(grid)
                pending.extend(nested)
        elif child.tag in _CONTAINERS:
            _read_body(child, document, doc)


def read_docx(path: str, data: bytes) -> Document:
    try:
        document = load_docx(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ReadError(f"corrupt DOCX file ({exc.__class__.__name__})", "corrupt") from None
    except Exception as exc:  # python-docx raises many lxml/opc errors for broken packages
        raise ReadError(f"unreadable DOCX file ({exc.__class__.__name__}: {exc})", "corrupt") from None
    doc = Document(path=path, format="docx", pages=None, title=(document.core_properties.title or "").strip())
    _read_body(document.element.body, document, doc)
    if not doc.blocks:
        raise ReadError("the DOCX file has no text", "empty")
    return doc
