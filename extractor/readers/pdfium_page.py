"""A PDF page's chars and ruling lines from pdfium's raw API, shaped as pdfplumber shapes them.

pdfplumber spends nearly all its time in pdfminer parsing content streams. pdfium parses them about
ten times faster, so this module rebuilds the objects pdfplumber's table finder and text-line
utilities work on (chars, lines, rects, curves) from pdfium, the way pdfminer builds them:

- a char's box is its origin plus the font's advance width and the font descriptor's own /Descent
  (pdfium substitutes other metrics when a descriptor says 0, as LibreOffice's do), pushed through
  the char's matrix;
- pdfium invents spaces (and line breaks) between text objects and drops text objects holding only
  a space: invented chars are skipped, a dropped space object becomes one space char;
- paths, also inside Form XObjects, are split into subpaths and classified as line / rect / curve by
  pdfminer's rules, with each object's matrix applied.

Chars carry only the keys `pdf_layout` and the PDF reader read (text, box, upright); the rest of
pdfplumber's char dict was never read and cost a tenth of a page's time.

The result is a `PdfiumPage` holding these, whose `find_tables`, `outside_bbox` and
`extract_text_lines` run pdfplumber's algorithms as `pdf_layout` writes them again (pdfplumber itself
is not imported). What this engine does not
reproduce (ActualText spans, chars without a Unicode mapping, ligatures split into pieces, text
objects pdfium dropped as duplicates, vertical fonts, rotated pages, shifted MediaBoxes, fonts whose
descriptor cannot be read) raises `Unsupported`, and the caller reads that page with pdfplumber.

pdfium is not thread-safe: use one document per process (ingest workers are processes).
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from extractor.document import ReadError
from extractor.readers import pdf_layout

_OBJ = re.compile(rb"(\d+)\s+\d+\s+obj\b(.*?)endobj", re.DOTALL)
_FONT_NAME = re.compile(rb"/FontName\s*/([^\s/<>\[\]()]+)")
_DESCENT = re.compile(rb"/Descent\s*(-?\d*\.?\d+)")
_VERTICAL_CMAP = re.compile(rb"/Encoding\s*/[A-Za-z0-9-]+-V\b")
_SUBSET = re.compile(r"^[A-Z]{6}\+")


class Unsupported(Exception):
    """The page (or document) uses something this engine does not reproduce exactly."""


@dataclass
class FontFacts:
    """What pdfium does not say about a file's fonts, read from its raw bytes: each descriptor's own
    /Descent (glyph units) by font name (None when two descriptors of that name disagree)."""

    descents: dict[str, float | None]


def _without_subset(name: str) -> str:
    return _SUBSET.sub("", name)


def _name(raw: bytes) -> str:
    """A PDF name as pdfium returns it: #xx escapes decoded, bytes kept as latin-1."""
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw).decode("latin-1")


def font_facts(data: bytes) -> FontFacts:
    """Raises Unsupported when the font dictionaries cannot all be seen (compressed object streams)."""
    if b"/ObjStm" in data:
        raise Unsupported("objects in compressed object streams")
    if _VERTICAL_CMAP.search(data) and (b"/W2" in data or b"/DW2" in data):
        raise Unsupported("vertical fonts with their own displacements (W2 / DW2)")
    descents: dict[str, float | None] = {}
    for m in _OBJ.finditer(data):
        body = m.group(2)
        head = body[: body.find(b"stream")] if b"stream" in body else body
        if b"/FontDescriptor" in head and (name := _FONT_NAME.search(head)):
            descent = _DESCENT.search(head)
            value = float(descent.group(1)) if descent else 0.0
            value = -value if value > 0 else value  # pdfminer forces a positive /Descent negative
            full = _name(name.group(1))
            for key in {full, _without_subset(full)}:
                descents[key] = value if descents.get(key, value) == value else None
    return FontFacts(descents)


