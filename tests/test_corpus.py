"""The labelled corpus: complete on disk, reproducible from its seed, and fully extracted.

Why: the corpus is the yardstick for the extractor; a stale or partial corpus would make the accuracy
numbers meaningless, and test_extractor_meets_thresholds is the end-to-end acceptance test.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "corpus"
REAL = ROOT / "fixtures" / "real"
SCRIPTS = ROOT / "scripts"
CELLS_CSV = [ROOT / "extractor" / "lexicon" / "data" / "cells.csv", Path("/work/shared/spec/cells.csv")]
DOC_SUFFIXES = {".docx", ".pdf"}


def known_codes() -> set[str]:
    codes: set[str] = set()
    for path in CELLS_CSV:
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                codes.update(row["code"] for row in csv.DictReader(fh))
    return codes


def corpus_documents() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.suffix in DOC_SUFFIXES)


def test_corpus_is_complete() -> None:
    docs = corpus_documents()
    assert len(docs) >= 80, f"only {len(docs)} documents in {CORPUS}"
    codes = known_codes()
    assert codes, "no cells.csv found"
    for doc in docs:
        truth_path = doc.with_name(doc.name + ".truth.json")
        assert truth_path.exists(), f"{doc.name} has no truth file"
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        assert truth["meta"]["file"] == doc.name
        assert truth["meta"]["format"] == doc.suffix.lstrip(".")
        unknown = [c for c in truth["cells"] if c not in codes]
        assert not unknown, f"{truth_path.name}: codes not in cells.csv: {unknown}"
        for f in truth["expected_findings"]:
            unknown = [c for c in f.get("codes", []) if c not in codes]
            assert not unknown, f"{truth_path.name}: finding codes not in cells.csv: {unknown}"
    orphans = [t.name for t in CORPUS.glob("*.truth.json") if not (CORPUS / t.name[: -len(".truth.json")]).exists()]
    assert not orphans, f"truth files without a document: {orphans}"


def test_pdf_truth_mirrors_docx_truth() -> None:
    """A PDF is the rendering of its DOCX, so their truths differ only in meta.file/format."""
    for pdf_truth in sorted(CORPUS.glob("*.pdf.truth.json")):
        docx_truth = pdf_truth.with_name(pdf_truth.name.replace(".pdf.truth.json", ".docx.truth.json"))
        a = json.loads(pdf_truth.read_text(encoding="utf-8"))
        b = json.loads(docx_truth.read_text(encoding="utf-8"))
        for t in (a, b):
            t["meta"].pop("file")
            t["meta"].pop("format")
            t["meta"].pop("previous_year_file", None)
        assert a == b, pdf_truth.name


def test_make_fixtures_is_deterministic(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    proc = subprocess.run([sys.executable, str(SCRIPTS / "make_fixtures.py"), "--no-pdf", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    fresh = sorted(p.name for p in out.glob("*.docx.truth.json"))
    committed = sorted(p.name for p in CORPUS.glob("*.docx.truth.json"))
    assert fresh == committed
    for name in fresh:
        assert (out / name).read_bytes() == (CORPUS / name).read_bytes(), f"{name} differs from the committed file"


def test_extractor_meets_thresholds(tmp_path: Path) -> None:
    """End-to-end: every cell right, every expected finding found, no unexpected error."""
    cmd = [sys.executable, str(SCRIPTS / "evaluate.py"), str(CORPUS), str(REAL), str(ROOT / "fixtures" / "html"), "--min-cell-accuracy", "1.0",
           "--min-recall", "1.0", "--max-unexpected-errors", "0", "--json", str(tmp_path / "eval.json")]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    assert proc.returncode == 0, (proc.stdout[-12000:] + proc.stderr[-4000:])


def test_real_fixtures_have_no_false_alarms(tmp_path: Path) -> None:
    """Every error and warning on the real reports is one their truth files expect: a supervisor signs
    what the audit says, and each false alarm is a finding she would have to dismiss by hand."""
    cmd = [sys.executable, str(SCRIPTS / "evaluate.py"), str(REAL), "--max-false-alarms", "0", "--json", str(tmp_path / "real.json")]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    overall = json.loads((tmp_path / "real.json").read_text(encoding="utf-8"))["overall"]
    assert overall["false_alarms"] == 0 and overall["recall"] == 1.0 and overall["documents"] >= 7
