"""Old Word (.doc/.wps) and RTF files: sniffed by content, converted by LibreOffice, read as DOCX.

Why: archives of older reports are .doc/.wps; they must give the same cells as the DOCX they were saved
from, and a machine without LibreOffice must say in one line what to install.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.document import ReadError
from extractor.readers import sniff
from extractor.readers.doc import soffice_path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "fixtures" / "doc"
needs_soffice = pytest.mark.skipif(soffice_path() is None, reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")


def test_sniff_old_word_and_rtf() -> None:
    assert sniff((DOC / "c002_2021_plain.doc").read_bytes()) == "doc"
    assert sniff((DOC / "c001_2019_plain.rtf").read_bytes()) == "rtf"
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600) == "doc"  # a .wps is an OLE file too


def test_missing_libreoffice_is_one_line_naming_the_package(monkeypatch, tmp_path) -> None:
    import extractor

    monkeypatch.setenv("EXTRACTOR_SOFFICE", str(tmp_path / "no-such-soffice"))
    with pytest.raises(ReadError) as info:
        extractor.parse(DOC / "c002_2021_plain.doc")
    message = str(info.value)
    assert "libreoffice-writer-nogui" in message and "\n" not in message


@needs_soffice
@pytest.mark.parametrize("name", ["c002_2021_plain.doc", "c004_2019_split_header.doc", "c001_2019_plain.rtf"])
def test_doc_gives_every_truth_cell(name: str) -> None:
    import extractor

    report = extractor.parse(DOC / name)
    truth = json.loads((DOC / f"{name}.truth.json").read_text(encoding="utf-8"))
    assert report.format == truth["meta"]["format"]
    values = report.values()
    wrong = {code: (want, values.get(code)) for code, want in truth["cells"].items() if values.get(code) != want}
    assert not wrong


@needs_soffice
def test_corrupt_doc_is_a_read_error(tmp_path) -> None:
    import extractor

    bad = tmp_path / "bad.doc"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000)
    with pytest.raises(ReadError):
        extractor.parse(bad)


@needs_soffice
def test_harness_scores_doc_folder_fully() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), str(DOC)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "PASSED" in proc.stdout
