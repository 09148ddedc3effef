#!/usr/bin/env python3
"""Accuracy harness: run the extractor over documents with truth files and score it.

Why: every change to the extractor must be measured against the same labelled documents (the synthetic
corpus and the real reports) with one number per concern: cell accuracy, finding recall, unexpected
errors. The exit status makes it usable as a test and in CI.

Usage:
  python scripts/evaluate.py fixtures/corpus fixtures/real [--json OUT]
         [--min-cell-accuracy 1.0] [--min-recall 1.0] [--max-unexpected-errors 0] [--max-false-alarms N]

A false alarm is an error or a warning that matches no expected finding of its document (optional
ones included): what a supervisor would have to dismiss by hand. Info findings are notes, not alarms.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import re
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOL = 1e-6
RULE_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")  # extractor rule ids; free text like 'X-T2-2019 (soft)' is not
KIND_PREFIXES: dict[str, tuple[str, ...]] = {
    "arithmetic": ("t3.", "t4."),
    "missing_section": ("structure.missing_section",),
    "missing_table": ("structure.missing_table",),
    "missing_rows": ("structure.missing_rows",),
    "narrative": ("narrative.",),
    "text_arithmetic": ("narrative.",),
    "text_vs_table": ("narrative.",),
    "cross_year": ("cross_year.",),
}
DOC_SUFFIXES = (".pdf", ".docx", ".doc", ".html", ".htm", ".md", ".txt")


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def find_truth_files(args: list[str]) -> list[Path]:
    """All *.truth.json under the given folders, or the truth files given directly (or a document's truth)."""
    out: list[Path] = []
    for a in args:
        p = Path(a)
        if p.is_dir():
            out.extend(sorted(p.rglob("*.truth.json")))
        elif p.name.endswith(".truth.json"):
            out.append(p)
        elif p.exists():
            for cand in (p.with_name(p.name + ".truth.json"), p.with_name(p.stem + ".truth.json")):
                if cand.exists():
                    out.append(cand)
                    break
            else:
                print(f"warning: no truth file for {p}", file=sys.stderr)
        else:
            print(f"warning: {p} does not exist", file=sys.stderr)
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def resolve_document(truth_path: Path, meta: dict[str, Any]) -> Path | None:
    """meta.file relative to the truth file's folder, else a sibling with the same stem and a document suffix."""
    folder = truth_path.parent
    if meta.get("file"):
        cand = (folder / meta["file"]).resolve()
        if cand.is_file():
            return cand
    stem = truth_path.name[: -len(".truth.json")]
    direct = folder / stem
    if direct.is_file() and direct.suffix.lower() in DOC_SUFFIXES:
        return direct
    for suffix in DOC_SUFFIXES:
        cand = folder / (Path(stem).stem + suffix) if Path(stem).suffix else folder / (stem + suffix)
        if cand.is_file():
            return cand
    return None


def load_extractor() -> tuple[Callable[[str], Any], Callable[[list[Any]], list[Any]] | None]:
    """`extractor.parse` and the cross-report checks `extractor.checks.cross.cross_report`."""
    try:
        extractor = importlib.import_module("extractor")
    except Exception as exc:  # noqa: BLE001 - any import failure means the same thing here
        raise SystemExit(f"error: the extractor package cannot be imported ({type(exc).__name__}: {exc}). "
                         "Run from the repository root with the project installed.") from exc
    parse = getattr(extractor, "parse", None)
    if parse is None:
        raise SystemExit("error: extractor.parse does not exist yet; nothing to evaluate")
    from extractor.checks.cross import cross_report

    return parse, cross_report


def as_dict(obj: Any) -> dict[str, Any]:
    """Findings/reports may be objects with to_dict(), dataclasses or plain dicts."""
    if isinstance(obj, dict):
        return obj
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(obj)
    return dict(vars(obj))


# --------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------


def same_value(a: Any, b: Any) -> bool:
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return False
    try:
        return abs(float(a) - float(b)) <= TOL
    except (TypeError, ValueError):
        return a == b


def finding_matches(exp: dict[str, Any], got: dict[str, Any]) -> bool:
    """Whether a produced finding (error/warning) is the one the truth expects; see docs/corpus.md."""
    severity = got.get("severity")
    if severity not in ("error", "warning"):
        return False
    rule = str(got.get("rule") or "")
    kind = exp.get("kind")
    exp_codes = set(exp.get("codes") or [])
    got_codes = set(got.get("codes") or [])
    if kind == "left_blank":
        return severity == "warning" and bool(exp_codes & got_codes)
    exp_rule = exp.get("rule")
    if exp_rule and RULE_ID.match(str(exp_rule)):
        if rule != exp_rule:
            return False
    elif kind in KIND_PREFIXES:
        if not rule.startswith(KIND_PREFIXES[kind]):
            return False
    if exp_codes:
        return bool(exp_codes & got_codes)
    if exp.get("section"):
        return got.get("section") == exp["section"]
    return True


def max_matching(expected: list[dict[str, Any]], produced: list[dict[str, Any]]) -> dict[int, int]:
    """One produced finding per expected finding (bipartite matching); required findings are matched first."""
    order = sorted(range(len(expected)), key=lambda i: bool(expected[i].get("optional")))
    adj = {i: [j for j, p in enumerate(produced) if finding_matches(expected[i], p)] for i in order}
    owner: dict[int, int] = {}  # produced index -> expected index

    def augment(i: int, seen: set[int]) -> bool:
        for j in adj[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in order:
        augment(i, set())
    return {i: j for j, i in owner.items()}


@dataclass
class DocResult:
    """Scores of one document (or of a pseudo-document holding unattributed cross-report findings)."""

    truth: str
    file: str
    format: str
    template: str
    variant: str
    folder: str
    cells_total: int = 0
    cells_right: int = 0
    rows_total: int = 0
    rows_missed: int = 0
    extra_cells: int = 0
    expected: int = 0
    recalled: int = 0
    skipped: int = 0
    produced_errors: int = 0
    matched_errors: int = 0
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    false_alarms: list[dict[str, Any]] = field(default_factory=list)  # errors and warnings matching nothing expected
    missed_findings: list[dict[str, Any]] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    pages: int = 0
    error: str | None = None


def score_cells(res: DocResult, truth: dict[str, Any], cells: list[dict[str, Any]]) -> None:
    got: dict[str, Any] = {}
    for c in cells:
        got.setdefault(c.get("code"), c.get("value"))
    want: dict[str, Any] = truth.get("cells", {})
    res.cells_total = len(want)
    rows: dict[str, bool] = {}
    for code, value in want.items():
        row = code.rsplit(".", 1)[0]
        rows[row] = rows.get(row, False) or code in got
        if same_value(got.get(code), value):
            res.cells_right += 1
        else:
            res.misses.append({"code": code, "expected": value, "got": got.get(code, "(absent)")})
    res.rows_total = len(rows)
    res.rows_missed = sum(1 for hit in rows.values() if not hit)
    res.extra_cells = sum(1 for code in got if code not in want)


def score_findings(res: DocResult, expected: list[dict[str, Any]], produced: list[dict[str, Any]],
                   allowed: list[dict[str, Any]] | None = None) -> None:
    """Recall over `expected`; an error is unexpected when it matches nothing in `allowed` (default: expected)."""
    allowed = expected if allowed is None else allowed
    match = max_matching(expected, produced)
    for i, e in enumerate(expected):
        if e.get("optional"):
            continue
        res.expected += 1
        if i in match:
            res.recalled += 1
        else:
            res.missed_findings.append(e)
    for p in produced:
        matched = any(finding_matches(e, p) for e in allowed)
        if p.get("severity") in ("error", "warning") and not matched:
            res.false_alarms.append(p)
        if p.get("severity") != "error":
            continue
        res.produced_errors += 1
        if matched:
            res.matched_errors += 1
        else:
            res.unexpected.append(p)


# --------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------


def evaluate(truth_files: list[Path], parse: Callable[[str], Any],
             cross: Callable[[list[Any]], list[Any]] | None) -> list[DocResult]:
    results: list[DocResult] = []
    # (folder, format) -> [(result, report object, expected cross-year findings)]
    groups: dict[tuple[str, str], list[tuple[DocResult, Any, list[dict[str, Any]]]]] = defaultdict(list)
    for tp in truth_files:
        truth = json.loads(tp.read_text(encoding="utf-8"))
        meta = truth.get("meta", {})
        doc = resolve_document(tp, meta)
        fmt = meta.get("format") or (doc.suffix.lstrip(".").lower() if doc else "?")
        res = DocResult(truth=str(tp), file=str(doc) if doc else str(meta.get("file")), format=fmt,
                        template=str(meta.get("template")), variant=str(meta.get("variant") or "real"),
                        folder=str(tp.parent))
        results.append(res)
        expected = truth.get("expected_findings", [])
        cross_expected = [e for e in expected if e.get("kind") == "cross_year"]
        local_expected = [e for e in expected if e.get("kind") != "cross_year"]
        if doc is None:
            res.error = "document not found"
            score_cells(res, truth, [])
            score_findings(res, local_expected, [])
            continue
        start = time.perf_counter()
        try:
            report = parse(str(doc))
            out = as_dict(report)
        except Exception as exc:  # noqa: BLE001 - a crash is a result to record, not a reason to stop
            res.seconds = time.perf_counter() - start
            res.error = f"{type(exc).__name__}: {exc}"
            res.misses.append({"code": "(exception)", "expected": "", "got": traceback.format_exc(limit=3)})
            score_cells(res, truth, [])
            score_findings(res, local_expected, [])
            res.skipped += len([e for e in cross_expected if not e.get("optional")])
            continue
        res.seconds = time.perf_counter() - start
        res.pages = int((out.get("source") or {}).get("pages") or 1)
        score_cells(res, truth, out.get("cells") or [])
        own = [as_dict(f) for f in out.get("findings") or []]
        score_findings(res, local_expected, own, allowed=expected)
        if cross:
            groups[(res.folder, fmt)].append((res, report, cross_expected))
        else:
            res.skipped += len([e for e in cross_expected if not e.get("optional")])
    if cross:
        results.extend(run_cross(groups, cross))
    return results


def run_cross(groups: dict[tuple[str, str], list[tuple[DocResult, Any, list[dict[str, Any]]]]],
              cross: Callable[[list[Any]], list[Any]]) -> list[DocResult]:
    """Run cross_report per folder and format; findings are pooled per group and matched there."""
    extra: list[DocResult] = []
    for (folder, fmt), members in sorted(groups.items()):
        pseudo = DocResult(truth=f"(cross-report {folder} [{fmt}])", file=folder, format=fmt, template="-",
                           variant="cross_report", folder=folder)
        try:
            produced = [as_dict(f) for f in cross([m[1] for m in members])]
        except Exception as exc:  # noqa: BLE001
            pseudo.error = f"cross_report: {type(exc).__name__}: {exc}"
            produced = []
        expected_all = [(res, e) for res, _, exp in members for e in exp]
        match = max_matching([e for _, e in expected_all], produced)
        for i, (res, e) in enumerate(expected_all):
            if e.get("optional"):
                continue
            res.expected += 1
            if i in match:
                res.recalled += 1
            else:
                res.missed_findings.append(e)
        for p in produced:
            matched = any(finding_matches(e, p) for _, e in expected_all)
            if p.get("severity") in ("error", "warning") and not matched:
                pseudo.false_alarms.append(p)
            if p.get("severity") != "error":
                continue
            pseudo.produced_errors += 1
            if matched:
                pseudo.matched_errors += 1
            else:
                pseudo.unexpected.append(p)
        if pseudo.produced_errors or pseudo.false_alarms or pseudo.error:
            extra.append(pseudo)
    return extra


# --------------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------------


def summarise(rs: list[DocResult]) -> dict[str, Any]:
    docs = [r for r in rs if not r.truth.startswith("(cross-report")]
    cells = sum(r.cells_total for r in rs)
    right = sum(r.cells_right for r in rs)
    expected = sum(r.expected for r in rs)
    recalled = sum(r.recalled for r in rs)
    errors = sum(r.produced_errors for r in rs)
    matched = sum(r.matched_errors for r in rs)
    pages = sum(r.pages for r in docs if r.error is None)
    secs = sum(r.seconds for r in docs if r.error is None)
    return {
        "documents": len(docs),
        "failed": sum(1 for r in rs if r.error),
        "cells": cells,
        "cells_right": right,
        "cell_accuracy": right / cells if cells else 1.0,
        "rows_missed": sum(r.rows_missed for r in rs),
        "extra_cells": sum(r.extra_cells for r in rs),
        "expected_findings": expected,
        "recalled": recalled,
        "recall": recalled / expected if expected else 1.0,
        "skipped_findings": sum(r.skipped for r in rs),
        "produced_errors": errors,
        "precision": matched / errors if errors else 1.0,
        "unexpected_errors": sum(len(r.unexpected) for r in rs),
        "false_alarms": sum(len(r.false_alarms) for r in rs),
        "seconds_per_page": secs / pages if pages else 0.0,
    }


def group_by(rs: list[DocResult], key: str) -> dict[str, dict[str, Any]]:
    buckets: dict[str, list[DocResult]] = defaultdict(list)
    for r in rs:
        buckets[getattr(r, key)].append(r)
    return {k: summarise(v) for k, v in sorted(buckets.items())}


def table(title: str, rows: dict[str, dict[str, Any]]) -> str:
    head = f"{title:<22} {'docs':>5} {'fail':>4} {'cells':>7} {'acc%':>7} {'rowmiss':>7} {'recall':>9} " \
           f"{'prec%':>6} {'unexp':>5} {'false':>5} {'skip':>4} {'s/page':>7}"
    lines = [head, "-" * len(head)]
    for name, s in rows.items():
        lines.append(f"{name[:22]:<22} {s['documents']:>5} {s['failed']:>4} {s['cells']:>7} "
                     f"{100 * s['cell_accuracy']:>7.2f} {s['rows_missed']:>7} "
                     f"{s['recalled']:>4}/{s['expected_findings']:<4} {100 * s['precision']:>6.1f} "
                     f"{s['unexpected_errors']:>5} {s['false_alarms']:>5} {s['skipped_findings']:>4} "
                     f"{s['seconds_per_page']:>7.3f}")
    return "\n".join(lines)


def print_misses(rs: list[DocResult], limit: int) -> None:
    shown = 0
    for r in rs:
        items = []
        if r.error:
            items.append(f"  FAILED: {r.error}")
        for m in r.misses:
            if m["code"] != "(exception)":
                items.append(f"  cell {m['code']}: expected {m['expected']!r}, got {m['got']!r}")
        for e in r.missed_findings:
            items.append(f"  missed finding {e.get('rule') or e.get('kind')} {e.get('section') or ''} "
                         f"{(e.get('codes') or [])[:3]}: {e.get('about', '')}")
        for u in r.unexpected:
            items.append(f"  unexpected error {u.get('rule')}: {u.get('message', '')} {(u.get('codes') or [])[:3]}")
        for u in r.false_alarms:
            if u.get("severity") == "warning":
                items.append(f"  false alarm (warning) {u.get('rule')}: {u.get('message', '')} {(u.get('codes') or [])[:3]}")
        if not items:
            continue
        if shown >= limit:
            print("\n… more misses omitted (use --show N or --json for all)")
            return
        print(f"\n{r.file}")
        for line in items[: limit - shown]:
            print(line)
        shown += min(len(items), limit - shown)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", help="folders holding *.truth.json, truth files or documents")
    ap.add_argument("--json", type=Path, help="write the full results here")
    ap.add_argument("--min-cell-accuracy", type=float, default=1.0)
    ap.add_argument("--min-recall", type=float, default=1.0)
    ap.add_argument("--max-unexpected-errors", type=int, default=0)
    ap.add_argument("--max-false-alarms", type=int, default=None,
                    help="fail when more errors and warnings than this match no expected finding")
    ap.add_argument("--show", type=int, default=200, help="how many misses to print")
    args = ap.parse_args(argv)

    truth_files = find_truth_files(args.paths)
    if not truth_files:
        print("error: no *.truth.json found", file=sys.stderr)
        return 2
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    parse, cross = load_extractor()
    results = evaluate(truth_files, parse, cross)

    overall = summarise(results)
    groups = {k: group_by(results, k) for k in ("format", "template", "variant")}
    for key, rows in groups.items():
        print(table(f"by {key}", rows))
        print()
    print(table("overall", {"all": overall}))
    if cross is None:
        print("\nnote: extractor.checks.cross.cross_report not found; cross-year expectations skipped")

    failures = []
    if overall["cell_accuracy"] < args.min_cell_accuracy:
        failures.append(f"cell accuracy {overall['cell_accuracy']:.4f} < {args.min_cell_accuracy}")
    if overall["recall"] < args.min_recall:
        failures.append(f"finding recall {overall['recall']:.4f} < {args.min_recall}")
    if overall["unexpected_errors"] > args.max_unexpected_errors:
        failures.append(f"{overall['unexpected_errors']} unexpected errors > {args.max_unexpected_errors}")
    if args.max_false_alarms is not None and overall["false_alarms"] > args.max_false_alarms:
        failures.append(f"{overall['false_alarms']} false alarms > {args.max_false_alarms}")
    if failures:
        print_misses(results, args.show)
        print("\nFAILED: " + "; ".join(failures))
    else:
        print("\nPASSED")
    if args.json:
        payload = {
            "overall": overall, "groups": groups, "passed": not failures, "failures": failures,
            "thresholds": {"min_cell_accuracy": args.min_cell_accuracy, "min_recall": args.min_recall,
                           "max_unexpected_errors": args.max_unexpected_errors,
                           "max_false_alarms": args.max_false_alarms},
            "cross_report": cross is not None,
            "documents": [dataclasses.asdict(r) for r in results],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n",
                             encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
