"""Access to the label vocabulary (data/labels.toml) and the matching of printed labels against it.

Matching works on normalised text (textnorm.norm). A label matches a vocabulary entry when it
contains one of the entry's variants (the longest contained variant wins), or, failing that, when
its text without numbering is close to a variant (difflib ratio, pre-screened by rapidfuzz), which
absorbs typos such as '其他法律行政止公开'. The score says how sure the match is.
"""

from __future__ import annotations

import csv
import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources

import regex

from extractor.lexicon.textnorm import norm, ratio_at_least

FUZZY_THRESHOLD = 0.78
FUZZY_MARGIN = 0.08  # the best entry must beat the runner-up by this much
FUZZY_MIN_CHARS = 5  # shorter labels differ by one character between rows ('不予公开' / '予以公开')
_NUMBERING = re.compile(r"^(?:[(]?[一二三四五六七八九十]+[)、.]?|\d{1,2}\.|[(]\d{1,2}[)])+")


@functools.lru_cache(maxsize=1)
def vocabulary() -> dict:
    with resources.files("extractor.lexicon.data").joinpath("labels.toml").open("rb") as fh:
        return tomllib.load(fh)


@functools.lru_cache(maxsize=1)
def cell_catalogue() -> dict[str, dict[str, str]]:
    """cells.csv as code -> row dict (table, template, group, row, column, unit, note).

    The spec's file mixes notes for developers into the readable fields ('（六）其他处理 — the whole
    row; …', unit 'as printed (often 万元)'); they move to `note` here, so every label a person reads
    comes out Chinese."""
    with resources.files("extractor.lexicon.data").joinpath("cells.csv").open(encoding="utf-8") as fh:
        rows = {row["code"]: row for row in csv.DictReader(fh)}
    for row in rows.values():
        notes = []
        for key in ("group", "row", "column", "unit"):
            label, note = _split_note(row[key])
            row[key] = label
            if note:
                notes.append(note)
        row["note"] = "; ".join(notes)
    return rows


_NOTE = re.compile(r"\s+—\s+(?P<note>.*[A-Za-z].*)$")
_ENGLISH = regex.compile(r"^[^\p{Han}]*[A-Za-z]{3}")


def _split_note(text: str) -> tuple[str, str]:
    """'（六）其他处理 — the whole row…' → ('（六）其他处理', 'the whole row…'); a field that is a note
    only ('as printed (often 万元)') → ('', the note)."""
    m = _NOTE.search(text)
    if m:
        return text[: m.start()], m.group("note")
    if _ENGLISH.search(text):
        return "", text
    return text, ""