@functools.lru_cache(maxsize=1)
def _raw():
    """pdfium's functions (`pdfium_raw`), loaded on first use: importing this module does not load
    the library."""
    from extractor.readers import pdfium_raw

    return pdfium_raw


@functools.cache
def _fast(name: str, restype=ctypes.c_int):
    """pdfium's function `name` called without ctypes' argument conversion (pointers go in as ctypes
    pointers, `c_void_p` or byref, indexes as int): for the calls made once per char, path segment
    or page object, the conversion costs more than pdfium's work. Bind it to a local before a loop."""
    func = getattr(_raw(), name)
    fast = type(func)(ctypes.cast(func, ctypes.c_void_p).value)
    fast.restype = restype
    return fast


def _matrix(obj) -> tuple[float, float, float, float, float, float]:
    c = _raw()
    m = c.FS_MATRIX()
    if not c.FPDFPageObj_GetMatrix(obj, m):
        raise Unsupported("page object without a matrix")
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _mult(m1, m0):
    """m1 then m0 (pdfminer's mult_matrix)."""
    (a1, b1, c1, d1, e1, f1), (a0, b0, c0, d0, e0, f0) = m1, m0
    return (
        a0 * a1 + c0 * b1,
        b0 * a1 + d0 * b1,
        a0 * c1 + c0 * d1,
        b0 * c1 + d0 * d1,
        a0 * e1 + c0 * f1 + e0,
        b0 * e1 + d0 * f1 + f0,
    )


