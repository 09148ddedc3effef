"""`python -m extractor`: the `extractor` command."""

from extractor.cli import run

run()
