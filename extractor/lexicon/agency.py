"""Naming agencies: the key under which one agency's reports of different years and files meet.

Below both the checks (cross-report rules key reports by it) and the storage (which stores it), so
neither has to know the other.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping

from extractor.lexicon.labels import vocabulary

_GOVERNMENT = re.compile(r"^(?P<area>.+?(?:区|市|县|旗|州|盟))人民政府$")
_UNIT = re.compile(r"[^市区县旗州盟省]+(?:市|区|县|旗|州|盟)")


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


def area_of(name: str | None) -> str | None:
    """The area a people's government governs, as its innermost unit ('淮安市洪泽区人民政府' → '洪泽区':
    departments often print only the district); None for any other agency."""
    place = _government_area(name)
    return place[1] if place else None


def _government_area(name: str | None) -> tuple[str, str] | None:
    """(the enclosing units as a key would print them, the innermost unit): '淮安市洪泽区人民政府' →
    ('淮安市', '洪泽区'), '洪泽区人民政府' → ('', '洪泽区'). A zone governing as an area (labels.toml
    [agency_levels]: 实验区, 开发区 …) is one by its own name, with or without 管委会:
    '平潭综合实验区' → ('', '平潭综合实验区')."""
    text = unicodedata.normalize("NFKC", name or "").strip()
    m = _GOVERNMENT.match(text)
    if m:
        area = m.group("area")
    else:
        area = re.sub(r"(?:管理委员会|管委会)$", "", text)
        if not any(area.endswith(z) for z in _zones()):
            return None
    units = _UNIT.findall(area)
    inner = units[-1] if units else area
    outer = agency_key(area[: len(area) - len(inner)]) or ""
    if not m and inner in _zones() and not outer:
        return None  # a bare '高新区' could be any city's
    return outer, inner


@functools.lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    """Area-level endings of labels.toml [agency_levels] that name a zone (…区), not a government."""
    return tuple(e for e in vocabulary()["agency_levels"]["area"] if e.endswith("区"))


def _areas_in(key: str, areas: set[str] | frozenset[str], lengths: Iterable[int]) -> list[str]:
    """The areas named anywhere in an agency key (`lengths`: the areas' lengths), by looking up the
    key's substrings: a key is short, the set of areas in a national database is not."""
    found = {key[i : i + n] for n in lengths for i in range(len(key) - n + 1)}
    return sorted(found & areas)


def parent_keys(agencies: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """agency key → the key of the people's government it comes under, among these (key, printed
    name) pairs: the government of the innermost area its key names ('洪泽区教育局' → 淮安市洪泽区人民政府,
    '淮安市洪泽区人民政府' → 淮安市人民政府). What a key prints before the area must agree with what the
    government prints before it (清河市滨湖区… is not under 临溪市滨湖区人民政府; either may leave the
    city out, and the government agreeing on more of it wins). An area two governments share as far
    as the key tells ('鼓楼区教育局' with a 鼓楼区 in two cities) or a key naming no area gets no parent:
    no parent is better than a wrong one."""
    agencies = list(agencies)
    governments: dict[str, list[tuple[str, str]]] = defaultdict(list)  # inner area -> (key, enclosing units)
    own: dict[str, str] = {}
    for key, name in agencies:
        if (place := _government_area(name)) is not None:
            outer, inner = place
            governments[inner].append((key, outer))
            own[key] = inner
    areas = set(governments)
    lengths = sorted({len(a) for a in areas})
    out: dict[str, str] = {}
    for key, _name in agencies:
        named = [a for a in _areas_in(key, areas, lengths) if a != own.get(key)]
        for area in sorted(named, key=lambda a: (key.rfind(a) + len(a), len(a)), reverse=True):  # innermost first
            before = key[: key.rfind(area)]
            agreeing = {g: min(len(outer), len(before)) for g, outer in governments[area] if g != key and (outer.endswith(before) or before.endswith(outer))}
            if agreeing:  # the governments that agree on the most of the enclosing units
                best = [g for g, n in agreeing.items() if n == max(agreeing.values())]
                if len(best) == 1:
                    out[key] = best[0]
                break
    return out
