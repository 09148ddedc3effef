"""Reasons from the engine (English, one line) said in Chinese for the pages; the original follows.
The table is data (lexicon/data/wording.toml [[reasons]]), shared with the CLI and the audit."""

from __future__ import annotations

from extractor.lexicon.labels import reason_text as reason

__all__ = ["reason"]
