"""Naming agencies: the key under which one agency's reports of different years and files meet.

Below both the checks (cross-report rules key reports by it) and the storage (which stores it), so
neither has to know the other.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from extractor.lexicon.labels import vocabulary


def agency_key(name: str | None, aliases: Mapping[str, str] | None = None) -> str | None:
    """Normalised agency key: NFKC, spaces and punctuation removed, then mapped through the aliases.

    Pure, so cross-report checks can key reports the same way without a database. `aliases` maps a
    normalised name (see `load_aliases`) to a user-chosen key.
    """
    if not name:
        return None
    text = unicodedata.normalize("NFKC", name)
    key = "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch)[0] in "PSZC"))
    if not key:
        return None
    if aliases:
        return aliases.get(key, key)
    return key


def agency_level(name: str | None) -> str | None:
    """'area' for a government of an area (人民政府, 管委会, 实验区 …), 'department' for the rest, None
    when the name is unknown. By the longest ending of the printed name listed in labels.toml
    [agency_levels]: a fee of millions or a count for 全区 is plausible for the first, not the second."""
    if not name:
        return None
    text = unicodedata.normalize("NFKC", name).strip()
    best: tuple[int, str] | None = None
    for level, endings in vocabulary()["agency_levels"].items():
        for ending in endings:
            if text.endswith(ending) and (best is None or len(ending) > best[0]):
                best = (len(ending), level)
    return best[1] if best else "department"
