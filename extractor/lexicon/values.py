"""Parsing of printed cell values, in one place.

A printed cell becomes a `Value`: the number, the raw text, whether it was a blank marker (read as 0
per the output contract), the unit written in the cell, and a confidence below 1 when the text had
to be repaired (stray characters before the digits).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

BLANK_MARKERS = {"", "-", "—", "–", "——", "--", "－", "/", "／", "\\", "无", "無", "空", "不适用", "N/A", "NA", "n/a", "×", "x", "X"}
UNITS = ("万元", "元", "件", "项", "条", "个", "次")
_NUMBER = re.compile(r"^([+\-−]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$")
_SPACES = re.compile(r"[\s\u3000]+")
_DASHES = re.compile(r"[-—–－_/]+")
_JUNK_PREFIX = re.compile(r"^[?？�\s·•]+")


@dataclass(frozen=True)
class Value:
    number: int | float | None
    raw: str
    blank: bool = False
    unit: str = ""
    confidence: float = 1.0

    @property
    def ok(self) -> bool:
        return self.number is not None


def parse_value(raw: str | None) -> Value:
    """Read one printed cell. `number` is None when the text is not a value at all."""
    return _parse_text("" if raw is None else str(raw))


@functools.lru_cache(maxsize=65536)
def _parse_text(text: str) -> Value:
    """parse_value of a string; cached, since the same cell texts recur in every report."""
    s = unicodedata.normalize("NFKC", text).strip()
    s = _SPACES.sub("", s)
    if s in BLANK_MARKERS or _DASHES.fullmatch(s or "-"):
        return Value(0, text, blank=True)
    confidence = 1.0
    stripped = _JUNK_PREFIX.sub("", s)
    if stripped != s:
        s, confidence = stripped, 0.6
    unit = ""
    for u in UNITS:
        if s.endswith(u) and len(s) > len(u):
            unit, s = u, s[: -len(u)]
            break
    s = s.replace("，", ",")
    m = _NUMBER.match(s)
    if not m:
        return Value(None, text)
    sign, whole, frac = m.groups()
    digits = whole.replace(",", "")
    number: int | float
    if frac is not None:
        number = float(f"{digits}.{frac}")
    else:
        number = int(digits)
    if sign in ("-", "−"):
        number = -number
    return Value(number, text, unit=unit, confidence=confidence)


def is_value_like(raw: str | None) -> bool:
    """True for anything a statistics cell may hold: a number, a blank marker, a number with a unit."""
    return parse_value(raw).ok
