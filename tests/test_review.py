"""Reviewer decisions: stable fingerprints, decisions that survive re-ingesting after a parser
change, corrected values kept beside the extracted ones, workbook round trip, schema migration."""

from __future__ import annotations

import json
import shutil
import sqlite3

import openpyxl
import pytest
from builders import REAL
from click.testing import CliRunner

import extractor.version
from extractor.cli.main import main
from extractor.outputs.audit import collect, write
from extractor.store import database as storage
from extractor.store import review
from extractor.store.ingest import ingest


@pytest.fixture()
def db(tmp_path, db_url) -> str:
    """Three real reports ingested into SQLite and into PostgreSQL."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("hzq2023.pdf", "seed2020.txt", "pingtan2020.html"):
        shutil.copy(REAL / name, folder / name)
    ingest([str(folder)], db_url, workers=1, progress="none")
    return db_url


def finding_print(conn, rule: str) -> str:
    return conn.execute("SELECT fingerprint FROM findings WHERE rule = :rule ORDER BY id", {"rule": rule}).fetchone()[0]


def test_every_finding_has_a_stable_fingerprint(db, tmp_path):
    conn = storage.connect(str(db))
    prints = [r[0] for r in conn.execute("SELECT fingerprint FROM findings")]
    assert prints and all(prints) and len(set(prints)) == len(prints)
    conn.close()
    again = tmp_path / "again.db"
    ingest([str(tmp_path / "in")], str(again), workers=1, progress="none")
    other = storage.connect(str(again))
    assert sorted(r[0] for r in other.execute("SELECT fingerprint FROM findings")) == sorted(prints)


def test_decisions_survive_a_forced_reingest_after_a_parser_change(db, tmp_path, monkeypatch):
    conn = storage.connect(str(db))
    fp = finding_print(conn, "t4.group_total")
    review.record(conn, fp, "corrected", "张三", note="复议总计应为 11", value="11")
    cross_fp = finding_print(conn, "narrative.percentage")
    review.record(conn, cross_fp, "dismissed", "李四", note="约数，可接受")
    conn.close()
    monkeypatch.setattr(extractor.version, "PARSER_VERSION", "9.9.9")
    summary = ingest([str(tmp_path / "in")], str(db), workers=1, progress="none")
    assert summary.ok == 3  # re-parsed because the parser version changed
    conn = storage.connect(str(db))
    assert {v for (v,) in conn.execute("SELECT parser_version FROM reports")} == {"9.9.9"}
    made = review.decisions(conn)
    assert made[fp].decision == "corrected" and made[fp].value == 11 and made[fp].decided_by == "张三"
    assert made[cross_fp].decision == "dismissed"
    assert finding_print(conn, "t4.group_total") == fp  # the re-parsed finding has the same identity
    # the corrected value is kept beside the extracted cell, which is unchanged
    assert conn.execute("SELECT value FROM cells WHERE code = 't4.review.total'").fetchone()[0] == 0
    audit = collect(str(db), images=False)
    shown = {f.fingerprint: f.decision for r in audit.reports for f in r.findings}
    assert shown[fp].value == 11 and shown[cross_fp].decision == "dismissed"


def test_decision_history_is_kept(db):
    conn = storage.connect(str(db))
    fp = finding_print(conn, "t3.column_sum")
    review.record(conn, fp, "confirmed", "张三")
    review.record(conn, fp, "dismissed", "李四", note="复核后不成立")
    assert [d.decision for d in review.history(conn, fp)] == ["confirmed", "dismissed"]
    assert review.decisions(conn)[fp].decided_by == "李四"


@pytest.mark.parametrize(
    "args, problem",
    [
        (("nope", "confirmed", "张三"), "没有指纹"),
        ((None, "corrected", "张三"), "--value"),
        ((None, "maybe", "张三"), "决定必须是"),
        ((None, "confirmed", ""), "审核人"),
    ],
)
def test_bad_decisions_are_refused(db, args, problem):
    conn = storage.connect(str(db))
    fp = args[0] or finding_print(conn, "t3.column_sum")
    with pytest.raises(review.ReviewError, match=problem):
        review.record(conn, fp, args[1], args[2])


def test_review_command_records_and_lists(db):
    conn = storage.connect(str(db))
    fp = finding_print(conn, "t3.column_sum")
    conn.close()
    runner = CliRunner()
    result = runner.invoke(main, ["review", "--db", str(db), "--fingerprint", fp, "--decision", "confirmed", "--by", "王五", "--note", "属实"])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(main, ["review", "--db", str(db), "--list", "--rule", "t3"]).output
    assert fp in listing and "确认" in listing
    undecided = runner.invoke(main, ["review", "--db", str(db), "--list", "--undecided"]).output
    assert fp not in undecided and "未审核" in undecided
    bad = runner.invoke(main, ["review", "--db", str(db), "--fingerprint", "nope", "--decision", "confirmed", "--by", "x"])
    assert bad.exit_code != 0 and "没有指纹" in bad.output


def test_workbook_decisions_are_imported(db, tmp_path):
    path = tmp_path / "audit.xlsx"
    write(collect(str(db), images=False), str(path))
    book = openpyxl.load_workbook(path)
    sheet = book["发现"]
    header = [c.value for c in sheet[1]]
    col = {name: header.index(name) + 1 for name in ("指纹", "规则编号", "决定", "更正值", "审核人", "备注")}
    chosen = {}
    for row in range(2, sheet.max_row + 1):
        rule = sheet.cell(row, col["规则编号"]).value
        if rule == "t4.group_total" and "corrected" not in chosen.values():
            sheet.cell(row, col["决定"], "已更正")
            sheet.cell(row, col["更正值"], 11)
            chosen[sheet.cell(row, col["指纹"]).value] = "corrected"
        elif rule == "t3.column_sum" and "dismissed" not in chosen.values():
            sheet.cell(row, col["决定"], "不成立")
            sheet.cell(row, col["备注"], "印刷错误已另行说明")
            chosen[sheet.cell(row, col["指纹"]).value] = "dismissed"
    book.save(path)
    conn = storage.connect(str(db))
    count, problems = review.import_workbook(conn, str(path), by="赵六")
    assert (count, problems) == (2, [])
    made = review.decisions(conn)
    assert {fp: made[fp].decision for fp in chosen} == chosen
    assert all(made[fp].decided_by == "赵六" for fp in chosen)
    assert review.import_workbook(conn, str(path), by="赵六")[0] == 0  # unchanged rows are not recorded twice


V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE reports (id INTEGER PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE, format TEXT, pages INTEGER,
  agency TEXT, agency_key TEXT, year INTEGER, template TEXT, parser_version TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'failed')), error TEXT, ingested_at TEXT NOT NULL);
CREATE TABLE sections (report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE, code TEXT NOT NULL, heading TEXT, page INTEGER, found INTEGER NOT NULL);
CREATE TABLE cells (report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE, code TEXT NOT NULL, value, raw TEXT, page INTEGER, confidence REAL, label TEXT, derived INTEGER NOT NULL DEFAULT 0);
CREATE TABLE findings (id INTEGER PRIMARY KEY, report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE, rule TEXT NOT NULL,
  severity TEXT NOT NULL, message TEXT NOT NULL, codes TEXT NOT NULL, section TEXT, expected, actual, page INTEGER);
CREATE TABLE cross_findings (id INTEGER PRIMARY KEY, report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
  other_report_id INTEGER REFERENCES reports(id) ON DELETE CASCADE, agency_key TEXT, year INTEGER, other_year INTEGER, rule TEXT NOT NULL,
  severity TEXT NOT NULL, message TEXT NOT NULL, codes TEXT NOT NULL, expected, actual);
CREATE TABLE aliases (name TEXT PRIMARY KEY, key TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO reports VALUES (1, 'a.pdf', 'abc', 'pdf', 4, '某局', '某局', 2023, '2021', '0.1.0', 'ok', NULL, '2024-01-01T00:00:00Z');
INSERT INTO findings VALUES (1, 1, 't4.group_total', 'error', 'm', '["t4.review.total", "t4.review.upheld"]', 'review', 11, 0, 4);
PRAGMA user_version = 1;
"""


def test_version_1_database_is_migrated_with_fingerprints(tmp_path):
    path = tmp_path / "v1.db"
    raw = sqlite3.connect(path)
    raw.executescript(V1_SCHEMA)
    raw.close()
    conn = storage.connect(str(path))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == storage.SCHEMA_VERSION == 3
    fp = conn.execute("SELECT fingerprint FROM findings").fetchone()[0]
    assert fp == storage.fingerprint("t4.group_total", "某局", 2023, ["t4.review.upheld", "t4.review.total"])
    review.record(conn, fp, "confirmed", "张三")
    assert json.loads(conn.execute("SELECT codes FROM decisions").fetchone()[0]) == ["t4.review.total", "t4.review.upheld"]
