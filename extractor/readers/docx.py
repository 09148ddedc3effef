"""DOCX (Word 2007+, also what WPS saves): body paragraphs and tables in document order.

Merged cells are resolved from the XML: a horizontally merged cell (gridSpan) and the continuation
of a vertically merged one (vMerge) leave `None` in the slots they cover. Nested tables become
Grids of their own, after the table that holds them.

Only the main document part and the core properties (for the title) are read: python-docx's
`Document()` parses every part of the package (styles, numbering, theme, fonts), which was half the
time of reading a report. The XML is parsed by plain lxml with python-docx's parser settings (blank
text removed, entities not resolved) but without its custom element classes, whose per-element
lookup and proxies were half of what remained; `_paragraph_text` gives a paragraph's text as
python-docx's `CT_P.text` does (tests/test_docx_layout.py holds the two equal).
"""

from __future__ import annotations

import io
import posixpath
import zipfile

from docx.oxml.ns import qn
from lxml import etree

from extractor.document import Document, Grid, Paragraph, ReadError

_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False)


def parse_xml(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, _PARSER)


W_P, W_R, W_T, W_HYPERLINK = qn("w:p"), qn("w:r"), qn("w:t"), qn("w:hyperlink")
W_BR, W_TYPE = qn("w:br"), qn("w:type")
# run content python-docx turns into text (`CT_R.text`); a break is a newline only when it wraps a line
_RUN_TEXT = {qn("w:cr"): "\n", qn("w:noBreakHyphen"): "-", qn("w:ptab"): "\t", qn("w:tab"): "\t"}


def _run_text(run) -> str:
    parts = []
    for child in run.iterchildren():
        tag = child.tag
        if tag == W_T:
            parts.append(child.text or "")
        elif tag == W_BR:
            parts.append("\n" if child.get(W_TYPE, "textWrapping") == "textWrapping" else "")
        else:
            parts.append(_RUN_TEXT.get(tag, ""))
    return "".join(parts)


def _paragraph_text(p) -> str:
    """A paragraph's text as python-docx gives it: its runs and its hyperlinks' runs."""
    parts = []
    for child in p.iterchildren(W_R, W_HYPERLINK):
        if child.tag == W_R:
            parts.append(_run_text(child))
        else:
            parts.extend(_run_text(run) for run in child.iterchildren(W_R))
    return "".join(parts)


def _cell_text(tc) -> str:
    """Text of a table cell without the text of tables nested in it; paragraphs joined by newlines."""
    parts = []
    for child in tc.iterchildren(W_P):
        parts.append("".join(t.text or "" for t in child.iter(W_T)))
    return "\n".join(p for p in parts if p is not None).strip()


W_TR, W_TC, W_TBL, W_VAL = qn("w:tr"), qn("w:tc"), qn("w:tbl"), qn("w:val")
W_TCPR, W_TRPR, W_GRIDSPAN, W_GRIDBEFORE, W_VMERGE = qn("w:tcPr"), qn("w:trPr"), qn("w:gridSpan"), qn("w:gridBefore"), qn("w:vMerge")


def _int_property(parent, prop: str, child: str, default: int) -> int:
    """An integer `w:val` of `parent/prop/child` (a row's gridBefore); ValueError when it is not a
    number (the caller reads that row cell by cell)."""
    holder = parent.find(prop)
    element = holder.find(child) if holder is not None else None
    value = element.get(W_VAL) if element is not None else None
    return default if value is None else int(value)


def _cell_properties(tc) -> tuple[int, bool]:
    """A cell's gridSpan (ValueError when it is not a number) and whether it continues a vertical
    merge (`w:vMerge` without a value, or with 'continue'), from one pass over its properties (the
    schema puts them first in the cell; lxml's `find` costs more than the pass)."""
    holder = tc[0] if len(tc) and tc[0].tag == W_TCPR else tc.find(W_TCPR)
    if holder is None:
        return 1, False
    span = merge = None
    for child in holder:
        tag = child.tag
        if tag == W_GRIDSPAN and span is None:
            span = child
        elif tag == W_VMERGE and merge is None:
            merge = child
    value = span.get(W_VAL) if span is not None else None
    return (1 if value is None else int(value)), merge is not None and merge.get(W_VAL, "continue") == "continue"


