"""Copies of one report: the same agency-year received more than once (PDF and DOCX, or re-sent with
other bytes). All copies are kept; one per agency-year is marked canonical (`reports.canonical`), and
exports and comparisons use that one.

The choice follows a preference (plain data, stored in the database so every writer applies the same
one): a list of format kinds — pdf (a PDF with a text layer), docx, html, text, doc, rtf, scan (an
image or an image-only PDF read by OCR) — in which the word `complete` stands for "more cells read,
then more sections found". The default, `complete,pdf,docx,html,text,doc,rtf,scan`, takes the most
complete copy, and among equally complete ones a text PDF before a DOCX before a web page before a
scan. Remaining ties go to the copy with fewer error findings, then the path, then the sha256, so
the choice never depends on the order the files arrived in.

For other parts (the audit report lists a problem once, under the canonical copy, and names the others
as copies): `canonical_reports(db)`, `copies_of(db, report_id)` and `copy_groups(db)`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from extractor.store import schema as s

FORMAT_KINDS = {"pdf": "pdf", "docx": "docx", "html": "html", "text": "text", "doc": "doc", "rtf": "rtf",
                "image-pdf": "scan", "image": "scan"}  # fmt: skip
KINDS = ("pdf", "docx", "html", "text", "doc", "rtf", "scan")
DEFAULT_PREFERENCE: tuple[str, ...] = ("complete", *KINDS)
_META_KEY = "copy_preference"


class PreferenceError(ValueError):
    """A copy preference naming something that is not a format kind; one-line message."""


@dataclass(frozen=True)
class Copy:
    """One stored copy of an agency-year report, with what the choice of the canonical copy looks at."""

    id: int
    path: str
    sha256: str
    format: str
    agency: str | None
    agency_key: str | None
    year: int | None
    cells: int  # cells with a value
    sections: int  # sections found
    errors: int  # error findings
    canonical: bool | None  # None until marked (a report written since the last refresh)

    @property
    def kind(self) -> str:
        return FORMAT_KINDS.get(self.format, self.format or "unknown")

    @property
    def group(self) -> tuple[Any, ...]:
        """The agency-year this copy belongs to; a report without agency or year is its own group."""
        if self.agency_key and self.year is not None:
            return (self.agency_key, self.year)
        return ("report", self.id)


def parse_preference(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """'complete,pdf,docx' → ('complete', 'pdf', 'docx', …the kinds not named, in default order)."""
    if value is None or value == "":
        return DEFAULT_PREFERENCE
    items = [p.strip().lower() for p in (value.split(",") if isinstance(value, str) else value) if p.strip()]
    unknown = [p for p in items if p != "complete" and p not in KINDS]
    if unknown:
        raise PreferenceError(f"unknown copy preference {', '.join(unknown)}: use complete and {', '.join(KINDS)}")
    items = list(dict.fromkeys(items))
    if "complete" not in items:
        items.append("complete")
    return tuple(items + [k for k in KINDS if k not in items])


def choose(copies: Iterable[Copy], preference: Sequence[str] = DEFAULT_PREFERENCE) -> Copy:
    """The canonical copy among the copies of one agency-year."""
    return min(copies, key=lambda c: rank(c, preference))


def rank(copy: Copy, preference: Sequence[str] = DEFAULT_PREFERENCE) -> tuple[Any, ...]:
    """Sort key, the smallest is canonical: kinds named before `complete` win outright, then
    completeness, then the kinds' order, then fewer errors, path and sha256 (for a stable choice)."""
    kinds = [p for p in preference if p != "complete"]
    before = kinds[: preference.index("complete")]  # kinds preferred over completeness itself
    top = before.index(copy.kind) if copy.kind in before else len(before)
    kind_rank = kinds.index(copy.kind) if copy.kind in kinds else len(kinds)
    return (top, -copy.cells, -copy.sections, kind_rank, copy.errors, copy.path, copy.sha256)


# --------------------------------------------------------------------------------------------------
# reading copies


