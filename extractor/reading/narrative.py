"""Numbers the narrative states about table cells ('全年共受理政府信息公开申请21件').

Part of the interpret stage: it reads the prose rows of the located document and returns
statements (cells, stated value, sentence, page, scope); the checks compare them with the tables.

Each number is read once, by the longest phrase that ends on it: '予以公开及部分公开 200 件' is the
sum of （一）and（二）, not （二）alone. The words of the sentence before the number say whose figure
it is (lexicon [narrative_scope]): a part of a whole (其中), another agency's (代表县政府受理), the
whole area's (全区) — the checks weigh a mismatch by that.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from extractor.lexicon.labels import vocabulary
from extractor.lexicon.textnorm import norm
from extractor.reading.locate import Layout
from extractor.report import Statement

NUMBER = r"(?P<n>\d[\d,]*)"
CONTEXT_CHARS = 30
_SENTENCE_END = re.compile(r"[。;!?]")
AFTER_CHARS = 14  # '75件(含上年结转1件)': a note right after the number


@dataclass(frozen=True)
class _Pattern:
    codes: tuple[str, ...]
    compiled: re.Pattern
    whole: bool  # the figure is a total: one stated after 其中 is a part of it, not the total


@functools.lru_cache(maxsize=1)
def _patterns() -> list[_Pattern]:
    vocab = vocabulary()
    out = [
        _Pattern(tuple(entry["codes"]), re.compile(entry["pattern"].replace("{N}", NUMBER)), bool(entry.get("whole")))
        for entry in vocab["narrative"]
    ]
    outcomes = vocab["narrative_outcomes"]
    categories = outcomes["category"]
    suffix = outcomes["suffix"].replace("{N}", NUMBER)
    for cat in categories:  # one outcome
        out.append(_Pattern(tuple(cat["codes"]), re.compile(f"(?:{cat['phrase']}){suffix}"), False))
    # two or more outcomes joined before one number: the sum of them
    any_phrase = "|".join(f"(?:{c['phrase']})" for c in categories)
    joined = re.compile(f"(?P<cats>(?:{any_phrase})(?:{outcomes['joiners']}(?:{any_phrase}))+){suffix}")
    out.append(_Pattern((), joined, False))
    return out


@functools.lru_cache(maxsize=1)
def _category_finder() -> list[tuple[re.Pattern, tuple[str, ...]]]:
    cats = vocabulary()["narrative_outcomes"]["category"]
    return [(re.compile(c["phrase"]), tuple(c["codes"])) for c in cats]


def _joined_codes(cats: str) -> tuple[str, ...]:
    """The cells of every outcome named in '予以公开及部分公开' (longest phrase first at each place)."""
    codes: list[str] = []
    i = 0
    finders = _category_finder()
    while i < len(cats):
        best: tuple[int, tuple[str, ...]] | None = None
        for pattern, cat_codes in finders:
            m = pattern.match(cats, i)
            if m and (best is None or m.end() > best[0]):
                best = (m.end(), cat_codes)
        if best is None:
            i += 1
            continue
        codes.extend(c for c in best[1] if c not in codes)
        i = best[0]
    return tuple(codes)


def scope_of(before: str, after: str, whole: bool, phrase: str = "") -> str:
    """Whose figure the words say it is ('' when they say nothing): see labels.toml [narrative_scope]."""
    words = vocabulary()["narrative_scope"]
    if any(w in phrase for w in words["new_only"]):
        return "new_only"
    if any(w in after for w in words["includes_carried_in"]) or any(w in before for w in words["includes_carried_in"]):
        return "includes_carried_in"
    if whole and any(w in before for w in words["part"]):
        return "part"
    for scope in ("on_behalf", "aggregate", "area", "own"):
        if any(w in before for w in words[scope]):
            return scope
    return ""


def read_statements(text: str) -> list[tuple[Statement, int]]:
    """The statements of normalised prose `text`, each with the offset where its phrase starts."""
    found: dict[int, tuple[int, int, _Pattern, re.Match]] = {}  # number offset -> longest phrase
    for pattern in _patterns():
        for m in pattern.compiled.finditer(text):
            at = m.start("n")
            best = found.get(at)
            if best is None or m.start() < best[0]:
                found[at] = (m.start(), m.end(), pattern, m)
    out: list[tuple[Statement, int]] = []
    for at in sorted(found):
        start, end, pattern, m = found[at]
        digits = m.group("n").replace(",", "")
        if not digits.isdigit():
            continue
        codes = pattern.codes or _joined_codes(m.group("cats"))
        sentence_start = max((e.end() for e in _SENTENCE_END.finditer(text, 0, start)), default=0)
        scope = scope_of(text[sentence_start:start], text[m.end("n") : m.end("n") + AFTER_CHARS], pattern.whole, m.group(0))
        context = text[max(0, start - CONTEXT_CHARS // 2) : end + 2]
        out.append((Statement(codes=list(codes), value=int(digits), text=context, scope=scope), start))
    return out


def extract_statements(layout: Layout) -> list[Statement]:
    """Join the prose rows (lines of one paragraph may be split, as in PDFs) and find the statements."""
    pieces: list[tuple[int, int | None, str | None]] = []  # (offset, page, section) where each row starts
    text_parts: list[str] = []
    offset = 0
    for row in layout.rows:
        if not row.is_line:
            continue
        piece = norm(row.text)
        if not piece:
            continue
        pieces.append((offset, row.page, layout.section_of(row.index)))
        text_parts.append(piece)
        offset += len(piece)
    statements = []
    for statement, start in read_statements("".join(text_parts)):
        for piece_offset, piece_page, piece_section in pieces:
            if piece_offset > start:
                break
            statement.page, statement.section = piece_page, piece_section
        statements.append(statement)
    return statements
