"""Recognise many small crops in few model runs: crops side by side in one strip, read back apart.

Why: a recognition costs in proportion to the width the model sees, and the model wants at least 320 px
(48 px high): a table cell's number is 40-100 px wide, so alone it paid for 320 px of mostly padding,
and a page has 100-500 of them. Pasted side by side with white gaps into strips of up to
`STRIP_WIDTH` px, each costs its own width. The model's output is one column of character
probabilities per 8 px of input, so each crop's columns are taken back from the strip by position
(with half of each gap on either side) and decoded on their own: nothing of one crop leaks into the
reading of another. The crops also stand on white instead of the grey padding the model otherwise
gets, on which a lone '0' came out at 0.8 instead of 0.99.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

STRIP_WIDTH = 1600  # px at the model's 48 px height: a page's cells in a handful of runs
GAP = 32  # white px between crops: four output columns
MIN_WIDTH = 320  # the recogniser's own minimum width (rec_image_shape)


@dataclass
class Reading:
    """One crop's columns of character probabilities (steps × the recogniser's characters)."""

    probs: Any

    def text(self, characters: list[str]) -> tuple[str, float, list[float]]:
        """Greedy CTC decoding over every character: the text, the mean of the characters'
        probabilities (the recogniser's usual score) and each character's probability."""
        found, sure = _greedy(self.probs, peak=False)
        text = "".join(characters[k] for k in found)
        stripped = text.strip()
        if stripped != text:  # spaces read in the white around a crop are not part of it
            left = len(text) - len(text.lstrip())
            sure = sure[left : left + len(stripped)]
        return stripped, (sum(sure) / len(sure) if sure else 0.0), sure

    def classes(self, labels: list[str], indices: list[list[int]]) -> tuple[str, list[float]]:
        """Greedy CTC decoding over classes of characters (each class's probability the sum of its
        members'): the text of class labels and each label's probability, the highest over the run
        of columns it was read in (a glyph two columns wide is often split 0.6 / 1.0 with the blank)."""
        import numpy as np

        scores = np.concatenate([self.probs[:, :1], np.stack([self.probs[:, idx].sum(axis=1) for idx in indices], axis=1)], axis=1)
        found, sure = _greedy(scores, peak=True)
        return "".join(labels[k - 1] for k in found), sure


def _greedy(scores: Any, peak: bool) -> tuple[list[int], list[float]]:
    """Greedy CTC decoding of columns of scores (column 0 the blank): the classes read and each one's
    probability, from the column it starts in, or with `peak` the highest over the run of columns it
    was read in."""
    best = scores.argmax(axis=1)
    found: list[int] = []
    sure: list[float] = []
    previous = 0
    for step, k in enumerate(best):
        if k != 0 and k != previous:
            found.append(int(k))
            sure.append(float(scores[step, k]))
        elif k != 0 and peak:  # the same character over several columns: its surest column speaks for it
            sure[-1] = max(sure[-1], float(scores[step, k]))
        previous = k
    return found, sure


def read_strips(rec: Any, crops: list) -> list[Reading]:
    """The reading of each crop (BGR, one line of text each), in strips of up to STRIP_WIDTH px. A crop
    wider than that is read alone at its own width."""
    import numpy as np

    parts = [_normalised(rec, crop) for crop in crops]
    readings: list[Reading | None] = [None] * len(parts)
    start = 0
    while start < len(parts):
        end, width = start + 1, GAP + parts[start].shape[2] + GAP
        while end < len(parts) and width + parts[end].shape[2] + GAP <= STRIP_WIDTH:
            width += parts[end].shape[2] + GAP
            end += 1
        total = int(math.ceil(max(width, MIN_WIDTH) / 8) * 8)
        strip = np.zeros((1, 3, parts[start].shape[1], total), np.float32)  # grey beyond the crops, as the model pads
        strip[..., :width] = 1.0  # white
        spans, x = [], GAP
        for part in parts[start:end]:
            strip[0, :, :, x : x + part.shape[2]] = part
            spans.append((x, x + part.shape[2]))
            x += part.shape[2] + GAP
        probs = rec.session(strip)[0][0]
        step = total / probs.shape[0]
        for k, (left, right) in zip(range(start, end), spans, strict=True):
            first = max(0, int(round((left - GAP / 2) / step)))
            last = min(probs.shape[0], int(round((right + GAP / 2) / step)))
            readings[k] = Reading(probs[first:last])
        start = end
    return [r for r in readings if r is not None]


def _normalised(rec: Any, crop: Any):
    """A crop scaled to the model's height at its own aspect ratio, in the model's value range."""
    h, w = crop.shape[:2]
    return rec.resize_norm_img(crop, max(w / max(h, 1), 8 / rec.rec_image_shape[1]))