class _Layout:
    """The layout grid of one table read straight from its XML: each row's cells by grid column, as
    python-docx's `row.cells` gives them (a spanned cell once per column it covers, a vertically
    merged continuation as the cell it continues), without python-docx's XPath per cell, which made
    reading tables the slowest part of a DOCX (tests/test_docx_layout.py holds the two equal)."""

    def __init__(self, tbl):
        self.rows = list(tbl.iterchildren(W_TR))
        self._cells: list[list[tuple[int, object]] | None] = [None] * len(self.rows)
        self._at: list[dict[int, object] | None] = [None] * len(self.rows)
        self._span: dict = {}  # tc element -> the grid columns it covers
        self._continues: dict = {}  # tc element -> it continues a vertical merge

    def placed(self, r: int) -> list[tuple[int, object]]:
        """Row r's cells with the grid column each starts at."""
        known = self._cells[r]
        if known is None:
            tr = self.rows[r]
            known, offset = [], _int_property(tr, W_TRPR, W_GRIDBEFORE, 0)
            for tc in tr.iterchildren(W_TC):
                known.append((offset, tc))
                span, self._continues[tc] = _cell_properties(tc)
                self._span[tc] = span
                offset += span
            self._cells[r] = known
        return known

    def at(self, r: int, offset: int):
        """The cell of row r that starts at grid column `offset` (the first, if several do), or None."""
        known = self._at[r]
        if known is None:
            known = {}
            for start, tc in self.placed(r):
                known.setdefault(start, tc)
            self._at[r] = known
        return known.get(offset)

    def root(self, r: int, offset: int, tc):
        """The cell a vertical merge continues, through any number of continuations; ValueError for a
        continuation with nothing above it at its column."""
        while self._continues[tc]:
            if r == 0 or (tc := self.at(r - 1, offset)) is None:
                raise ValueError("vertical merge without a cell above")
            r -= 1
        return tc

    def cells(self, r: int) -> list:
        """Row r's cell elements, one per grid column they cover."""
        out = []
        for offset, tc in self.placed(r):
            root = self.root(r, offset, tc)
            out.extend([root] * self._span[root])
        return out


def _table_grid(tbl) -> tuple[Grid, list]:
    """A table element's Grid, and the tables nested in its cells (elements), to read after it."""
    rows: list[list[str | None]] = []
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    origin: dict = {}  # tc element -> slot of its top-left (the dict keeps the lxml proxies alive)
    nested: list = []
    layout = _Layout(tbl)
    for r, tr in enumerate(layout.rows):
        out: list[str | None] = []
        try:
            cells = layout.cells(r)
        except ValueError:  # malformed grids: the raw cell list, one slot per cell
            cells = list(tr.iterchildren(W_TC))
        for c, tc in enumerate(cells):
            if tc in origin:
                r0, c0 = origin[tc]
                rs, cs = spans.get((r0, c0), (1, 1))
                spans[(r0, c0)] = (max(rs, r - r0 + 1), max(cs, c - c0 + 1))
                out.append(None)
                continue
            origin[tc] = (r, c)
            out.append(_cell_text(tc))
            nested.extend(tc.iterchildren(W_TBL))
        rows.append(out)
    spans = {k: v for k, v in spans.items() if v != (1, 1)}
    return Grid(rows=rows, spans=spans), nested


W_TXBX = qn("w:txbxContent")
_CONTAINERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml"), qn("w:smartTag"), qn("w:ins")}


def _read_body(parent, doc: Document) -> None:
    """Paragraphs and tables in document order, looking inside content controls and the text boxes
    some agencies put their tables in."""
    for child in parent.iterchildren():
        if child.tag == W_P:
            boxes = list(child.iter(W_TXBX))
            text = _paragraph_text(child).strip()
            if text:
                doc.blocks.append(Paragraph(text=text))
            seen: set[int] = set()
            for box in boxes:
                # a drawing has the same box twice (the DrawingML shape and its VML fallback)
                key = hash("".join(box.itertext()))
                if key not in seen:
                    seen.add(key)
                    _read_body(box, doc)
        elif child.tag == W_TBL:
            pending = [child]
            while pending:
                grid, nested = _table_grid(pending.pop(0))
                doc.blocks.append(grid)
                pending.extend(nested)
        elif child.tag in _CONTAINERS:
            _read_body(child, doc)


_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"


def _related_part(package: zipfile.ZipFile, relationship: str, default: str | None) -> str | None:
    """The package part the root relationships point to with a type ending in `relationship`."""
    try:
        rels = parse_xml(package.read("_rels/.rels"))
    except KeyError:
        return default
    for rel in rels.iter(_RELATIONSHIP):
        if (rel.get("Type") or "").endswith("/" + relationship) and rel.get("TargetMode") != "External":
            return posixpath.normpath(rel.get("Target", "").lstrip("/"))
    return default


def _title(package: zipfile.ZipFile) -> str:
    name = _related_part(package, "core-properties", None)
    if not name or name not in package.namelist():
        return ""
    element = parse_xml(package.read(name)).find(_DC_TITLE)
    return (element.text or "").strip() if element is not None else ""


def read_docx(path: str, data: bytes) -> Document:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            main = _related_part(package, "officeDocument", "word/document.xml")
            body = parse_xml(package.read(main or "")).find(qn("w:body"))
            title = _title(package)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ReadError(f"corrupt DOCX file ({exc.__class__.__name__})", "corrupt") from None
    except Exception as exc:  # lxml and zlib errors of broken packages
        raise ReadError(f"unreadable DOCX file ({exc.__class__.__name__}: {exc})", "corrupt") from None
    if body is None:
        raise ReadError("corrupt DOCX file (no document body: not a Word document)", "corrupt")
    doc = Document(path=path, format="docx", pages=None, title=title)
    _read_body(body, doc)
    if not doc.blocks:
        raise ReadError("the DOCX file has no text", "empty")
    return doc
