"""The part of pdfium's C API the text-PDF path calls, declared here instead of imported from pypdfium2.

Why: `import pypdfium2` cost 40–55 ms of every process that reads a PDF (its generated bindings
declare some 470 functions with their argtypes, then its helper classes load), while loading the
same libpdfium.so, declaring what is used and starting it takes ≈ 2 ms. The text path needs about 45 functions, so they are
declared here, each with the restype and argtypes pypdfium2_raw/bindings.py gives it (handles are
`c_void_p` subclasses: one type per kind of handle, so one kind is not passed for another);
`tests/test_pdfium_raw.py` holds the two declarations equal, so an upgrade that changes a signature
fails there rather than in memory.

The library is the one the pinned pypdfium2 ships (pypdfium2_raw's libpdfium.so), found without
importing pypdfium2_raw (its `__init__` runs the bindings). It is started once, at import, as
pypdfium2 starts it (FPDF_InitLibraryWithConfig, config version 2); pypdfium2, imported later for
rendering (page images, OCR of scans), starts it again, which pdfium ignores. It is never destroyed
here: pypdfium2 does that at exit when it was imported, and the process ending frees it otherwise.

On top, three small objects in pypdfium2's names (`Document`, `Page`, `TextPage`, with the methods of
pypdfium2's helpers the readers call, so code given either kind of page needs no branch) that raise
`PdfiumError` with pypdfium2's messages (the readers' errors and notes quote them), keep the bytes
pdfium reads from alive while the document is open, and close in pdfium's order (text pages, then
their page, then the document), also when a caller closes only the document. pdfium is not
thread-safe: callers hold `pdfium_lock.PDFIUM_LOCK`.
"""

from __future__ import annotations

import codecs
import ctypes
import importlib.util
import sys
from ctypes import POINTER, Structure, c_char, c_double, c_float, c_int, c_size_t, c_uint, c_ulong, c_ushort, c_void_p
from pathlib import Path
from typing import Any

# ------------------------------------------------------------------------------------------------
# the library


def _library_path() -> Path:
    """libpdfium inside the installed pypdfium2_raw package (found, not imported)."""
    if sys.platform.startswith(("win32", "cygwin", "msys")):
        name = "pdfium.dll"
    elif sys.platform.startswith(("darwin", "ios")):
        name = "libpdfium.dylib"
    else:
        name = "libpdfium.so"
    spec = importlib.util.find_spec("pypdfium2_raw")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (path := Path(folder) / name).is_file():
            return path
    raise ImportError(f"{name} not found in the pypdfium2_raw package (pypdfium2 is a dependency: reinstall it)")


_lib = ctypes.CDLL(str(_library_path()))
DECLARED: dict[str, Any] = {}  # name -> the function as declared here (for the test against pypdfium2_raw)


def _declare(name: str, restype, *argtypes):
    func = _lib[name]
    func.restype, func.argtypes = restype, argtypes
    DECLARED[name] = func
    return func


# ------------------------------------------------------------------------------------------------
# types


class FPDF_DOCUMENT(c_void_p):
    pass


class FPDF_PAGE(c_void_p):
    pass


class FPDF_TEXTPAGE(c_void_p):
    pass


class FPDF_PAGEOBJECT(c_void_p):
    pass


class FPDF_PAGEOBJECTMARK(c_void_p):
    pass


class FPDF_PATHSEGMENT(c_void_p):
    pass


class FPDF_FONT(c_void_p):
    pass


FPDF_BOOL = c_int
FPDF_BYTESTRING = POINTER(c_char)
FPDF_STRING = POINTER(c_char)
FPDF_OBJECT_TYPE = c_int
FPDF_TEXT_RENDERMODE = c_int
uint32_t = c_uint


class FS_MATRIX(Structure):
    _fields_ = [("a", c_float), ("b", c_float), ("c", c_float), ("d", c_float), ("e", c_float), ("f", c_float)]


class FS_SIZEF(Structure):
    _fields_ = [("width", c_float), ("height", c_float)]


class FPDF_LIBRARY_CONFIG(Structure):
    _fields_ = [
        ("version", c_int),
        ("m_pUserFontPaths", POINTER(POINTER(c_char))),
        ("m_pIsolate", c_void_p),
        ("m_v8EmbedderSlot", c_uint),
        ("m_pPlatform", c_void_p),
        ("m_RendererType", c_int),
        ("m_FontLibraryType", c_int),
        ("m_BrotliEnabled", FPDF_BOOL),
        ("m_IsolatePerDocument", FPDF_BOOL),
    ]


