"""Comparison outputs: CSV with BOM and a label row, XLSX with red error cells, by-year changes, filters."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from extractor.cli.batch import compare as compare_cmd
from extractor.outputs.compare import CompareError, compare
from extractor.report import Cell, Finding, Report
from extractor.store import database as storage
from extractor.store.ingest import run_cross_checks

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"


def truth_reports() -> list[Report]:
    out = []
    for truth in sorted(REAL.glob("*.truth.json")):
        data = json.loads(truth.read_text(encoding="utf-8"))
        meta = data["meta"]
        out.append(
            Report(
                path=meta.get("file", truth.name),
                sha256=hashlib.sha256(truth.read_bytes()).hexdigest(),
                format="html",
                pages=None,
                agency=meta["agency"],
                year=meta["year"],
                template=meta["template"],
                parser_version="test",
                cells=[Cell(code, value, str(value)) for code, value in data["cells"].items()],
            )
        )
    return out


@pytest.fixture()
def db(tmp_path: Path) -> tuple[Path, list[Report]]:
    """A database of the truth reports; the latest one gets an error finding and a broken carry-over."""
    reports = truth_reports()
    names = [r.agency for r in reports]
    most = max(names, key=names.count)  # the agency with most years in the fixtures
    series = sorted((r for r in reports if r.agency == most), key=lambda r: r.year or 0)
    latest = series[-1]
    latest.findings.append(
        Finding("t3.column_sum", "error", "表三 总计 1 ≠ 2", ["t3.new.total"], "requests", 2, 1, None)
    )
    if len(series) > 1:
        for c in latest.cells:
            if c.code == "t3.carried_in.natural_person":
                c.value = (c.value or 0) + 7
    path = tmp_path / "r.db"
    conn = storage.connect(str(path))
    for rep in reports:
        storage.write_report(conn, rep, storage.agency_key(rep.agency))
    run_cross_checks(conn)
    conn.close()
    return path, reports


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM"
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def test_csv_has_bom_label_row_and_code_row(db: tuple[Path, list[Report]], tmp_path: Path) -> None:
    path, reports = db
    out = tmp_path / "out.csv"
    n = compare(str(path), str(out))
    rows = read_csv(out)
    labels, codes, data = rows[0], rows[1], rows[2:]
    assert n == len(data) == len(reports)
    assert codes[:5] == ["agency", "agency_key", "year", "template", "source"]
    i = codes.index("t3.new.natural_person")
    assert labels[i] == "表三 / 一、本年新收政府信息公开申请数量 / 自然人"
    by_source = {row[codes.index("source")]: row for row in data}
    for rep in reports:
        assert by_source[rep.path][i] == str(rep.values()["t3.new.natural_person"])


def test_filters(db: tuple[Path, list[Report]], tmp_path: Path) -> None:
    path, reports = db
    out = tmp_path / "out.csv"
    year = reports[0].year
    assert compare(str(path), str(out), year=year) == sum(1 for r in reports if r.year == year)
    agency = reports[0].agency or ""
    assert compare(str(path), str(out), agency=agency[1:4]) == sum(
        1 for r in reports if agency[1:4] in (r.agency or "")
    )
    compare(str(path), str(out), codes="t3.*.total")
    codes = read_csv(out)[1]
    assert codes[8:] and all(c.startswith("t3.") and c.endswith(".total") for c in codes[8:])  # 8 fixed columns (状态 included)
    with pytest.raises(CompareError):
        compare(str(path), str(out), codes="no.such.*")
    with pytest.raises(CompareError):
        compare(str(path), str(tmp_path / "out.txt"))


def test_xlsx_numbers_red_error_cells_findings_sheet(db: tuple[Path, list[Report]], tmp_path: Path) -> None:
    path, reports = db
    out = tmp_path / "out.xlsx"
    compare(str(path), str(out))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["数据", "发现"]
    ws = wb["数据"]
    codes = [c.value for c in ws[2]]
    assert ws.freeze_panes == "I3"  # below the two header rows, right of the fixed columns (状态 included)
    col = codes.index("t3.new.total") + 1
    red = []
    for row in ws.iter_rows(min_row=3):
        cell = row[col - 1]
        assert cell.value is None or isinstance(cell.value, int | float)
        if cell.fill.fill_type == "solid":
            red.append(cell)
    assert len(red) == 1
    assert red[0].comment is not None and "表三列合计不符" in red[0].comment.text
    carry = codes.index("t3.carried_in.natural_person") + 1
    carry_red = [r[carry - 1] for r in ws.iter_rows(min_row=3) if r[carry - 1].fill.fill_type == "solid"]
    assert len(carry_red) == 1 and "跨年度结转不衔接" in carry_red[0].comment.text
    header = [c.value for c in wb["发现"][1]]
    rows = [dict(zip(header, row, strict=True)) for row in wb["发现"].iter_rows(min_row=2, values_only=True)]
    assert {"t3.column_sum", "cross_year.carry_over"} <= {r["规则编号"] for r in rows}
    assert {r["级别"] for r in rows} <= {"错误", "警告", "提示"}
    assert any(r["问题"] == "表三列合计不符" for r in rows)


def test_by_year_shows_each_year_and_the_change(db: tuple[Path, list[Report]], tmp_path: Path) -> None:
    path, reports = db
    out = tmp_path / "by_year.csv"
    compare(str(path), str(out), codes="t2.normative.in_force", by_year=True)
    rows = read_csv(out)
    codes, data = rows[1], rows[2:]
    names = [r.agency for r in reports]
    series = [r for r in reports if "t2.normative.in_force" in r.values() and r.agency == max(names, key=names.count)]
    assert len(data) == len({storage.agency_key(r.agency) for r in reports})
    if len(series) >= 2:
        a, b = sorted(series, key=lambda r: r.year or 0)[-2:]
        row = next(r for r in data if r[0] == a.agency)
        change = row[codes.index(f"t2.normative.in_force[{b.year}-{a.year}]")]
        assert float(change) == b.values()["t2.normative.in_force"] - a.values()["t2.normative.in_force"]
    xlsx = tmp_path / "by_year.xlsx"
    compare(str(path), str(xlsx), by_year=True)
    assert openpyxl.load_workbook(xlsx)["数据"].max_row == len(data) + 2


def test_cli_compare_errors_are_one_line(db: tuple[Path, list[Report]], tmp_path: Path) -> None:
    path, _ = db
    runner = CliRunner()
    ok = runner.invoke(compare_cmd, ["--db", str(path), "--out", str(tmp_path / "x.csv")])
    assert ok.exit_code == 0, ok.output
    for args in (
        ["--db", str(path), "--out", str(tmp_path / "x.pdf")],
        ["--db", str(tmp_path / "missing.db"), "--out", str(tmp_path / "x.csv")],
    ):
        res = runner.invoke(compare_cmd, args)
        assert res.exit_code != 0
        assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_compare_on_ingested_real_files(tmp_path: Path) -> None:
    """End to end through the real parser: ingest the fixture documents, compare them."""
    from extractor.store.ingest import ingest

    folder = tmp_path / "in"
    folder.mkdir()
    for p in REAL.iterdir():
        if not p.name.endswith(".json"):
            shutil.copy(p, folder / p.name)
    db_path = tmp_path / "r.db"
    summary = ingest([str(folder)], str(db_path), workers=2, progress="none")
    assert summary.ok >= 3
    out = tmp_path / "all.xlsx"
    n = compare(str(db_path), str(out))
    assert n == summary.ok + summary.failed  # a file that could not be read is a row too (状态)
    ws = openpyxl.load_workbook(out)["数据"]
    assert ws.max_row == n + 2