def _apply(m, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def _address(pointer) -> int:
    """A ctypes pointer's address, to key caches (faster than ctypes.cast)."""
    return ctypes.c_void_p.from_buffer(pointer).value or 0


def _objects(container, parent=None, form=None) -> Iterator[tuple[object, int, tuple | None]]:
    """(object, type, matrix of the Form XObjects around it or None) of every page object,
    descending into Form XObjects; `_placed(obj, parent)` gives the object's own in page space."""
    c = _raw()
    count = c.FPDFFormObj_CountObjects(form) if form is not None else c.FPDFPage_CountObjects(container)
    get_object = _fast("FPDFFormObj_GetObject" if form is not None else "FPDFPage_GetObject", c.FPDF_PAGEOBJECT)
    type_of = _fast("FPDFPageObj_GetType")
    holder = form if form is not None else container
    for i in range(count):
        obj = get_object(holder, i)
        kind = type_of(obj)
        if kind == c.FPDF_PAGEOBJ_FORM:
            yield from _objects(container, _placed(obj, parent), obj)
        else:
            yield obj, kind, parent


def _placed(obj, parent) -> tuple:
    own = _matrix(obj)
    return own if parent is None else _mult(own, parent)


class _Fonts:
    """Each font's descent (from its descriptor, by the font's name), cached by the font handle's address."""

    def __init__(self, facts: FontFacts):
        self.facts = facts
        self._cache: dict[int, float] = {}

    def descent(self, key: int) -> float:
        """The descent, as a fraction of the em, of the font at address `key`."""
        if key not in self._cache:
            c = _raw()
            font = ctypes.cast(key, c.FPDF_FONT)
            size = c.FPDFFont_GetBaseFontName(font, None, 0)
            buf = ctypes.create_string_buffer(size)
            c.FPDFFont_GetBaseFontName(font, buf, size)
            name = _without_subset(buf.value.decode("latin-1"))
            if name in self.facts.descents:
                descent = self.facts.descents[name]
                if descent is None:
                    raise Unsupported(f"two font descriptors named {name} with different metrics")
            else:  # e.g. a standard-14 font, whose metrics pdfminer takes from its own AFM files
                raise Unsupported(f"no font descriptor found for {name}")
            self._cache[key] = descent / 1000.0
        return self._cache[key]


def _has_actual_text(obj) -> bool:
    c = _raw()
    for i in range(c.FPDFPageObj_CountMarks(obj)):
        mark = c.FPDFPageObj_GetMark(obj, i)
        if c.FPDFPageObjMark_GetParamValueType(mark, b"ActualText") != c.FPDF_OBJECT_UNKNOWN:
            return True
    return False


def _char(text: str, matrix: tuple, fontsize: float, adv: float, descent: float, page_height: float) -> dict:
    """A char boxed as pdfminer boxes it (LTChar), with the keys `pdf_layout` and the PDF reader read
    (text, x0, x1, top, bottom, upright; pdfplumber's others cost time and were never read). A
    vertical font's advance is negative (pdfium gives the vertical width); its box is the em square
    above pdfium's origin, which sits where pdfminer's box has its lower-left corner."""
    a, b, c, d, e, f = matrix
    if adv < 0:
        x_lo, y_lo, x_hi, y_hi = 0.0, 0.0, fontsize, -adv
    else:
        x_lo, y_lo, x_hi, y_hi = 0.0, descent * fontsize, adv, descent * fontsize + fontsize
    if b == 0 and c == 0:  # the usual upright text: no need to transform four corners
        xa, xb = a * x_lo + e, a * x_hi + e
        ya, yb = d * y_lo + f, d * y_hi + f
        x0, x1 = (xa, xb) if xa <= xb else (xb, xa)
        y0, y1 = (ya, yb) if ya <= yb else (yb, ya)
    else:
        corners = [_apply(matrix, x, y) for x, y in ((x_lo, y_lo), (x_hi, y_lo), (x_hi, y_hi), (x_lo, y_hi))]
        x0, x1 = min(p[0] for p in corners), max(p[0] for p in corners)
        y0, y1 = min(p[1] for p in corners), max(p[1] for p in corners)
    return {"text": text, "x0": x0, "x1": x1, "top": page_height - y1, "bottom": page_height - y0, "upright": a * d > 0 and b * c <= 0}


# pdfium generates only spaces and line breaks (CPDF_TextPage's GenerateCharInfo and the spaces it
# puts inside a text object): other chars need not be asked whether they are generated
GENERATED = frozenset((0x20, 0x0D, 0x0A))


def page_chars(page, textpage, fonts: _Fonts, objects: list) -> list[dict]:
    """The page's chars in pdfminer's terms (see the module docstring for what differs in pdfium);
    `objects`: the page's `_objects`."""
    c = _raw()
    unicode_of, is_generated = _fast("FPDFText_GetUnicode", ctypes.c_uint), _fast("FPDFText_IsGenerated")
    map_error, origin_of = _fast("FPDFText_HasUnicodeMapError"), _fast("FPDFText_GetCharOrigin")
    object_of = _fast("FPDFText_GetTextObject", ctypes.c_void_p)  # the object's address, an int
    count_marks, matrix_of, font_size_of = _fast("FPDFPageObj_CountMarks"), _fast("FPDFText_GetMatrix"), _fast("FPDFTextObj_GetFontSize")
    font_of, glyph_width = _fast("FPDFTextObj_GetFont", ctypes.c_void_p), _fast("FPDFFont_GetGlyphWidth")
    tp = textpage.raw
    height = page.get_height()
    x, y = ctypes.c_double(), ctypes.c_double()
    x_ref, y_ref = ctypes.byref(x), ctypes.byref(y)
    m = c.FS_MATRIX()
    size = ctypes.c_float()
    width = ctypes.c_float()
    chars: list[dict] = []
    seen: dict[int, tuple] = {}  # text object address -> (matrix a-d, font address, descent, size)
    widths: dict[tuple[int, int, float], float] = {}  # (font address, code, size) -> advance
    last_origin = after_space = None
    for i in range(c.FPDFText_CountChars(tp)):
        code = unicode_of(tp, i)
        if code in GENERATED and is_generated(tp, i):
            last_origin = None
            continue
        if map_error(tp, i):
            raise Unsupported("chars without a Unicode mapping")
        address = object_of(tp, i) or 0
        facts = seen.get(address)
        if facts is None:
            obj = ctypes.c_void_p(address)
            if count_marks(obj) and _has_actual_text(c.FPDFText_GetTextObject(tp, i)):
                raise Unsupported("ActualText spans")
            matrix_of(tp, i, ctypes.byref(m))
            font_size_of(obj, ctypes.byref(size))
            font = font_of(obj) or 0  # its address
            descent = fonts.descent(font)
            facts = seen[address] = ((m.a, m.b, m.c, m.d), font, descent, size.value)
        linear, font, descent, fontsize = facts
        origin_of(tp, i, x_ref, y_ref)
        ox, oy = x.value, y.value
        if (address, ox, oy) == last_origin:
            raise Unsupported("one glyph read as several chars (a ligature)")
        last_origin = (address, ox, oy)
        key = (font, code, fontsize)
        adv = widths.get(key)
        if adv is None:
            if not glyph_width(ctypes.c_void_p(font), code, ctypes.c_float(fontsize), ctypes.byref(width)):
                raise Unsupported("glyph width unknown")
            adv = widths[key] = width.value
        if after_space is not None and after_space[0] == address:
            # pdfium keeps one of several spaces in a row: a gap of another space's width after a
            # space means some were dropped (pdfminer keeps them all)
            _, sx, sy, step = after_space
            if abs(ox - sx) + abs(oy - sy) > 1.5 * step:
                raise Unsupported("consecutive spaces")
        after_space = (address, ox, oy, abs(adv) * (abs(linear[0]) + abs(linear[1]))) if code == 32 else None
        chars.append(_char(chr(code), (*linear, ox, oy), fontsize, adv, descent, height))
    # text objects pdfium left out of its text page: one that draws nothing (zero-size bounds) holds
    # a space, which pdfium replaced by an invented one or dropped; one that draws something (a
    # duplicate for fake bold, say) is not reproduced
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for obj, kind, parent in objects:
        if kind != c.FPDF_PAGEOBJ_TEXT or _address(obj) in seen:
            continue
        matrix = _placed(obj, parent)
        c.FPDFPageObj_GetBounds(obj, left, bottom, right, top)
        if right.value - left.value > 0.01 or top.value - bottom.value > 0.01:
            raise Unsupported("text objects missing from pdfium's text page (repeated text)")
        c.FPDFTextObj_GetFontSize(obj, size)
        font = c.FPDFTextObj_GetFont(obj)
        descent = fonts.descent(_address(font))
        c.FPDFFont_GetGlyphWidth(font, 32, size.value, width)
        chars.append(_char(" ", matrix, size.value, width.value, descent, height))
    return chars


def _subpaths(obj, matrix) -> Iterator[list[tuple[str, tuple[float, float]]]]:
    """The path's segments as pdfminer's (operator, end point) list, split at each move-to."""
    c = _raw()
    ops: list[tuple[str, tuple[float, float]]] = []
    x, y = ctypes.c_float(), ctypes.c_float()
    x_ref, y_ref = ctypes.byref(x), ctypes.byref(y)
    segment, type_of, point_of = _fast("FPDFPath_GetPathSegment", ctypes.c_void_p), _fast("FPDFPathSegment_GetType"), _fast("FPDFPathSegment_GetPoint")
    closes = _fast("FPDFPathSegment_GetClose")
    pending_bezier = 0
    for i in range(c.FPDFPath_CountSegments(obj)):
        seg = ctypes.c_void_p(segment(obj, i))
        kind = type_of(seg)
        point_of(seg, x_ref, y_ref)
        point = _apply(matrix, x.value, y.value)
        if kind == c.FPDF_SEGMENT_MOVETO:
            if ops:
                yield ops
            ops = [("m", point)]
        elif kind == c.FPDF_SEGMENT_LINETO:
            ops.append(("l", point))
        elif kind == c.FPDF_SEGMENT_BEZIERTO:
            pending_bezier += 1
            if pending_bezier == 3:  # two control points, then the end point
                ops.append(("c", point))
                pending_bezier = 0
        else:
            raise Unsupported("unknown path segment")
        if closes(seg) and ops:
            ops.append(("h", ops[0][1]))
    if ops:
        yield ops


def _curve(kind: str, pts: list[tuple[float, float]], height: float, doctop: float, page_number: int) -> dict:
    x0, y0 = min(p[0] for p in pts), min(p[1] for p in pts)
    x1, y1 = max(p[0] for p in pts), max(p[1] for p in pts)
    top = height - y1
    return {
        "object_type": kind,
        "page_number": page_number,
        "x0": x0,
        "y0": y0,
        "x1": x1,
        "y1": y1,
        "width": x1 - x0,
        "height": y1 - y0,
        "top": top,
        "bottom": height - y0,
        "doctop": doctop + top,
        "pts": [(px, height - py) for px, py in pts],
    }


def page_graphics(page, doctop: float, page_number: int, objects: list) -> dict[str, list[dict]]:
    """Lines, rects and curves of the page (`objects`: its `_objects`) by pdfminer's classification
    of painted paths."""
    c = _raw()
    height = page.get_height()
    out: dict[str, list[dict]] = {"line": [], "rect": [], "curve": []}
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    for obj, kind, parent in objects:
        if kind != c.FPDF_PAGEOBJ_PATH:
            continue
        c.FPDFPath_GetDrawMode(obj, fill, stroke)
        if not fill.value and not stroke.value:
            continue
        for ops in _subpaths(obj, _placed(obj, parent)):
            shape = "".join(op for op, _ in ops)
            pts = [p for _, p in ops]
            if len(shape) > 3 and shape[-2:] == "lh" and pts[-2] == pts[0]:
                shape = shape[:-2] + "h"
                pts.pop()
            if shape in ("mlh", "ml"):
                out["line"].append(_curve("line", pts[:2], height, doctop, page_number))
            elif shape in ("mlllh", "mllll"):
                (x0, y0), (x1, y1), (x2, y2), (x3, y3), _ = pts
                square = (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0)
                if pts[0] == pts[4] and square:
                    corners = [(x0, y0), (x2, y0), (x2, y2), (x0, y2)]
                    out["rect"].append(_curve("rect", corners, height, doctop, page_number))
                else:
                    out["curve"].append(_curve("curve", pts, height, doctop, page_number))
            elif len(shape) > 1:
                out["curve"].append(_curve("curve", pts, height, doctop, page_number))
    return out


class PdfiumPage:
    """A page whose objects come from pdfium, with the part of pdfplumber's Page interface the PDF
    reader uses (`find_tables`, `outside_bbox`, `extract_text_lines`), run by `pdf_layout`."""

    def __init__(self, objects: dict[str, list[dict]], width: float, height: float, page_number: int, initial_doctop: float, layer_scan: bool = False):
        self.objects = objects
        self.layer_scan = layer_scan  # a scan with an OCR text layer (see `layer_scan`)
        self.width, self.height = width, height
        self.bbox = (0, 0, width, height)
        self.page_number = page_number
        self.initial_doctop = initial_doctop

    @property
    def chars(self) -> list[dict]:
        return self.objects.get("char", [])

    @property
    def edges(self) -> list[dict]:
        return pdf_layout.edges(self.objects.get("line", []), self.objects.get("rect", []), self.objects.get("curve", []))

    def find_tables(self, table_settings: dict) -> list[pdf_layout.Table]:
        if {table_settings.get("vertical_strategy", "lines"), table_settings.get("horizontal_strategy", "lines")} != {"lines"}:
            raise ValueError("the pdfium engine finds tables by ruling lines only")
        return pdf_layout.find_tables(self.chars, self.edges, table_settings)

    def outside_bbox(self, bbox) -> PdfiumPage:
        """The page without the objects that touch `bbox`; ValueError for a box of no area or not
        on the page (as pdfplumber's strict crop)."""
        x0, top, x1, bottom = bbox
        if x1 < x0 or bottom < top:
            raise ValueError(f"bounding box {bbox} has a negative width or height")
        if (x1 - x0) * (bottom - top) == 0:
            raise ValueError(f"bounding box {bbox} has an area of zero")
        px0, ptop, px1, pbottom = self.bbox
        if x0 < px0 or top < ptop or x1 > px1 or bottom > pbottom:
            raise ValueError(f"bounding box {bbox} is not fully within the page")
        kept = {kind: pdf_layout.outside(objs, bbox) for kind, objs in self.objects.items()}
        return PdfiumPage(kept, self.width, self.height, self.page_number, self.initial_doctop, self.layer_scan)

    def extract_text_lines(self, layout: bool = False, strip: bool = True, return_chars: bool = True) -> list[dict]:
        if layout or not strip or not return_chars:
            raise ValueError("the pdfium engine gives stripped text lines with their chars only")
        return pdf_layout.text_lines(self.chars)


def plumber_page(page, textpage, fonts: _Fonts, page_number: int, doctop: float):
    """A pdfplumber-compatible page for pdfium's `page` (raises Unsupported, see the module doc)."""
    c = _raw()
    if c.FPDFPage_GetRotation(page.raw) != 0:
        raise Unsupported("rotated page")
    left, bottom, right, top = page.get_mediabox()
    if left != 0 or bottom != 0:
        raise Unsupported("MediaBox not at the origin")
    placed = list(_objects(page.raw))
    objects = {"char": page_chars(page, textpage, fonts, placed), **page_graphics(page, doctop, page_number, placed)}
    return PdfiumPage(objects, right - left, top - bottom, page_number, doctop, layer_scan(placed, right - left, top - bottom))


SCAN_IMAGE_SHARE = 0.6  # of the page's area: a page this covered by one image is a scan
LAYER_INVISIBLE_SHARE = 0.5  # of its text objects: text drawn invisibly over a scan is an OCR layer


def layer_scan(objects: list, width: float, height: float) -> bool:
    """A scanned page with an OCR text layer ('searchable PDF'), from its `_objects`: one image
    covers most of it and most of its text is invisible (render mode 3, as OCR software writes it)."""
    c = _raw()
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    covered = 0.0
    texts = invisible = 0
    render_mode = _fast("FPDFTextObj_GetTextRenderMode")
    for obj, kind, _ in objects:
        if kind == c.FPDF_PAGEOBJ_IMAGE and c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            covered = max(covered, max(right.value - left.value, 0.0) * max(top.value - bottom.value, 0.0))
        elif kind == c.FPDF_PAGEOBJ_TEXT:
            texts += 1
            invisible += render_mode(obj) == c.FPDF_TEXTRENDERMODE_INVISIBLE
    return texts > 0 and covered >= SCAN_IMAGE_SHARE * width * height and invisible >= LAYER_INVISIBLE_SHARE * texts


def is_layer_scan(page) -> bool:
    """`layer_scan` of a pdfium page."""
    width, height = page.get_size()
    return layer_scan(list(_objects(page.raw)), width, height)


def has_objects(page) -> bool:
    """Whether a pdfium page has anything on it (an image, a path, text)."""
    return _raw().FPDFPage_CountObjects(page.raw) > 0


KEEP_PAGES = 80  # pages whose pdfium handles the cheap pass keeps open for the table pass


def _load_error(exc: Exception) -> ReadError:
    """The reader's error for a PDF pdfium could not load (`exc`: pdfium_raw's or pypdfium2's
    PdfiumError, which say the same)."""
    message = str(exc).lower()
    if "password" in message or "security" in message:
        return ReadError("encrypted PDF (password protected): cannot read it", "encrypted")
    return ReadError(f"corrupt or unreadable PDF ({exc})", "corrupt")


def open_text_document(data: bytes):
    """The `pdfium_raw` document of a PDF's bytes, for reading its text and objects; ReadError for
    encrypted or corrupt files."""
    c = _raw()
    try:
        return c.Document(data)
    except c.PdfiumError as exc:
        raise _load_error(exc) from None


def open_document(source: bytes | str | os.PathLike):
    """The pypdfium2 document of a PDF's bytes or path, for rendering its pages (page images, OCR of
    scans); ReadError for encrypted or corrupt files."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(source if isinstance(source, bytes) else os.fspath(source))
    except pdfium.PdfiumError as exc:
        raise _load_error(exc) from None


class PageSource:
    """The pages of one PDF, from one pdfium document: their plain text (the cheap pass, ≈ 5 ms a
    page) and, for the pages that may hold tables, pdfplumber-compatible pages built from pdfium's
    objects, or pdfplumber's own for a page those would not reproduce (and for the whole file with
    `engine='pdfplumber'`, the oracle the tests compare against). pdfplumber is opened only when a
    page needs it."""

    def __init__(self, data: bytes, engine: str = "pdfium"):
        self.data = data
        self.pdf = open_text_document(data)
        self._rendering = None  # pypdfium2's document of the same bytes, opened when a page is rendered
        self.engine = engine
        self.fallbacks: dict[int, str] = {}  # page index -> why pdfplumber read it
        self._kept: dict[int, tuple] = {}  # page index -> (page, textpage) from the cheap pass
        self._fonts: _Fonts | None = None
        self._whole_file = "" if engine == "pdfium" else "pdfplumber engine chosen"
        self._plumber = None
        self._heights: list[float] = []

    def texts(self) -> list[str]:
        """Every page's text from pdfium's text page."""
        out = []
        for index in range(len(self.pdf)):
            page = self.pdf[index]
            textpage = page.get_textpage()
            out.append(textpage.get_text_range())
            self._heights.append(page.get_height())
            if index < KEEP_PAGES:
                self._kept[index] = (page, textpage)
            else:
                textpage.close()
                page.close()
        return out

    def page(self, index: int):
        """A page for pdf.py's table reader (pdfplumber's Page interface)."""
        if not self._whole_file and index not in self.fallbacks:
            try:
                return self._pdfium_page(index)
            except Unsupported as exc:
                self.fallbacks[index] = str(exc)
        elif self._whole_file:
            self.fallbacks.setdefault(index, self._whole_file)
        return self.plumber_page(index)

    def _pdfium_page(self, index: int):
        if self._fonts is None:
            try:
                self._fonts = _Fonts(font_facts(self.data))
            except Unsupported as exc:
                self._whole_file = str(exc)
                raise
        if not self._heights:
            self._heights = [self.pdf.get_page_size(i)[1] for i in range(len(self.pdf))]
        kept = self._kept.pop(index, None)
        page, textpage = kept if kept else (self.pdf[index], None)
        textpage = textpage or page.get_textpage()
        try:
            return plumber_page(page, textpage, self._fonts, index + 1, sum(self._heights[:index]))
        finally:
            textpage.close()
            page.close()

    def rendering(self):
        """pypdfium2's document of the file, for rendering pages (scans for OCR, a text-layer scan's
        image): pypdfium2 is imported only when a page is rendered."""
        if self._rendering is None:
            self._rendering = open_document(self.data)
        return self._rendering

    def plumber_page(self, index: int):
        if self._plumber is None:
            import io

            import pdfplumber

            self._plumber = pdfplumber.open(io.BytesIO(self.data))
        return self._plumber.pages[index]

    def close(self) -> None:
        for page, textpage in self._kept.values():
            textpage.close()
            page.close()
        self._kept.clear()
        self.pdf.close()
        if self._rendering is not None:
            self._rendering.close()
        if self._plumber is not None:
            self._plumber.close()