# ------------------------------------------------------------------------------------------------
# constants

FPDF_ERR_SUCCESS, FPDF_ERR_UNKNOWN, FPDF_ERR_FILE, FPDF_ERR_FORMAT, FPDF_ERR_PASSWORD, FPDF_ERR_SECURITY, FPDF_ERR_PAGE = range(7)
FPDF_PAGEOBJ_TEXT, FPDF_PAGEOBJ_PATH, FPDF_PAGEOBJ_IMAGE, FPDF_PAGEOBJ_FORM = 1, 2, 3, 5
FPDF_SEGMENT_LINETO, FPDF_SEGMENT_BEZIERTO, FPDF_SEGMENT_MOVETO = 0, 1, 2
FPDF_OBJECT_UNKNOWN = 0
FPDF_TEXTRENDERMODE_INVISIBLE = 3

# ------------------------------------------------------------------------------------------------
# functions (restype, argtypes as pypdfium2_raw/bindings.py declares them)

FPDF_InitLibraryWithConfig = _declare("FPDF_InitLibraryWithConfig", None, POINTER(FPDF_LIBRARY_CONFIG))
FPDF_GetLastError = _declare("FPDF_GetLastError", c_ulong)
FPDF_LoadMemDocument64 = _declare("FPDF_LoadMemDocument64", FPDF_DOCUMENT, c_void_p, c_size_t, FPDF_BYTESTRING)
FPDF_CloseDocument = _declare("FPDF_CloseDocument", None, FPDF_DOCUMENT)
FPDF_GetPageCount = _declare("FPDF_GetPageCount", c_int, FPDF_DOCUMENT)
FPDF_GetPageSizeByIndexF = _declare("FPDF_GetPageSizeByIndexF", FPDF_BOOL, FPDF_DOCUMENT, c_int, POINTER(FS_SIZEF))
FPDF_LoadPage = _declare("FPDF_LoadPage", FPDF_PAGE, FPDF_DOCUMENT, c_int)
FPDF_ClosePage = _declare("FPDF_ClosePage", None, FPDF_PAGE)
FPDF_GetPageWidthF = _declare("FPDF_GetPageWidthF", c_float, FPDF_PAGE)
FPDF_GetPageHeightF = _declare("FPDF_GetPageHeightF", c_float, FPDF_PAGE)
FPDFPage_GetRotation = _declare("FPDFPage_GetRotation", c_int, FPDF_PAGE)
_box = (POINTER(c_float),) * 4
FPDFPage_GetMediaBox = _declare("FPDFPage_GetMediaBox", FPDF_BOOL, FPDF_PAGE, *_box)
FPDFPage_CountObjects = _declare("FPDFPage_CountObjects", c_int, FPDF_PAGE)
FPDFPage_GetObject = _declare("FPDFPage_GetObject", FPDF_PAGEOBJECT, FPDF_PAGE, c_int)
FPDFFormObj_CountObjects = _declare("FPDFFormObj_CountObjects", c_int, FPDF_PAGEOBJECT)
FPDFFormObj_GetObject = _declare("FPDFFormObj_GetObject", FPDF_PAGEOBJECT, FPDF_PAGEOBJECT, c_ulong)
FPDFPageObj_GetType = _declare("FPDFPageObj_GetType", c_int, FPDF_PAGEOBJECT)
FPDFPageObj_GetMatrix = _declare("FPDFPageObj_GetMatrix", FPDF_BOOL, FPDF_PAGEOBJECT, POINTER(FS_MATRIX))
FPDFPageObj_GetBounds = _declare("FPDFPageObj_GetBounds", FPDF_BOOL, FPDF_PAGEOBJECT, *_box)
FPDFPageObj_CountMarks = _declare("FPDFPageObj_CountMarks", c_int, FPDF_PAGEOBJECT)
FPDFPageObj_GetMark = _declare("FPDFPageObj_GetMark", FPDF_PAGEOBJECTMARK, FPDF_PAGEOBJECT, c_ulong)
FPDFPageObjMark_GetParamValueType = _declare("FPDFPageObjMark_GetParamValueType", FPDF_OBJECT_TYPE, FPDF_PAGEOBJECTMARK, FPDF_BYTESTRING)
FPDFTextObj_GetFont = _declare("FPDFTextObj_GetFont", FPDF_FONT, FPDF_PAGEOBJECT)
FPDFTextObj_GetFontSize = _declare("FPDFTextObj_GetFontSize", FPDF_BOOL, FPDF_PAGEOBJECT, POINTER(c_float))
FPDFTextObj_GetTextRenderMode = _declare("FPDFTextObj_GetTextRenderMode", FPDF_TEXT_RENDERMODE, FPDF_PAGEOBJECT)
FPDFFont_GetBaseFontName = _declare("FPDFFont_GetBaseFontName", c_size_t, FPDF_FONT, POINTER(c_char), c_size_t)
FPDFFont_GetGlyphWidth = _declare("FPDFFont_GetGlyphWidth", FPDF_BOOL, FPDF_FONT, uint32_t, c_float, POINTER(c_float))
FPDFPath_CountSegments = _declare("FPDFPath_CountSegments", c_int, FPDF_PAGEOBJECT)
FPDFPath_GetPathSegment = _declare("FPDFPath_GetPathSegment", FPDF_PATHSEGMENT, FPDF_PAGEOBJECT, c_int)
FPDFPath_GetDrawMode = _declare("FPDFPath_GetDrawMode", FPDF_BOOL, FPDF_PAGEOBJECT, POINTER(c_int), POINTER(FPDF_BOOL))
FPDFPathSegment_GetType = _declare("FPDFPathSegment_GetType", c_int, FPDF_PATHSEGMENT)
FPDFPathSegment_GetPoint = _declare("FPDFPathSegment_GetPoint", FPDF_BOOL, FPDF_PATHSEGMENT, POINTER(c_float), POINTER(c_float))
FPDFPathSegment_GetClose = _declare("FPDFPathSegment_GetClose", FPDF_BOOL, FPDF_PATHSEGMENT)
FPDFText_LoadPage = _declare("FPDFText_LoadPage", FPDF_TEXTPAGE, FPDF_PAGE)
FPDFText_ClosePage = _declare("FPDFText_ClosePage", None, FPDF_TEXTPAGE)
FPDFText_CountChars = _declare("FPDFText_CountChars", c_int, FPDF_TEXTPAGE)
FPDFText_GetTextIndexFromCharIndex = _declare("FPDFText_GetTextIndexFromCharIndex", c_int, FPDF_TEXTPAGE, c_int)
FPDFText_GetText = _declare("FPDFText_GetText", c_int, FPDF_TEXTPAGE, c_int, c_int, POINTER(c_ushort))
FPDFText_GetUnicode = _declare("FPDFText_GetUnicode", c_uint, FPDF_TEXTPAGE, c_int)
FPDFText_IsGenerated = _declare("FPDFText_IsGenerated", c_int, FPDF_TEXTPAGE, c_int)
FPDFText_HasUnicodeMapError = _declare("FPDFText_HasUnicodeMapError", c_int, FPDF_TEXTPAGE, c_int)
FPDFText_GetCharOrigin = _declare("FPDFText_GetCharOrigin", FPDF_BOOL, FPDF_TEXTPAGE, c_int, POINTER(c_double), POINTER(c_double))
FPDFText_GetTextObject = _declare("FPDFText_GetTextObject", FPDF_PAGEOBJECT, FPDF_TEXTPAGE, c_int)
FPDFText_GetMatrix = _declare("FPDFText_GetMatrix", FPDF_BOOL, FPDF_TEXTPAGE, c_int, POINTER(FS_MATRIX))