@functools.lru_cache(maxsize=1)
def section_catalogue() -> list[dict[str, str]]:
    with resources.files("extractor.lexicon.data").joinpath("sections.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


MATCH_CACHE_SIZE = 20_000  # answers a LabelSet keeps (a few MB at most)


@dataclass(frozen=True)
class Match:
    key: str
    score: float  # 1.0 exact containment of a full label; lower for short or fuzzy matches
    variant: str


class LabelSet:
    """A set of entries (key -> label variants) that printed labels are matched against."""

    def __init__(self, entries: dict[str, list[str]]):
        self.entries = {key: sorted({norm(v) for v in variants}, key=len, reverse=True) for key, variants in entries.items()}
        self._longest = {key: max(len(v) for v in vs) for key, vs in self.entries.items()}
        # variants of four characters or more without their numbering, for fuzzy matching
        self._fuzzy = {key: [strip_numbering(v) for v in vs if len(v) >= 4] for key, vs in self.entries.items()}
        self._longest_first = sorted(((v, k) for k, vs in self.entries.items() for v in vs if v), key=lambda p: -len(p[0]))
        self._matches: dict[tuple[str, bool], Match | None] = {}

    def match(self, label: str, fuzzy: bool = True) -> Match | None:
        text = norm(label)
        if not text:
            return None
        # every report prints the same row and column labels: remember the answers (Match is frozen)
        key = (text, fuzzy)
        if key not in self._matches:
            if len(self._matches) >= MATCH_CACHE_SIZE:
                self._matches.clear()
            self._matches[key] = self._match(text, fuzzy)
        return self._matches[key]

    def _match(self, text: str, fuzzy: bool) -> Match | None:
        best: Match | None = None
        for key, variants in self.entries.items():
            for variant in variants:
                if variant in text:
                    score = 1.0 if len(variant) >= 4 or len(text) <= len(variant) + 2 else 0.9
                    if best is None or len(variant) > len(best.variant):
                        best = Match(key, score, variant)
                    break
        if best is not None or not fuzzy:
            return best
        core = strip_numbering(text)
        if len(core) < FUZZY_MIN_CHARS:
            return None
        # ratios below FUZZY_THRESHOLD - FUZZY_MARGIN can neither win nor spoil a winner's margin
        floor = FUZZY_THRESHOLD - FUZZY_MARGIN
        scored = []
        for key, variants in self._fuzzy.items():
            ratio = max((ratio_at_least(core, v, floor) for v in variants), default=0.0)
            scored.append((ratio, key))
        scored.sort(reverse=True)
        if scored and scored[0][0] >= FUZZY_THRESHOLD:
            runner_up = scored[1][0] if len(scored) > 1 else 0.0
            if scored[0][0] - runner_up >= FUZZY_MARGIN:
                return Match(scored[0][1], round(scored[0][0], 3), "")
        return None

    def find_all(self, text: str) -> list[tuple[int, str]]:
        """Positions of every entry found in `text` (normalised), longest variant first, no overlaps."""
        flat = norm(text)
        taken: list[tuple[int, int]] = []
        found: list[tuple[int, str]] = []
        for variant, key in self._longest_first:
            start = flat.find(variant)
            while start >= 0:
                end = start + len(variant)
                if all(end <= a or start >= b for a, b in taken):
                    taken.append((start, end))
                    found.append((start, key))
                start = flat.find(variant, end)
        found.sort()
        return found


@functools.lru_cache(maxsize=65536)
def strip_numbering(text: str) -> str:
    return _NUMBERING.sub("", text)


@functools.lru_cache(maxsize=1)
def t2_rows() -> LabelSet:
    return LabelSet(vocabulary()["t2"]["rows"])


@functools.lru_cache(maxsize=1)
def t2_ignored_rows() -> LabelSet:
    return LabelSet({"ignored": vocabulary()["t2"]["ignored_rows"]["labels"]})


@functools.lru_cache(maxsize=1)
def t2_columns() -> LabelSet:
    return LabelSet(vocabulary()["t2"]["columns"])


@functools.lru_cache(maxsize=1)
def t3_rows() -> LabelSet:
    return LabelSet({row["code"]: row["labels"] for row in vocabulary()["t3"]["rows"]})


@functools.lru_cache(maxsize=1)
def t3_columns() -> LabelSet:
    """Applicant columns of 表三 (and the unofficial 小计 some agencies add)."""
    return LabelSet(vocabulary()["t3"]["column_variants"])


@functools.lru_cache(maxsize=1)
def t3_subtotal_labels() -> frozenset[str]:
    """Labels of the group subtotal rows some agencies add to 表三 (normalised, matched whole)."""
    return frozenset(norm(label) for label in vocabulary()["t3"]["subtotal_rows"]["labels"])


def t3_sequence(template: str) -> list[str]:
    """Row codes of 表三 in printed order for a template ('2019': single （六）; '2021': three sub-rows)."""
    return [row["code"] for row in vocabulary()["t3"]["rows"] if row.get("template", "both") in ("both", template)]


def t3_row_label(code: str) -> str:
    for row in vocabulary()["t3"]["rows"]:
        if row["code"] == code:
            return row["labels"][0]
    return code


@functools.lru_cache(maxsize=1)
def sections() -> dict[str, list[str]]:
    return {code: [norm(t) for t in titles] for code, titles in vocabulary()["sections"].items()}


def section_heading(code: str) -> str:
    for row in section_catalogue():
        if row["code"] == code:
            return f"{row['number']}、{row['standard_heading']}"
    return code


@functools.lru_cache(maxsize=1)
def table_markers() -> dict[str, list[str]]:
    tables = vocabulary()["tables"]
    return {t: [norm(m) for m in tables[f"{t}_markers"]] for t in ("t2", "t3", "t4")}


@functools.lru_cache(maxsize=1)
def table_page_vocabulary() -> tuple[str, ...]:
    """Words whose presence on a PDF page means it may hold a statistics table (cheap pre-pass)."""
    words = {"信息内容", "本年处理决定数量", "结果维持", "尚未审结", "申请人情况", "予以公开", "结转下年度"}
    for markers in table_markers().values():
        words.update(markers)
    for row in vocabulary()["t3"]["rows"]:
        words.add(norm(row["labels"][-1]))
    return tuple(sorted(words))


@functools.lru_cache(maxsize=1)
def wording() -> dict:
    """data/wording.toml: rule titles, severity words, file statuses, kinds of unreadable file."""
    with resources.files("extractor.lexicon.data").joinpath("wording.toml").open("rb") as fh:
        return tomllib.load(fh)


def rule_title(rule_id: str) -> str:
    """The short Chinese title of a rule ('表四总计不符'); the id itself for a rule without one."""
    return wording()["rule_titles"].get(rule_id, rule_id)


def severity_label(severity: str) -> str:
    """错误 / 警告 / 提示."""
    return wording()["severity"].get(severity, severity)


def read_error_label(kind: str | None) -> str:
    """What a kind of unreadable file is called ('文件损坏或无法解析')."""
    return wording()["read_error_kinds"].get(kind or "corrupt", wording()["read_error_kinds"]["corrupt"])


def file_status_label(status: str) -> str:
    """已读取 / 未能读取 / 不是年度报告 / 未识别机构 / 副本."""
    return wording()["file_status"].get(status, status)


def rule_action(rule_id: str) -> str:
    """What a rectification notice asks the agency to do about a finding of this rule."""
    return wording()["rule_actions"].get(rule_id, wording()["letters"]["default_action"])


@functools.lru_cache(maxsize=1)
def _reasons() -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((re.compile(r["pattern"], re.IGNORECASE), r["words"]) for r in wording()["reasons"])


def reason_text(text: str | None) -> str:
    """'文件已损坏或无法解析（corrupt or unreadable PDF …）': a reason from the engine in Chinese first, its
    own words after; a reason already in Chinese is kept as it is."""
    if not text:
        return ""
    if regex.search(r"\p{Han}", text[:8]):
        return text
    for pattern, words in _reasons():
        if pattern.search(text):
            return f"{words}（{text}）"
    return text


def failure_text(reason: str, kind: str | None) -> str:
    """A failed file's reason for people: in Chinese first (the engine's words after), else the name
    of its kind ('文件损坏或无法解析（…）')."""
    text = reason_text(reason)
    if text != reason or not reason or regex.search(r"\p{Han}", reason[:8]):
        return text or read_error_label(kind)
    known = kind in wording()["read_error_kinds"]
    return f"{read_error_label(kind) if known else '读取失败'}（{reason}）"
