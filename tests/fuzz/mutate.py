"""A small mutation fuzzer for `extractor.parse`: seed files from the fixtures, deterministic mutations,
each case parsed under the guard (a child process with the time and memory limits).

Used by tests/fuzz/test_fuzz.py (a bounded number of cases in CI) and by scripts/fuzz.sh for long
runs (`python -m tests.fuzz.mutate --minutes 30`), which saves every crasher under
tests/fuzz/crashers/ for turning into a regression file (tests/fuzz/regressions/).

A case passes when parse either returns a Report or raises a ReadError whose message is one line and
whose kind is one of READ_ERROR_KINDS, without the guard's generic "could not be parsed" (an
exception the readers did not turn into a reason) and within the limits. Anything else is a crasher.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# seeds for CI: every format the readers know, small and quick to parse (no OCR, no LibreOffice)
CI_SEEDS = (
    "fixtures/real/hzq2023.pdf",
    "fixtures/real/pingtan2021.html",
    "fixtures/real/kewei2024.md",
    "fixtures/real/seed2020.txt",
    "fixtures/corpus/c002_2021_plain.docx",
    "fixtures/corpus/c001_2019_plain.pdf",
    "fixtures/corpus/c036_2021r1_vertical_tbrl.docx",
    "fixtures/html/c031_2019_typos.html",
)
SEED_EXTENSIONS = (".pdf", ".docx", ".html", ".htm", ".md", ".txt", ".doc", ".rtf", ".png", ".tiff", ".mht")


def all_seeds() -> list[Path]:
    """The long-run corpus: every fixture document (scans and LibreOffice formats included)."""
    found = []
    for folder in ("fixtures/real", "fixtures/corpus", "fixtures/html", "fixtures/doc", "fixtures/scans"):
        found += [p for p in sorted((ROOT / folder).iterdir()) if p.suffix.lower() in SEED_EXTENSIONS]
    return found


# ------------------------------------------------------------------------------------------------
# mutations: each takes the bytes and a Random and returns new bytes


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(1, len(data))]


def delete_chunk(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, max(1, len(data) // 8)) :]


def duplicate_chunk(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data))
    chunk = data[i : i + rng.randint(1, 4096)]
    j = rng.randrange(len(data))
    return data[:j] + chunk * rng.randint(1, 8) + data[j:]


def zero_range(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data))
    n = rng.randint(1, max(1, len(data) // 16))
    return data[:i] + bytes(min(n, len(data) - i)) + data[i + n :]


def insert_magic(data: bytes, rng: random.Random) -> bytes:
    """Splice in tokens parsers branch on (PDF objects, XML, HTML, numbers at their limits)."""
    tokens = [b"obj", b"endobj", b"stream\n", b"endstream", b"/Length 999999999", b"trailer", b"xref", b"<<", b">>",
              b"<w:tbl>", b"<w:tc>", b"</w:tr>", b'w:val="restart"', b"<table>", b'<td colspan="999">', b"<tr>",
              b"-2147483648", b"\xff\xfe", b"\x00" * 8, b"%PDF-1.7", b"PK\x03\x04", b"{\\rtf1", b"&#x0;"]
    i = rng.randrange(len(data))
    return data[:i] + rng.choice(tokens) + data[i:]


def zip_members(data: bytes, rng: random.Random) -> bytes:
    """For DOCX/zip: mutate the XML inside a member (not the compressed bytes), or reorder, drop or
    duplicate members."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    except Exception:  # noqa: BLE001 - not a readable zip: plain mutation instead
        return flip_bytes(data, rng)
    if not members:
        return data
    what = rng.choice(("inner", "inner", "inner", "shuffle", "drop", "duplicate"))
    if what == "inner":
        k = rng.randrange(len(members))
        name, body = members[k]
        if body:
            inner = rng.choice((flip_bytes, truncate, delete_chunk, duplicate_chunk, insert_magic))
            members[k] = (name, inner(body, rng))
    elif what == "shuffle":
        rng.shuffle(members)
    elif what == "drop":
        members.pop(rng.randrange(len(members)))
    else:
        members.append(rng.choice(members))
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # a duplicate member name is the point
        for name, body in members:
            zf.writestr(zipfile.ZipInfo(name), body)
    return out.getvalue()


