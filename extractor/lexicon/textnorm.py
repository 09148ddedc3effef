"""Text normalisation used before any label is matched.

Labels are compared after: NFKC (full-width digits and brackets to ASCII), Traditional to
Simplified, removal of all white space and markup (Markdown `**`, `#`, `|`), and unification of the
number markers ('1、' / '1．' / '1. ' → '1.').
"""

from __future__ import annotations

import functools
import unicodedata

import regex

_SPACE = regex.compile(r"[\s\u3000\u00a0]+")
_MARKUP = regex.compile(r"[*#|`>_]+")
_NUM_MARK = regex.compile(r"(?<![\d.])(\d{1,2})\s*[、,，.．]\s*(?=\p{Han})")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"'})


@functools.lru_cache(maxsize=1)
def _t2s():
    try:
        import opencc

        return opencc.OpenCC("t2s")
    except Exception:  # opencc is optional at run time; Simplified text passes through unchanged
        return None


@functools.lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    converter = _t2s()
    if converter is None or text.isascii():
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


def clean(text: str | None) -> str:
    """Display form: NFKC-free but with line breaks and runs of spaces collapsed."""
    if not text:
        return ""
    return _SPACE.sub(" ", text).strip()


def han_count(text: str) -> int:
    return len(regex.findall(r"\p{Han}", text))
