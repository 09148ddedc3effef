"""`extractor export`: the real fixtures and the corpus (PDF and DOCX copies of each report) give a
panel with one row per agency-year and typed numeric columns, in Parquet and in CSV."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from extractor.cli.main import main
from extractor.outputs.export import export
from extractor.store import database as storage
from extractor.store import review
from extractor.store.ingest import ingest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("export") / "all.db"
    ingest([str(ROOT / "fixtures" / "real"), str(ROOT / "fixtures" / "corpus")], str(path), workers=2, progress="none")
    conn = storage.connect(str(path))
    fp = conn.scalar("SELECT f.fingerprint FROM findings f JOIN reports r ON r.id = f.report_id"
                     " WHERE f.rule = 't4.group_total' AND r.path LIKE '%hzq2023.pdf' ORDER BY f.id")  # fmt: skip
    review.record(conn, fp, "corrected", "张三", value="11")
    conn.close()
    return str(path)


@pytest.fixture(scope="module")
def parquet(db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parquet")
    result = CliRunner().invoke(main, ["export", "--db", db, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_reports_wide_has_one_typed_row_per_agency_year(db, parquet):
    wide = pd.read_parquet(parquet / "reports_wide.parquet")
    raw = sqlite3.connect(db)
    years = raw.execute(
        "SELECT count(DISTINCT coalesce(agency_key, 'id' || id) || '|' || coalesce(year, 'id' || id)) FROM reports WHERE status = 'ok'"
    ).fetchone()[0]
    copies = raw.execute("SELECT count(*) FROM reports WHERE status = 'ok'").fetchone()[0]
    raw.close()
    assert len(wide) == years < copies  # the corpus has a PDF and a DOCX of each report: one row each
    assert not wide.duplicated(["agency_key", "year"]).any()
    codes = [c for c in wide.columns if c.startswith(("t2.", "t3.", "t4."))]
    assert len(codes) > 100
    assert all(pd.api.types.is_numeric_dtype(wide[c]) for c in codes)
    assert str(wide["t3.total.total"].dtype) == "Int64" and str(wide["year"].dtype) == "Int64"
    hzq = wide[wide["source"].str.endswith("hzq2023.pdf")].iloc[0]
    assert hzq["t4.review.total"] == 0 and hzq["year"] == 2023 and hzq["level"] == "area"
    # departments of 临溪市滨湖区 come under its government; 滨湖区 of other cities do not
    parents = dict(zip(wide["agency_key"], wide["parent"], strict=True))
    assert parents["临溪市滨湖区城市管理局"] == parents["临溪市滨湖区应急管理局"] == "临溪市滨湖区人民政府"
    assert pd.isna(parents["清河市滨湖区审批服务管理局"]) and pd.isna(parents["临溪市滨湖区人民政府"])
    # the canonical copy: a PDF with a text layer before an equally complete DOCX
    assert (wide["format"] == "pdf").sum() > (wide["format"] == "docx").sum()


def test_cells_long_carries_the_corrected_value(parquet):
    long = pd.read_parquet(parquet / "cells_long.parquet")
    assert list(long.columns[:6]) == ["agency", "agency_key", "level", "parent", "year", "template"]
    for column in ("table", "code", "value", "raw", "page", "confidence", "corrected_value", "source"):
        assert column in long.columns
    total = long[long["source"].str.endswith("hzq2023.pdf") & (long["code"] == "t4.review.total")].iloc[0]
    assert total["value"] == 0 and total["corrected_value"] == 11
    assert long["corrected_value"].notna().sum() == 1
    assert pd.api.types.is_float_dtype(long["confidence"]) and pd.api.types.is_numeric_dtype(long["value"])


def test_findings_and_codebook(parquet):
    findings = pd.read_parquet(parquet / "findings.parquet")
    assert {"report", "cross"} == set(findings["kind"])
    assert (findings["decision"] == "corrected").sum() == 1
    book = pd.read_parquet(parquet / "codebook.parquet")
    row = book[book["code"] == "t3.total.natural_person"].iloc[0]
    assert row["table"] == "t3" and row["unit"] == "件" and "自然人" in row["label"]
    assert set(book["templates"].dropna()) <= {"2019", "2021", "2019,2021"}


def test_csv_export_reads_back_as_numbers(db, tmp_path):
    counts = export(db, str(tmp_path), "csv")
    assert counts["reports_wide"] > 0
    raw = (tmp_path / "reports_wide.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    wide = pd.read_csv(tmp_path / "reports_wide.csv")
    assert len(wide) == counts["reports_wide"]
    assert pd.api.types.is_numeric_dtype(wide["t3.total.total"]) and pd.api.types.is_numeric_dtype(wide["year"])
    assert wide.columns[0] == "agency"  # one header row


def test_export_errors_are_one_line(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["export", "--db", str(tmp_path / "nope.db"), "--out", str(tmp_path / "o")])
    assert missing.exit_code != 0 and "database not found" in missing.output and "Traceback" not in missing.output
