"""The command line: output formats, and one-line errors with exit code 2 for bad input."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from builders import REAL

CLI = [sys.executable, "-m", "extractor"]  # the entry point the console script runs (extractor.cli.run)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def test_parse_json_is_the_contract():
    proc = run("parse", str(REAL / "hzq2023.pdf"), "--format", "json")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr  # no warning on a good file
    data = json.loads(proc.stdout)
    assert data["report"] == {"agency": "淮安市洪泽区人民政府", "year": 2023, "template": "2021", "parser_version": data["report"]["parser_version"]}
    assert {c["code"]: c["value"] for c in data["cells"]}["t3.new.total"] == 21
    assert [f["rule"] for f in data["findings"] if f["severity"] == "error"] == ["t4.group_total", "t4.group_total"]


def test_the_console_script_runs_the_entry_point_that_sets_up_the_collector():
    from importlib.metadata import entry_points

    import extractor.cli

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "extractor"]
    assert script.load() is extractor.cli.run
    # the collector is back on, with the settled policy, while a command runs; off only during import
    probe = "import gc, sys; from extractor.cli import main as m; m.main.add_command(m.click.Command('gc', callback=lambda: print(gc.isenabled(), gc.get_threshold()[0], gc.get_freeze_count() > 10000)), 'gc')"
    proc = subprocess.run([sys.executable, "-c", f"{probe}; from extractor.cli import run; sys.argv = ['extractor', 'gc']; run()"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.split() == ["True", "20000", "True"], proc.stderr


def test_the_package_imports_its_pipeline_on_first_use():
    probe = "import sys, extractor; before = 'extractor.api' in sys.modules; extractor.parse; print(before, 'extractor.api' in sys.modules, extractor.Report.__name__)"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.stdout.split() == ["False", "True", "Report"], proc.stderr
    import extractor

    assert sorted(extractor.__all__) == sorted(extractor._EXPORTS) and all(getattr(extractor, name) is not None for name in extractor.__all__)


def test_parse_csv_has_bom_and_long_rows(tmp_path):
    out = tmp_path / "cells.csv"
    proc = run("parse", str(REAL / "seed2020.txt"), "--format", "csv", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0].keys() >= {"code", "value", "raw", "page"}
    assert {r["code"]: r["value"] for r in rows}["t2.licensing.decisions"] == "440"


def test_parse_text_summary_names_findings():
    proc = run("parse", str(REAL / "seed2020.txt"))
    assert proc.returncode == 0
    assert "银川市金凤区审批服务管理局" in proc.stdout and "[错误] 表三缺少行：" in proc.stdout
    assert "structure.missing_rows" not in proc.stdout  # people read titles, not ids
    assert "✗ 四、政府信息公开行政复议、行政诉讼情况" in proc.stdout


def test_parse_text_summary_names_the_cells_to_check():
    """「N 个需核对」 is followed by the cells: row, columns and why."""
    proc = run("parse", str(REAL / "kewei2024.md"))
    assert proc.returncode == 0
    m = re.search(r"（(\d+) 个需核对）", proc.stdout)
    assert m and int(m.group(1)) > 0
    assert "「（二）部分公开」整行：行标签缺失，按表格行序定位" in proc.stdout
    assert "the whole row" not in proc.stdout


def _encrypted_pdf(path: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(str(REAL / "hzq2023.pdf")).pages[:1]:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def _scanned_pdf(path: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 800), "white")
    ImageDraw.Draw(image).rectangle((50, 50, 550, 300), outline="black", width=3)
    image.save(str(path), "PDF", resolution=100)
    return path


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    (tmp / "empty.pdf").write_bytes(b"")
    (tmp / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> garbage")
    (tmp / "noise.bin").write_bytes(bytes(range(256)) * 20)
    with zipfile.ZipFile(tmp / "fake.docx", "w") as archive:
        archive.writestr("hello.txt", "not a word file")
    (tmp / "broken.docx").write_bytes(b"PK\x03\x04 truncated")
    return {
        "empty": (tmp / "empty.pdf", "empty file"),
        "corrupt": (tmp / "corrupt.pdf", "corrupt"),
        "encrypted": (_encrypted_pdf(tmp / "locked.pdf"), "encrypted"),
        "scanned": (_scanned_pdf(tmp / "scan.pdf"), "OCR"),
        "binary": (tmp / "noise.bin", "not a supported"),
        "zip-not-docx": (tmp / "fake.docx", "ZIP"),
        "truncated-docx": (tmp / "broken.docx", ""),
        "missing": (tmp / "nothing-here.pdf", "not found"),
    }


@pytest.mark.parametrize("case", ["empty", "corrupt", "encrypted", "scanned", "binary", "zip-not-docx", "truncated-docx", "missing"])
def test_bad_input_one_line_error_exit_2(tmp_path, case):
    path, reason = _bad_inputs(tmp_path)[case]
    proc = run("parse", str(path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert str(path) in lines[0] and reason in lines[0]
    said = lines[0].split(f"{path}: ", 1)[1]
    assert "\u4e00" <= said[0] <= "\u9fff", said  # in Chinese first, the engine's words after


def test_rules_lists_every_rule():
    proc = run("rules")
    assert proc.returncode == 0
    for rule in ("t3.balance", "t3.row_sum", "t3.column_sum", "t4.group_total", "value.negative"):
        assert rule in proc.stdout


def test_a_folder_is_a_one_line_error(tmp_path):
    proc = run("parse", str(tmp_path))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "folder" in proc.stderr