# started as pypdfium2 starts it (version 2: no V8 isolate, default font paths)
_CONFIG = FPDF_LIBRARY_CONFIG(version=2, m_pUserFontPaths=None, m_pIsolate=None, m_v8EmbedderSlot=0)
FPDF_InitLibraryWithConfig(_CONFIG)

# ------------------------------------------------------------------------------------------------
# documents, pages, text pages

_ERRORS = {
    FPDF_ERR_SUCCESS: "Success",
    FPDF_ERR_UNKNOWN: "Unknown error",
    FPDF_ERR_FILE: "File access error",
    FPDF_ERR_FORMAT: "Data format error",
    FPDF_ERR_PASSWORD: "Incorrect password error",
    FPDF_ERR_SECURITY: "Unsupported security scheme error",
    FPDF_ERR_PAGE: "Page not found or content error",
}


class PdfiumError(RuntimeError):
    """pdfium reported a failure. Name and messages are pypdfium2's: the readers' errors and notes
    quote them (`err_code`: FPDF_GetLastError's code, for a document that failed to load)."""

    def __init__(self, message: str, err_code: int | None = None):
        super().__init__(message)
        self.err_code = err_code


class _Handle:
    """An open pdfium object that closes the objects opened from it before itself."""

    raw: Any

    def __init__(self, raw, parent: _Handle | None):
        self.raw = raw
        self._parent = parent
        self._kids: dict[int, _Handle] = {}
        if parent is not None:
            parent._kids[id(self)] = self

    def _close(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Close the objects opened from this one, then this one (again: nothing)."""
        if self.raw is None:
            return
        for kid in list(self._kids.values()):
            kid.close()
        self._close()
        self.raw = None
        if self._parent is not None:
            self._parent._kids.pop(id(self), None)

    def __enter__(self):
        return self

    def __exit__(self, *_) -> None:
        self.close()


class Document(_Handle):
    """A PDF opened from its bytes, which pdfium reads in place (not copied): they are held until
    `close`. PdfiumError (pypdfium2's message) when pdfium cannot load it or it has no pages."""

    def __init__(self, data: bytes):
        raw = FPDF_LoadMemDocument64(data, len(data), None)
        if FPDF_GetPageCount(raw) < 1:  # also for a NULL document (pdfium answers 0)
            code = FPDF_GetLastError()
            if raw:
                FPDF_CloseDocument(raw)
            raise PdfiumError(f"Failed to load document (PDFium: {_ERRORS.get(code, f'Unhandled constant {code}')}).", err_code=code)
        super().__init__(raw, None)
        self._data = data

    def _close(self) -> None:
        FPDF_CloseDocument(self.raw)
        self._data = b""

    def __len__(self) -> int:
        return FPDF_GetPageCount(self.raw)

    def __getitem__(self, index: int) -> Page:
        raw = FPDF_LoadPage(self.raw, index)
        if not raw:
            raise PdfiumError("Failed to load page.")
        return Page(raw, self)

    def get_page_size(self, index: int) -> tuple[float, float]:
        """(width, height) of a page without loading it (no content is parsed)."""
        size = FS_SIZEF()
        if not FPDF_GetPageSizeByIndexF(self.raw, index, size):
            raise PdfiumError("Failed to get page size by index.")
        return (size.width, size.height)


class Page(_Handle):
    """One loaded page of a `Document`."""

    def _close(self) -> None:
        FPDF_ClosePage(self.raw)

    def get_size(self) -> tuple[float, float]:
        return (FPDF_GetPageWidthF(self.raw), FPDF_GetPageHeightF(self.raw))

    def get_height(self) -> float:
        return FPDF_GetPageHeightF(self.raw)

    def get_mediabox(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top); US Letter when the page has no MediaBox of its own (as pypdfium2)."""
        left, bottom, right, top = c_float(), c_float(), c_float(), c_float()
        if not FPDFPage_GetMediaBox(self.raw, left, bottom, right, top):
            return (0, 0, 612, 792)
        return (left.value, bottom.value, right.value, top.value)

    def get_textpage(self) -> TextPage:
        raw = FPDFText_LoadPage(self.raw)
        if not raw:
            raise PdfiumError("Failed to load text page.")
        return TextPage(raw, self)


class TextPage(_Handle):
    """pdfium's text of a `Page` (its chars in reading order, with the spaces and line breaks pdfium adds)."""

    def _close(self) -> None:
        FPDFText_ClosePage(self.raw)

    def count_chars(self) -> int:
        count = FPDFText_CountChars(self.raw)
        if count == -1:
            raise PdfiumError("Failed to get character count.")
        return count

    def get_text_range(self) -> str:
        """All the page's text, as pypdfium2's `get_text_range()` gives it: chars pdfium leaves out
        of its text at either end are not asked for (pdfium would read past the range), the UTF-16
        is decoded dropping what does not decode, and the terminating NUL is cut off."""
        tp, index_of = self.raw, FPDFText_GetTextIndexFromCharIndex
        first, last = 0, self.count_chars() - 1
        while first <= last and (t_start := index_of(tp, first)) == -1:
            first += 1
        if first > last:
            return ""
        while (t_end := index_of(tp, last)) == -1:
            last -= 1  # stops at `first` at the latest, which has a text index
        size = t_end + 2 - t_start  # with the NUL
        buffer = (c_ushort * size)()
        written = FPDFText_GetText(tp, first, last - first + 1, buffer)
        assert size >= written, f"Buffer too small: {size} vs {written}"
        return codecs.decode(memoryview(buffer)[: written - 1], "utf-16-le", errors="ignore")
