"""PDF with a text layer.

pdfplumber is thorough but slow, so a cheap pypdfium2 pass reads every page's text first and only
the pages that hold statistics-table vocabulary go through pdfplumber's table finder. Per page, the
ruled tables become Grids and the text outside them becomes one Paragraph per line, all ordered by
their vertical position. 'Tables' that are really text frames (every row one cell) come out as
paragraphs. Page-number lines ('- 3 -', '第3页') are dropped.
"""

from __future__ import annotations

import io
import unicodedata

import regex

from extractor.document import Document, Grid, Paragraph, ReadError
from extractor.labels import table_page_vocabulary
from extractor.values import is_value_like

_PAGE_NUMBER = regex.compile(r"^\s*(?:[-—–]\s*\d+\s*[-—–]|第\s*\d+\s*页(?:\s*[,，/共]\s*\d+\s*页)?|\d+\s*/\s*\d+)\s*$")
_BARE_NUMBER = regex.compile(r"^\s*\d{1,3}\s*$")  # a page number only when it is a page's last line
TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines", "snap_tolerance": 3, "join_tolerance": 3}
MIN_CHARS_PER_PAGE = 15
ALIGN_GAP = 8.0  # points between numbers of one column across lines


def _cheap_page_texts(data: bytes) -> list[str]:
    """Text of every page via pdfium (≈ 5 ms a page); raises ReadError for encrypted/corrupt files."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message or "security" in message:
            raise ReadError("encrypted PDF (password protected): cannot read it") from None
        raise ReadError(f"corrupt or unreadable PDF ({exc})") from None
    texts = []
    try:
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return texts


def _needs_tables(text: str) -> bool:
    flat = regex.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return any(word in flat for word in table_page_vocabulary())


def _has_number_rows(text: str) -> bool:
    """A page that continues a table from the page before starts with rows of numbers and no labels."""
    return any(sum(1 for tok in line.split() if is_value_like(tok)) >= 3 for line in text.splitlines()[:15])


def _is_text_frame(rows: list[list[str | None]]) -> bool:
    """A box drawn around running text: some text, never more than one filled cell in a row.
    (A grid of empty cells is a real table left blank.)"""
    return any(c for row in rows for c in row) and all(sum(1 for c in row if c not in (None, "")) <= 1 for row in rows)


def _page_blocks(page, page_no: int) -> list[tuple[float, object]]:
    """Blocks of one page with their top coordinate, for ordering."""
    found = page.find_tables(TABLE_SETTINGS)
    items: list[tuple[float, object]] = []
    bboxes = []
    for table in found:
        rows = table.extract()
        if not rows:
            continue
        bboxes.append(table.bbox)
        if _is_text_frame(rows):
            for i, row in enumerate(rows):
                text = next((c for c in row if c), "")
                if text:
                    items.append((table.bbox[1] + i * 0.01, Paragraph(text=text.replace("\n", ""), page=page_no)))
            continue
        items.append((table.bbox[1], Grid(rows=[list(r) for r in rows], page=page_no, bbox=table.bbox)))
    outside = page
    for bbox in bboxes:
        x0, top, x1, bottom = bbox
        bbox = (max(x0, 0), max(top, 0), min(x1, page.width), min(bottom, page.height))
        try:
            outside = outside.outside_bbox(bbox)
        except ValueError:
            continue
    lines = outside.extract_text_lines(layout=False, strip=True, return_chars=True)
    lines = [line for i, line in enumerate(lines) if line["text"].strip() and not _is_page_number(line["text"].strip(), last=i == len(lines) - 1)]
    aligned, rewritten = _aligned_rows(lines)
    for i, line in enumerate(lines):
        bbox = (line["x0"], line["top"], line["x1"], line["bottom"])
        if i in aligned:
            items.append((line["top"], Grid(rows=[aligned[i]], page=page_no, bbox=bbox)))
        elif rewritten.get(i, line["text"]).strip():
            items.append((line["top"], Paragraph(text=rewritten.get(i, line["text"]).strip(), page=page_no, bbox=bbox)))
    items.sort(key=lambda item: item[0])
    return items


def read_pdf(path: str, data: bytes) -> Document:
    import pdfplumber

    texts = _cheap_page_texts(data)
    if not texts:
        raise ReadError("the PDF has no pages")
    if sum(len(regex.sub(r"\s", "", t)) for t in texts) < MIN_CHARS_PER_PAGE * len(texts):
        raise ReadError("no text layer (a scanned PDF): it needs OCR, which this version does not do yet")
    doc = Document(path=path, format="pdf", pages=len(texts))
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises a zoo of exception types for damaged files
        name = exc.__class__.__name__
        if "Password" in name or "Encrypt" in name:
            raise ReadError("encrypted PDF (password protected): cannot read it") from None
        raise ReadError(f"corrupt or unreadable PDF ({name})") from None
    with pdf:
        previous_had_tables = False
        for index, text in enumerate(texts):
            page_no = index + 1
            own = _needs_tables(text)
            # the page after a table page may hold its last rows (even a row of empty cells)
            has_tables = own or previous_had_tables
            previous_had_tables = own or (previous_had_tables and _has_number_rows(text))
            if has_tables:
                try:
                    blocks = [b for _, b in _page_blocks(pdf.pages[index], page_no)]
                except Exception as exc:  # a damaged page must not lose the rest of the report
                    doc.notes.append(f"page {page_no}: tables not read ({exc.__class__.__name__})")
                    blocks = _plain_lines(text, page_no)
            else:
                blocks = _plain_lines(text, page_no)
            doc.blocks.extend(blocks)
    return doc


def _tokens(chars: list[dict]) -> list[tuple[str, float, float]]:
    """Split a line's characters into tokens at spaces and at visible gaps: (text, x0, x1)."""
    tokens: list[list] = []
    for ch in chars:
        text = ch["text"]
        if not text.strip():
            tokens.append(None)  # type: ignore[arg-type]
            continue
        last = tokens[-1] if tokens else None
        if last is not None and ch["x0"] - last[2] <= max(1.0, 0.25 * (ch["x1"] - ch["x0"])):
            last[0] += text
            last[2] = ch["x1"]
        else:
            tokens.append([text, ch["x0"], ch["x1"]])
    return [(t[0], t[1], t[2]) for t in tokens if t is not None]


