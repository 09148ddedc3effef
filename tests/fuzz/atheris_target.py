"""Coverage-guided fuzzing of one reader with atheris (libFuzzer), for long runs: scripts/fuzz.sh.

    python tests/fuzz/atheris_target.py pdf CORPUS_DIR -max_total_time=600 -rss_limit_mb=2048 -timeout=30

The target runs what `extractor.read` runs for that format — the cheap limit checks, then the reader —
on the fuzzer's bytes. A ReadError is the reader refusing the input properly; any other exception,
a hang past -timeout or memory past -rss_limit_mb is a crash, which libFuzzer saves as crash-*/
timeout-*/oom-* in the working folder: fix the cause and add the file under tests/fuzz/regressions/.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["extractor"]):
    from extractor.document import ReadError
    from extractor.readers import limits as reader_limits

READERS = ("pdf", "docx", "html", "mht", "text", "image")


def _reader(name: str):
    """The reader function for a format, called as `extractor.read` would call it."""
    if name == "pdf":
        from extractor.readers.pdf import read_pdf

        return lambda data: read_pdf("<fuzz>", data, ocr="never")
    if name == "docx":
        from extractor.readers.docx import read_docx

        return lambda data: read_docx("<fuzz>", data)
    if name in ("html", "mht"):
        from extractor.readers import html

        fn = html.read_html if name == "html" else html.read_mht
        return lambda data: fn("<fuzz>", data)
    if name == "text":
        from extractor.readers.text import read_text

        return lambda data: read_text("<fuzz>", data)
    if name == "image":
        from extractor.readers.ocr import read_image

        return lambda data: read_image("<fuzz>", data)
    raise SystemExit(f"unknown reader {name!r}: one of {', '.join(READERS)}")


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in READERS:
        raise SystemExit(f"usage: {sys.argv[0]} {{{'|'.join(READERS)}}} [libFuzzer options and corpus folders]")
    name = sys.argv.pop(1)
    with atheris.instrument_imports(include=["extractor"]):
        read = _reader(name)
    fmt = {"mht": "mht", "text": "text"}.get(name, name)

    def one_input(data: bytes) -> None:
        if not data:
            return
        try:
            reader_limits.check(data, fmt)
            read(data)
        except ReadError:
            pass  # refused in one line: the contract

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