def _copies(conn: Connection, where: Any = None) -> list[Copy]:
    r, c, x, f = s.reports.c, s.cells.c, s.sections.c, s.findings.c
    n_cells = (
        sa.select(sa.func.count()).where(c.report_id == r.id, c.value.is_not(None)).scalar_subquery()
    )
    n_sections = sa.select(sa.func.count()).where(x.report_id == r.id, x.found != 0).scalar_subquery()
    n_errors = sa.select(sa.func.count()).where(f.report_id == r.id, f.severity == "error").scalar_subquery()
    query = sa.select(
        r.id, r.path, r.sha256, r.format, r.agency, r.agency_key, r.year, n_cells, n_sections, n_errors, r.canonical
    ).where(r.status == "ok")
    if where is not None:
        query = query.where(where)
    return [
        Copy(rid, path, sha, fmt or "", agency, key, year, int(nc), int(ns), int(ne), None if canon is None else bool(canon))
        for rid, path, sha, fmt, agency, key, year, nc, ns, ne, canon in conn.execute(query.order_by(r.id))
    ]


def preference(conn: Connection) -> tuple[str, ...]:
    stored = s.meta_value(conn, _META_KEY)
    try:
        return parse_preference(stored)
    except PreferenceError:
        return DEFAULT_PREFERENCE


def mark_canonical(conn: Connection, prefer: Sequence[str] | None = None) -> int:
    """Set `reports.canonical` for every report (inside the caller's write transaction); returns the
    number of agency-years that have more than one copy."""
    groups, chosen = _choice(conn, prefer)
    r = s.reports.c
    changes = [
        {"rid": copy.id, "flag": copy.id in chosen}
        for items in groups.values()
        for copy in items
        if copy.canonical is None or copy.canonical != (copy.id in chosen)
    ]
    if changes:
        conn.execute(s.reports.update().where(r.id == sa.bindparam("rid")).values(canonical=sa.bindparam("flag")), changes)
    conn.execute(s.reports.update().where(r.status != "ok", r.canonical.is_not(None)).values(canonical=None))
    return sum(1 for items in groups.values() if len(items) > 1)


def _choice(conn: Connection, prefer: Sequence[str] | None = None) -> tuple[dict[tuple[Any, ...], list[Copy]], set[int]]:
    """The copies by agency-year, and the id of the canonical copy of each (the stored preference)."""
    prefer = tuple(prefer) if prefer else preference(conn)
    groups: dict[tuple[Any, ...], list[Copy]] = defaultdict(list)
    for copy in _copies(conn):
        groups[copy.group].append(copy)
    return groups, {choose(items, prefer).id for items in groups.values()}


def chosen_ids(conn: Connection) -> set[int]:
    """The ids of the copies that are (or, once marked, will be) canonical — without writing: the
    cross-report checks use it so that a problem is found on one copy, not once per copy."""
    return _choice(conn)[1]


def set_preference(db: Any, value: str | Sequence[str]) -> tuple[str, ...]:
    """Store a copy preference in the database and re-mark the canonical copies with it."""
    prefer = parse_preference(value)
    with db.begin() as conn:
        s.upsert(conn, s.meta, {"key": _META_KEY, "value": ",".join(prefer)})
        mark_canonical(conn, prefer)
    return prefer


def canonical_reports(db: Any) -> list[Copy]:
    """The canonical copy of every agency-year (and every report without agency or year)."""
    with db.read() as conn:
        return [c for c in _copies(conn) if c.canonical]


def copy_groups(db: Any) -> dict[tuple[Any, ...], list[Copy]]:
    """Every agency-year with its copies, the canonical copy first."""
    with db.read() as conn:
        groups: dict[tuple[Any, ...], list[Copy]] = defaultdict(list)
        for copy in _copies(conn):
            groups[copy.group].append(copy)
    return {k: sorted(v, key=lambda c: (not c.canonical, c.id)) for k, v in groups.items()}


def copies_of(db: Any, report_id: int) -> list[Copy]:
    """All copies of the agency-year that `report_id` belongs to (itself included), the canonical first."""
    with db.read() as conn:
        r = s.reports.c
        row = conn.execute(sa.select(r.agency_key, r.year).where(r.id == report_id)).first()
        if row is None:
            return []
        key, year = row
        if key and year is not None:
            found = _copies(conn, sa.and_(r.agency_key == key, r.year == year))
        else:
            found = _copies(conn, r.id == report_id)
    return sorted(found, key=lambda c: (not c.canonical, c.id))
