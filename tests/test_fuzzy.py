"""The rapidfuzz pre-screen in label and heading matching gives difflib's scores exactly."""

from __future__ import annotations

import random
from difflib import SequenceMatcher

from extractor.lexicon.labels import t3_rows
from extractor.lexicon.textnorm import ratio_at_least

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
