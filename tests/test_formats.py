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
    assert "pip install 'zfxxgk-extractor[ocr]'" in str(info.value)
    image = tmp_path / "page.png"
    image.write_bytes(_png_bytes())
    with pytest.raises(ReadError, match=r"extractor\[ocr\]"):
        read(str(image))


def test_image_with_ocr_never_is_refused(tmp_path) -> None:
    image = tmp_path / "page.png"
    image.write_bytes(_png_bytes())
    with pytest.raises(ReadError, match="OCR"):
        read(str(image), ocr="never")


def test_garbled_text_layer_is_recognised():
    """A font without a usable ToUnicode map gives a text layer of junk: such a page is read by OCR in
    auto mode, like a scan (a page of table numbers is not junk)."""
    from extractor.readers.pdf import garbled

    assert garbled("(cid:12)(cid:45)(cid:77) " * 20)
    assert garbled("ÄÖÜßçé¤¦§¨©ª«¬®¯°±²³´µ¶·¸¹º»¼½¾¿" * 4)
    assert not garbled("2023年，洪泽区人民政府坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻落实《条例》相关规范要求" * 2)
    assert not garbled("10 1 0 0 0 0 0 0 0 0 5 0 0 0 0 " * 8)


def test_rows_merged_for_want_of_horizontal_rules_are_split():
    from extractor.readers.pdf import split_stacked_rows

    rows = [
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章\n行政规范性文件", "0\n3", "0\n1", "12\n40"],
        ["1.属于国家秘密\n2.其他法律行政法规禁止公开\n止公开（续）", "1\n0", "0\n0", "1\n0"],
    ]
    out = split_stacked_rows(rows)
    assert out[1:3] == [["规章", "0", "0", "12"], ["行政规范性文件", "3", "1", "40"]]
    # label lines that do not match the stacked numbers: label on its own row, numbers unlabelled
    assert out[3][0].startswith("1.属于国家秘密") and out[3][1:] == [None, None, None]
    assert out[4:] == [["", "1", "0", "1"], ["", "0", "0", "0"]]
