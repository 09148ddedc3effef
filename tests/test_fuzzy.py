"""The shortcuts in text normalisation give the slow path's answers exactly: the rapidfuzz pre-screen
difflib's scores, the Traditional-to-Simplified shortcut opencc's conversion."""

from __future__ import annotations

import random
from difflib import SequenceMatcher
from pathlib import Path

from extractor.lexicon import textnorm
from extractor.lexicon.labels import t3_rows
from extractor.lexicon.textnorm import ratio_at_least

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

ALPHABET = "信息公开申请政府予以不部分行政复议诉讼其他法律规定结转本年处理"


def test_ratio_at_least_is_difflibs_ratio_wherever_it_can_reach_the_floor():
    rng = random.Random(7)
    checked = 0
    for _ in range(3000):
        a = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 14)))
        b = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 14)))
        exact = SequenceMatcher(None, a, b).ratio()
        for floor in (0.7, 0.8):
            got = ratio_at_least(a, b, floor)
            if exact >= floor:
                assert got == exact
                checked += 1
            else:
                assert got < floor
    assert checked > 20  # the random pairs did reach the floors


def test_a_typo_label_is_still_matched_fuzzily_with_its_difflib_score():
    match = t3_rows().match("（三）其他法律行政止公开")
    assert match is not None and match.key.endswith("law_prohibited") and match.variant == ""
    assert match.score == round(SequenceMatcher(None, "其他法律行政止公开", "其他法律行政法规禁止公开").ratio(), 3)


def test_text_without_a_changing_entry_skips_opencc_and_comes_out_as_opencc_gives_it():
    converter, starts = textnorm._t2s(), textnorm._changing_starts()
    assert starts  # the shortcut is on for the pinned opencc, else this test checks nothing
    entries = [key for group in converter._dict_chain_data for _, _, found in group for key in found]
    lines = (FIXTURES / "real" / "seed2020.txt").read_text(encoding="utf-8").splitlines()
    lines += (FIXTURES / "real" / "kewei2024.md").read_text(encoding="utf-8").splitlines()
    texts = [*lines, *entries, *(f"本年度{key}申请" for key in entries), "政府資訊公開申請", "乾淨", "（一）予以公開"]
    skipped = changed = 0
    for text in texts:
        expected = converter.convert(text)
        assert textnorm.to_simplified.__wrapped__(text) == expected, text
        skipped += starts.isdisjoint(text)
        changed += expected != text
    assert skipped > len(lines) // 2 and changed > len(entries) // 2  # both paths were taken
