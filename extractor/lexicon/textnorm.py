"""Text normalisation used before any label is matched.

Labels are compared after: NFKC (full-width digits and brackets to ASCII), Traditional to
Simplified, removal of all white space and markup (Markdown `**`, `#`, `|`), and unification of the
number markers ('1、' / '1．' / '1. ' → '1.').
"""

from __future__ import annotations

import functools
import re
import unicodedata
from difflib import SequenceMatcher

import regex
from rapidfuzz.fuzz import ratio

_SPACE = re.compile(r"[\s\u3000\u00a0]+")
_MARKUP = re.compile(r"[*#|`>_]+")
_NUM_MARK = regex.compile(r"(?<![\d.])(\d{1,2})\s*[、,，.．]\s*(?=\p{Han})")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"'})


@functools.lru_cache(maxsize=1)
def _t2s():
    try:
        import opencc

        return opencc.OpenCC("t2s")
    except Exception:  # opencc is optional at run time; Simplified text passes through unchanged
        return None


@functools.lru_cache(maxsize=1)
def _changing_starts() -> frozenset[str] | None:
    """The first characters of every dictionary entry the converter changes (None: unknown, convert
    everything). opencc converts in pure Python, about 0.1 ms a string; a string holding none of
    these characters contains no entry that changes, so it comes out as it went in."""
    converter = _t2s()
    try:
        converter._init_dict()  # the dictionaries convert() uses (loaded once: opencc caches them)
        starts = frozenset(
            key[0] for group in converter._dict_chain_data for _longest, _shortest, entries in group for key, value in entries.items() if key and value != key
        )
    except (AttributeError, TypeError, ValueError):  # another opencc build: no shortcut
        return None
    return starts or None  # no entries found is not "nothing changes": convert everything then


@functools.lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    converter = _t2s()
    if converter is None or text.isascii():
        return text
    starts = _changing_starts()
    if starts is not None and starts.isdisjoint(text):
        return text
    return converter.convert(text)


@functools.lru_cache(maxsize=65536)
def norm(text: str | None) -> str:
    """Canonical form of a label or heading for matching (not for display)."""
    if not text:
        return ""
    out = unicodedata.normalize("NFKC", text)
    out = _MARKUP.sub("", out)
    out = _SPACE.sub("", out)
    out = out.translate(_QUOTES)
    out = _NUM_MARK.sub(r"\1.", out)
    return to_simplified(out)


def ratio_at_least(a: str, b: str, floor: float) -> float:
    """difflib's similarity ratio of `a` and `b` where it can reach `floor`, else 0.0.

    rapidfuzz's Indel ratio (2·LCS / total length) is never below difflib's (difflib's matching
    blocks are one common subsequence), so rapidfuzz rules out most pairs in C and difflib measures
    only the rest: every score that matters is exactly the one difflib gave before.
    """
    if ratio(a, b, score_cutoff=max(floor * 100 - 1e-6, 0.0)) == 0 and floor > 0:
        return 0.0
    return SequenceMatcher(None, a, b).ratio()


def clean(text: str | None) -> str:
    """Display form: NFKC-free but with line breaks and runs of spaces collapsed."""
    if not text:
        return ""
    return _SPACE.sub(" ", text).strip()


_HAN = regex.compile(r"\p{Han}")


def han_count(text: str) -> int:
    return len(_HAN.findall(text))