MUTATORS: tuple[Callable[[bytes, random.Random], bytes], ...] = (
    flip_bytes, truncate, delete_chunk, duplicate_chunk, zero_range, insert_magic,
)


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """(name of the mutation, mutated bytes); one to three mutations stacked."""
    names = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        if data[:4] == b"PK\x03\x04" and rng.random() < 0.6:
            fn = zip_members
        else:
            fn = rng.choice(MUTATORS)
        if not data:
            break
        data = fn(data, rng)
        names.append(fn.__name__)
    return "+".join(names), data


def cases(seeds: list[Path], count: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """`count` deterministic cases: (label, bytes)."""
    blobs = [(p.name, p.read_bytes()) for p in seeds]
    for i in range(count):
        rng = random.Random(f"{seed}:{i}")
        name, data = blobs[i % len(blobs)]
        how, mutated = mutate(data, rng)
        yield f"{i:05d}-{name}-{how}", mutated


# ------------------------------------------------------------------------------------------------
# judging one case


@dataclass
class Outcome:
    status: str  # ok | error | crash
    kind: str
    message: str
    seconds: float


def run_case(data: bytes, limits, ocr: str = "never") -> Outcome:
    """Parse the bytes under the guard; classify the result. CI passes ocr="never" (OCR costs seconds
    a page); long runs over the scans read them by OCR."""
    from extractor import READ_ERROR_KINDS, ReadError, parse_guarded

    start = time.monotonic()
    try:
        parse_guarded(data, limits, ocr=ocr)
    except ReadError as exc:
        message = str(exc)
        seconds = time.monotonic() - start
        crash = (
            "\n" in message
            or exc.kind not in READ_ERROR_KINDS
            or exc.kind == "timeout"
            or message.startswith(("could not be parsed", "the parser crashed", "the parser stopped"))
        )
        return Outcome("crash" if crash else "error", exc.kind, message, seconds)
    except Exception as exc:  # noqa: BLE001 - the guard itself must never raise anything else
        return Outcome("crash", "guard", f"{exc.__class__.__name__}: {exc}", time.monotonic() - start)
    return Outcome("ok", "", "", time.monotonic() - start)


def save_crasher(folder: Path, label: str, data: bytes, outcome: Outcome) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()[:12]
    path = folder / f"{digest}{Path(label.split('-', 2)[1]).suffix or '.bin'}"
    path.write_bytes(data)
    path.with_suffix(path.suffix + ".why").write_text(f"{label}\n{outcome.kind}: {outcome.message}\n", encoding="utf-8")
    return path


def main() -> None:
    from extractor import Limits

    parser = argparse.ArgumentParser(description="Mutation fuzzing of extractor.parse under the guard.")
    parser.add_argument("--minutes", type=float, default=None, help="run this long (default: --cases)")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--all-seeds", action="store_true", help="every fixture (scans, DOC/RTF) instead of the CI seeds")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fuzz" / "crashers")
    args = parser.parse_args()
    seeds = all_seeds() if args.all_seeds else [ROOT / s for s in CI_SEEDS]
    limits = Limits(timeout=60 if args.all_seeds else 30, memory_mb=2048 if args.all_seeds else 1024)
    count = 10**9 if args.minutes else args.cases
    deadline = time.monotonic() + (args.minutes or 0) * 60
    tally = {"ok": 0, "error": 0, "crash": 0}
    for label, data in cases(seeds, count, args.seed):
        if args.minutes and time.monotonic() > deadline:
            break
        outcome = run_case(data, limits, "auto" if args.all_seeds else "never")
        tally[outcome.status] += 1
        if outcome.status == "crash":
            saved = save_crasher(args.out, label, data, outcome)
            print(f"crash {label}: {outcome.kind}: {outcome.message[:200]} -> {saved}", flush=True)
    print(f"seed {args.seed}: {sum(tally.values())} cases: {tally['ok']} read, {tally['error']} refused in one line, {tally['crash']} crashers")
    sys.exit(1 if tally["crash"] else 0)


if __name__ == "__main__":
    main()