def _trailing_values(tokens: list[tuple[str, float, float]]) -> int:
    count = 0
    for text, _, _ in reversed(tokens):
        if not is_value_like(text):
            break
        count += 1
    return count


def _clusters(positions: list[float], gap: float = ALIGN_GAP) -> list[float]:
    """Centres of 1-D clusters of positions (a new cluster starts after a gap wider than `gap`)."""
    groups: list[list[float]] = []
    for x in sorted(positions):
        if groups and x - groups[-1][-1] <= gap:
            groups[-1].append(x)
        else:
            groups.append([x])
    return [sum(g) / len(g) for g in groups]


def _aligned_rows(lines: list[dict]) -> tuple[dict[int, list[str]], dict[int, str]]:
    """Rows of a table printed without ruling lines: numbers aligned in columns over several lines.

    Returns, for each such line, its cells (label + one slot per column, '' where the line has no
    number under a column), so that a blank cell keeps its place instead of shifting the numbers left;
    and the new text of lines whose stray numbers were moved into a neighbouring row.
    """
    tokenised = [_tokens(line.get("chars") or []) for line in lines]
    rewritten: dict[int, str] = {}
    numeric = [i for i, toks in enumerate(tokenised) if _trailing_values(toks) >= 2]
    blocks: list[list[int]] = []
    for i in numeric:
        if blocks and i - blocks[-1][-1] <= 4:
            blocks[-1].append(i)
        else:
            blocks.append([i])
    out: dict[int, list[str]] = {}
    for block in blocks:
        if len(block) < 2:
            continue
        widest = max(_trailing_values(tokenised[i]) for i in block)
        best = None
        for edge in (lambda t: (t[1] + t[2]) / 2, lambda t: t[2], lambda t: t[1]):
            positions = [edge(t) for i in block for t in tokenised[i][-_trailing_values(tokenised[i]) :]]
            centres = _clusters(positions)
            if best is None or len(centres) < len(best[1]):
                best = (edge, centres)
        assert best is not None
        edge, centres = best
        if len(centres) != widest:
            continue
        for i in block:
            toks = tokenised[i]
            n = _trailing_values(toks)
            label = " ".join(t[0] for t in toks[: len(toks) - n])
            slots = [""] * len(centres)
            for tok in toks[len(toks) - n :]:
                k = min(range(len(centres)), key=lambda j: abs(centres[j] - edge(tok)))
                slots[k] = tok[0]
            out[i] = [label, *slots]
        _pull_stray_values(block, tokenised, lines, out, centres, edge, rewritten)
    return out, rewritten


def _pull_stray_values(block, tokenised, lines, out, centres, edge, rewritten) -> None:
    """Move numbers that pdfplumber put on the neighbouring line (a cell aligned a little higher or
    lower than the rest of its row) into the row's empty slot under the same column."""
    for i in block:
        for j in (i - 1, i + 1):
            if j < 0 or j >= len(lines) or j in out or j in rewritten:
                continue
            if abs(lines[j]["top"] - lines[i]["top"]) > 1.5 * max(lines[i]["bottom"] - lines[i]["top"], 1.0):
                continue
            toks = tokenised[j]
            n = _trailing_values(toks)
            if n == 0 or n > 2 or n == len(toks) and n > 1:
                continue
            moves = []
            for tok in toks[len(toks) - n :]:
                k = min(range(len(centres)), key=lambda c: abs(centres[c] - edge(tok)))
                if abs(centres[k] - edge(tok)) <= ALIGN_GAP and out[i][1 + k] == "":
                    moves.append((k, tok[0]))
            if len(moves) != n:
                continue
            for k, text in moves:
                out[i][1 + k] = text
            rewritten[j] = " ".join(t[0] for t in toks[: len(toks) - n])


def _is_page_number(line: str, last: bool) -> bool:
    return bool(_PAGE_NUMBER.match(line) or (last and _BARE_NUMBER.match(line)))


def _plain_lines(text: str, page_no: int) -> list[Paragraph]:
    raw_lines = [r.strip() for r in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    raw_lines = [r for r in raw_lines if r]
    return [
        Paragraph(text=line, page=page_no)
        for i, line in enumerate(raw_lines)
        if not _is_page_number(line, last=i == len(raw_lines) - 1)
    ]
