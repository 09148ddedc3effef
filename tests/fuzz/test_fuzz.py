"""The fuzzing suite that stays: a bounded mutation run over the seed corpus (the fixtures) and every
regression file with its expected one-line outcome.

EXTRACTOR_FUZZ_CASES (default 300, about 2.5 minutes on the 2-core CI machine) and
EXTRACTOR_FUZZ_SEED (default 0: the same cases every run) change the run; longer runs and the atheris
targets: scripts/fuzz.sh --minutes N.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from extractor import Limits, ReadError, parse_guarded

try:
    from tests.fuzz.mutate import CI_SEEDS, ROOT, cases, run_case
except ImportError:  # pytest started outside the checkout's root (tests/ then is not a package on the path)
    from fuzz.mutate import CI_SEEDS, ROOT, cases, run_case

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
LIMITS = Limits(timeout=30, memory_mb=1024)


def test_mutated_fixtures_give_a_report_or_one_line():
    count = int(os.environ.get("EXTRACTOR_FUZZ_CASES", "300"))
    seed = int(os.environ.get("EXTRACTOR_FUZZ_SEED", "0"))
    tally = {"ok": 0, "error": 0, "crash": 0}
    crashers = []
    for label, data in cases([ROOT / s for s in CI_SEEDS], count, seed):
        outcome = run_case(data, LIMITS)
        tally[outcome.status] += 1
        if outcome.status == "crash":
            crashers.append(f"{label}: {outcome.kind}: {outcome.message[:200]}")
    assert not crashers, "\n".join(crashers)
    assert tally["ok"] and tally["error"]  # the run exercised both paths (a fuzzer that cannot fail is no test)


def _regressions() -> list[Path]:
    return sorted(p for p in REGRESSIONS.iterdir() if p.suffix != ".expected" and p.with_name(p.name + ".expected").exists())


@pytest.mark.parametrize("path", _regressions(), ids=lambda p: p.name)
def test_regression_file_gives_its_expected_outcome(path: Path):
    """`NAME.expected` holds `ok`, or `KIND: a piece of the one-line message`."""
    expected = path.with_name(path.name + ".expected").read_text(encoding="utf-8").strip()
    try:
        report = parse_guarded(path, LIMITS, ocr="never")
    except ReadError as exc:
        kind, _, says = expected.partition(":")
        assert expected != "ok", f"expected a report, got {exc.kind}: {exc}"
        assert exc.kind == kind.strip() and says.strip() in str(exc), f"{exc.kind}: {exc}"
        assert "\n" not in str(exc)
        return
    assert expected == "ok", f"expected {expected}, got a report"
    assert report.path
