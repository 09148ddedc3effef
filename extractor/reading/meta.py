"""Agency and report year, from the title (which may be broken over lines), else the file name."""

from __future__ import annotations

import os
import re
import unicodedata

import regex

from extractor.reading.locate import Row

TITLE_ROWS = 12
_REPORT = r"(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度)?(?:报告|年报)"
_AGENCY_FIRST = regex.compile(rf"^(?P<agency>\p{{Han}}[\p{{Han}}()（）A-Za-z0-9·]*?)\s*(?P<year>(?:19|20)\d{{2}})\s*年度?\s*(?:度)?(?:的)?{_REPORT}")
_YEAR_FIRST = regex.compile(rf"^(?P<year>(?:19|20)\d{{2}})\s*年度?\s*(?P<agency>\p{{Han}}[\p{{Han}}()（）·]*?)\s*{_REPORT}")
_YEAR_AFTER = regex.compile(rf"^(?P<agency>\p{{Han}}[\p{{Han}}()（）·]*?)\s*{_REPORT}\s*[(（]\s*(?P<year>(?:19|20)\d{{2}})\s*年?度?\s*[)）]")
_PERIOD = re.compile(r"(?P<year>(?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
_WORKING_YEAR = re.compile(r"(?P<year>(?:19|20)\d{2})\s*年(?:度)?")
_PLACE_SUFFIX = re.compile(r"(?:省|市|自治区|自治州|州|盟|地区)$")
_FUNCTION_CHARS = set("由据经向对在为是和与及的本该系按")
_MARKUP = re.compile(r"[#*|`>]+")
_SPACES = re.compile(r"\s+")


def _clean_line(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", _MARKUP.sub("", text)).strip()


def find_agency_year(rows: list[Row], path: str, title: str = "") -> tuple[str | None, int | None]:
    """`title`: the file's own title (HTML <title>, document metadata), tried after the first lines."""
    lines = [_clean_line(r.text) for r in rows[:TITLE_ROWS] if r.is_line and r.text.strip()]
    agency, year = None, None
    candidates = []
    for i, line in enumerate(lines):
        candidates.append(line)
        if i + 1 < len(lines):
            candidates.append(line + lines[i + 1])
    if title:
        candidates.append(_clean_line(title))
    for text in candidates:
        compact = text.replace(" ", "")
        m = _AGENCY_FIRST.match(compact) or _YEAR_FIRST.match(compact) or _YEAR_AFTER.match(compact)
        if m:
            agency, year = m.group("agency") or None, int(m.group("year"))
            break
    if year is None:
        preamble = " ".join(_clean_line(r.text) for r in rows[:40])
        m = _PERIOD.search(preamble.replace(" ", ""))
        if m:
            year = int(m.group("year"))
    stem = os.path.splitext(os.path.basename(path))[0]
    if year is None:
        m = re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", stem)
        year = int(m.group(1)) if m else None
    if agency is None:
        name = re.sub(r"[_\-\s]*(?:19|20)\d{2}\s*年?度?", "", stem)
        name = re.sub(rf"{_REPORT}|年度报告|_|-", "", name)
        agency = name if regex.fullmatch(r"\p{Han}{2,}", name or "") else None
    if agency:
        agency = _expand_agency(agency, rows)
    return agency, year


def _expand_agency(agency: str, rows: list[Row]) -> str:
    """'洪泽区人民政府' → '淮安市洪泽区人民政府' when the preamble prints the fuller name."""
    if re.search(r"(?:省|市|自治区|州|盟)", agency) or not regex.match(r"\p{Han}+?(?:区|县|旗|市)", agency):
        return agency
    preamble = "".join(_clean_line(r.text).replace(" ", "") for r in rows[:40])
    best = agency
    for m in re.finditer(re.escape(agency), preamble):
        before = preamble[max(0, m.start() - 6) : m.start()]
        for length in range(min(len(before), 6), 1, -1):
            prefix = before[-length:]
            if not regex.fullmatch(r"\p{Han}+", prefix) or not _PLACE_SUFFIX.search(prefix):
                continue
            if any(ch in _FUNCTION_CHARS for ch in prefix):
                continue
            if len(prefix) + len(agency) > len(best):
                best = prefix + agency
            break
    return best
