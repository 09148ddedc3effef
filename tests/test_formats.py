"""Format recognition and the reader options that do not need OCR or LibreOffice to test.

Why: a supervisor's folder mixes every format; each must be recognised from its bytes, and the
`ocr` switch must behave the same whatever is installed.
"""

from __future__ import annotations

import io

import pytest

from extractor.document import ReadError
from extractor.readers import read, sniff


def _png_bytes(fmt: str = "PNG") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (40, 30), 255).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "BMP"])
def test_images_are_sniffed(fmt: str) -> None:
    assert sniff(_png_bytes(fmt)) == "image"


def test_rtf_and_ole_are_sniffed() -> None:
    assert sniff(b"{\\rtf1\\ansi hello}") == "rtf"
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100) == "doc"


def test_ocr_mode_is_checked(tmp_path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("一、总体情况\n", encoding="utf-8")
    with pytest.raises(ValueError):
        read(str(path), ocr="sometimes")
    assert read(str(path), ocr="never").format == "text"


def _scan_pdf(path) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 800), "white")
    ImageDraw.Draw(image).rectangle((50, 50, 550, 300), outline="black", width=3)
    image.save(str(path), "PDF", resolution=100)


def test_scanned_pdf_with_ocr_never_names_ocr(tmp_path) -> None:
    path = tmp_path / "scan.pdf"
    _scan_pdf(path)
    with pytest.raises(ReadError, match="OCR"):
        read(str(path), ocr="never")


def test_scanned_pdf_without_ocr_extra_says_what_to_install(tmp_path, monkeypatch) -> None:
    import extractor.readers.ocr as ocr

    monkeypatch.setattr(ocr, "ocr_available", lambda: False)
    path = tmp_path / "scan.pdf"
    _scan_pdf(path)
    with pytest.raises(ReadError) as info:
        read(str(path))
    assert "pip install 'extractor[ocr]'" in str(info.value)
    image = tmp_path / "page.png"
    image.write_bytes(_png_bytes())
    with pytest.raises(ReadError, match=r"extractor\[ocr\]"):
        read(str(image))


def test_image_with_ocr_never_is_refused(tmp_path) -> None:
    image = tmp_path / "page.png"
    image.write_bytes(_png_bytes())
    with pytest.raises(ReadError, match="OCR"):
        read(str(image), ocr="never")
