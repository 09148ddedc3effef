"""The text path's own pdfium binding (`readers/pdfium_raw.py`) against pypdfium2's: every function
declared as pypdfium2_raw declares it (an upgrade that changes a signature fails here, not in
memory), the same library, the same text and sizes and load errors as pypdfium2's helpers, closing in
pdfium's order, and both bindings working in one process in either order."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2_raw
import pytest

from extractor.readers import pdfium_raw

ROOT = Path(__file__).resolve().parent.parent
PDFS = sorted((ROOT / "fixtures").glob("**/*.pdf"))


def kind(t) -> tuple:
    """A ctypes type as the C ABI sees it: void, an integer (signedness, size), a float (size), a
    char, a handle (the opaque struct it points to), or a pointer to one of these or to a struct."""
    if t is None:
        return ("void",)
    if isinstance(t, type) and issubclass(t, ctypes.Structure):
        return ("struct", tuple((name, kind(ftype)) for name, ftype, *_ in t._fields_))
    if isinstance(t, type) and issubclass(t, ctypes._Pointer):
        target = t._type_
        if issubclass(target, ctypes.Structure) and not getattr(target, "_fields_", None):
            return ("handle", target.__name__.removeprefix("struct_").rstrip("_").removesuffix("_t"))
        return ("pointer", kind(target))
    if issubclass(t, ctypes.c_void_p) and t is not ctypes.c_void_p:
        return ("handle", t.__name__.lower())  # pdfium_raw's handle types, named as pdfium names them
    code = t._type_
    if code in "bBhHiIlLqQ":
        return ("int", code.islower(), ctypes.sizeof(t))
    if code in "fdg":
        return ("float", ctypes.sizeof(t))
    if code == "c":
        return ("char",)
    if code in "Pz":
        return ("pointer", ("void",))
    raise AssertionError(f"unexpected ctypes type {t!r}")


@pytest.mark.parametrize("name", sorted(pdfium_raw.DECLARED))
def test_each_function_is_declared_as_pypdfium2_declares_it(name):
    ours, theirs = pdfium_raw.DECLARED[name], getattr(pypdfium2_raw, name)
    assert kind(ours.restype) == kind(theirs.restype), name
    assert [kind(t) for t in ours.argtypes] == [kind(t) for t in theirs.argtypes], name


def test_the_structs_and_constants_are_pypdfium2s():
    for struct in ("FS_MATRIX", "FS_SIZEF", "FPDF_LIBRARY_CONFIG"):
        ours, theirs = getattr(pdfium_raw, struct), getattr(pypdfium2_raw, struct)
        assert kind(ours) == kind(theirs) and ctypes.sizeof(ours) == ctypes.sizeof(theirs), struct
    constants = [n for n in dir(pdfium_raw) if n.startswith(("FPDF_ERR_", "FPDF_PAGEOBJ_", "FPDF_SEGMENT_", "FPDF_OBJECT_", "FPDF_TEXTRENDERMODE_"))]
    assert len(constants) >= 15
    for constant in constants:
        assert getattr(pdfium_raw, constant) == getattr(pypdfium2_raw, constant), constant


def test_the_library_is_the_one_pypdfium2_loads():
    assert Path(pdfium_raw._lib._name).resolve() == Path(pypdfium2_raw.bindings._libs["pdfium"]._name).resolve()


def test_text_and_sizes_are_pypdfium2s_on_every_fixture_pdf():
    assert len(PDFS) >= 80
    for path in PDFS:
        data = path.read_bytes()
        with pdfium_raw.Document(data) as ours, pdfium.PdfDocument(data) as theirs:
            assert len(ours) == len(theirs), path.name
            for i in range(len(ours)):
                assert ours.get_page_size(i) == theirs.get_page_size(i)
                page, their_page = ours[i], theirs[i]
                assert page.get_size() == their_page.get_size() and page.get_mediabox() == their_page.get_mediabox()
                text, their_text = page.get_textpage(), their_page.get_textpage()
                assert text.count_chars() == their_text.count_chars()
                assert text.get_text_range() == their_text.get_text_range(), f"{path.name} page {i + 1}"


def _encrypted(user_password: str) -> bytes:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_page(PdfReader(str(ROOT / "fixtures" / "real" / "hzq2023.pdf")).pages[0])
    writer.encrypt(user_password=user_password, owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


NO_PAGES = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize("data", [b"%PDF-1.7\n1 0 obj <<>> garbage", b"%PDF-1.4\n", b"not a pdf", NO_PAGES, "encrypted"], ids=["garbage", "header", "text", "no-pages", "encrypted"])
def test_load_errors_say_what_pypdfium2_says(data):
    data = _encrypted("secret") if data == "encrypted" else data
    with pytest.raises(pdfium.PdfiumError) as theirs:
        pdfium.PdfDocument(data)
    with pytest.raises(pdfium_raw.PdfiumError) as ours:
        pdfium_raw.Document(data)
    assert (str(ours.value), ours.value.err_code) == (str(theirs.value), theirs.value.err_code)
    assert type(ours.value).__name__ == "PdfiumError"  # the readers' notes name the class


def test_an_owner_password_alone_opens():
    with pdfium_raw.Document(_encrypted("")) as pdf:
        assert len(pdf) == 1 and "信息公开" in pdf[0].get_textpage().get_text_range()


def test_closing_the_document_closes_its_pages_and_text_pages_first(monkeypatch):
    closed: list[str] = []
    for name in ("FPDFText_ClosePage", "FPDF_ClosePage", "FPDF_CloseDocument"):
        real = getattr(pdfium_raw, name)
        monkeypatch.setattr(pdfium_raw, name, lambda raw, real=real, name=name: (closed.append(name), real(raw)))
    pdf = pdfium_raw.Document((ROOT / "fixtures" / "real" / "hzq2023.pdf").read_bytes())
    first, second = pdf[0], pdf[1]
    first.get_textpage()
    second.get_textpage().close()
    second.close()
    assert closed == ["FPDFText_ClosePage", "FPDF_ClosePage"]
    pdf.close()
    assert closed[2:] == ["FPDFText_ClosePage", "FPDF_ClosePage", "FPDF_CloseDocument"]
    assert first.raw is None and pdf.raw is None
    pdf.close()  # again: nothing
    assert len(closed) == 5


BOTH_BINDINGS = """
import sys
pdf, order = sys.argv[1], sys.argv[2]
if order == "pypdfium2-first":
    import pypdfium2
import extractor
first = extractor.parse(pdf).values()
assert order != "slim-first" or "pypdfium2" not in sys.modules, "the text path imported pypdfium2"
import pypdfium2 as pdfium  # slim first: starts the library again, which pdfium ignores
doc = pdfium.PdfDocument(pdf)
image = doc[0].render(scale=1).to_pil()
assert image.size[0] > 100 and image.getextrema() != ((255, 255), (255, 255), (255, 255))
doc.close()
assert extractor.parse(pdf).values() == first
print("ok")
"""


@pytest.mark.parametrize("order", ["slim-first", "pypdfium2-first"])
def test_the_text_path_and_pypdfium2_share_one_process(order):
    """Parse with the slim binding, pypdfium2 renders a page, the slim binding parses again: one
    library, started twice (in either order), both work; pypdfium2 destroys it at exit."""
    pdf = str(ROOT / "fixtures" / "real" / "hzq2023.pdf")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", BOTH_BINDINGS, pdf, order], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
