"""The format-neutral document model every reader produces.

A `Document` is a list of blocks in reading order. A block is either a `Paragraph` (one line or
paragraph of running text) or a `Grid` (a table: rows x columns of slots). Readers resolve merged
cells: a merged cell's text sits in its top-left slot, the slots it covers hold `None`, and the span
is kept in `Grid.spans`. Nothing here knows about annual reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

BBox = tuple[float, float, float, float]


@dataclass
class Paragraph:
    text: str
    page: int | None = None
    bbox: BBox | None = None
    # the line's words with their boxes, where the reader knows them (PDF text lines): a table row
    # printed as running text ('结果维持 10 1 0 …') still boxes each value
    words: list[tuple[str, BBox]] = field(default_factory=list)


@dataclass
class Grid:
    """A table as read: `rows[r][c]` is the cell text, `None` where a merged cell covers the slot."""

    rows: list[list[str | None]]
    page: int | None = None
    bbox: BBox | None = None
    # (row, col) of a top-left slot -> (rowspan, colspan), only for merged cells
    spans: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    # page of each row when a grid runs over several pages (None: all on `page`)
    row_pages: list[int | None] | None = None
    # (row, col) of a slot read by OCR -> the recogniser's confidence in its text (0..1); slots not in
    # the map were not OCR'd (or are empty) and are as certain as the file itself
    confidence: dict[tuple[int, int], float] = field(default_factory=dict)
    # (row, col) of a top-left slot -> its box on the page (PDF points, top-left origin, on the page of
    # its row), where the reader knows it (PDF and scans); for highlighting a cell on the page image
    cell_boxes: dict[tuple[int, int], BBox] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def page_of_row(self, index: int) -> int | None:
        if self.row_pages and index < len(self.row_pages):
            return self.row_pages[index]
        return self.page


Block = Paragraph | Grid


@dataclass
class Document:
    path: str
    format: str  # pdf | docx | text | html | doc | rtf | image-pdf | image
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None
    sha256: str = ""
    notes: list[str] = field(default_factory=list)  # reader remarks worth a finding (e.g. OCR used)
    title: str = ""  # the file's own title (HTML <title>, PDF/DOCX metadata), a fallback for agency and year

    def paragraphs(self) -> Iterator[Paragraph]:
        return (b for b in self.blocks if isinstance(b, Paragraph))

    def grids(self) -> Iterator[Grid]:
        return (b for b in self.blocks if isinstance(b, Grid))

    @property
    def text(self) -> str:
        """All paragraph text, for callers that only want prose."""
        return "\n".join(p.text for p in self.paragraphs())


READ_ERROR_KINDS = (
    "empty",  # no bytes, or no text at all
    "encrypted",  # password-protected
    "corrupt",  # damaged or not what its bytes claim
    "too_large",  # over a size, page, member or pixel limit
    "timeout",  # over the time limit
    "not_a_report",  # readable, but not an annual report (e.g. a blank template)
    "unsupported",  # a format we do not read
    "needs_ocr",  # a scan, and OCR is not available or was refused
    "not_a_file",  # a folder, FIFO, device or missing path
)


class ReadError(Exception):
    """A file that cannot be read; the message is one line naming the reason, `kind` one of
    READ_ERROR_KINDS, for the CLI, the database and the web to show and count."""

    def __init__(self, message: str, kind: str = "corrupt") -> None:
        super().__init__(message)
        self.kind = kind if kind in READ_ERROR_KINDS else "corrupt"
