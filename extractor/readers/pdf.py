"""PDF with a text layer.

pdfplumber is thorough but slow, so a cheap pdfium pass reads every page's text first and only
the pages that hold statistics-table vocabulary go through pdfplumber's table finder. Per page, the
ruled tables become Grids and the text outside them becomes one Paragraph per line, all ordered by
their vertical position. 'Tables' that are really text frames (every row one cell) come out as
paragraphs. Page-number lines ('- 3 -', '第3页') are dropped.
"""

from __future__ import annotations

import re
import unicodedata

import regex

from extractor.document import BBox, Document, Grid, Paragraph, ReadError
from extractor.lexicon.labels import table_page_vocabulary
from extractor.lexicon.values import is_value_like
from extractor.readers.page_text import is_page_number, is_text_frame
from extractor.readers.pdfium_lock import PDFIUM_LOCK
from extractor.readers.pdfium_page import PageSource, PdfiumPage, has_objects, is_layer_scan

TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines", "snap_tolerance": 3, "join_tolerance": 3}
MIN_CHARS_PER_PAGE = 15
ALIGN_GAP = 8.0  # points between numbers of one column across lines
MAX_LINES_BETWEEN_ROWS = 8  # wrapped labels between two rows of numbers of one table


def _needs_tables(text: str) -> bool:
    flat = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return any(word in flat for word in table_page_vocabulary())


Boxes = dict[tuple[int, int], BBox]


def split_stacked_rows(rows: list[list[str | None]]) -> list[list[str | None]]:
    """Undo rows merged for want of horizontal rules (see `split_stacked`)."""
    return split_stacked(rows, {})[0]


def split_stacked(rows: list[list[str | None]], boxes: Boxes) -> tuple[list[list[str | None]], Boxes]:
    """Undo rows merged for want of horizontal rules: when every value cell of a row holds the same
    number (k ≥ 2) of stacked numbers, the row is k rows. Labels are split too when the label cells
    have exactly k lines; otherwise the label goes on a row of its own and the k rows stay unlabelled
    (the interpreter places unlabelled rows by the template's order, and only when they fit).
    `boxes` are the cells' page boxes by (row, col); a stacked cell's box is cut into k equal bands."""
    out: list[list[str | None]] = []
    out_boxes: Boxes = {}

    def emit(new_row: list[str | None], row_boxes: list[BBox | None]) -> None:
        for c, box in enumerate(row_boxes):
            if box is not None and new_row[c] is not None:
                out_boxes[(len(out), c)] = box
        out.append(new_row)

    for r, row in enumerate(rows):
        own = [boxes.get((r, c)) for c in range(len(row))]
        stacks = [(i, c.split("\n")) for i, c in enumerate(row) if c and is_value_like(c.split("\n")[0])]
        heights = {len(parts) for _, parts in stacks}
        if len(stacks) < 2 or len(heights) != 1 or (k := heights.pop()) < 2:
            emit(row, own)
            continue
        if not all(is_value_like(part) for _, parts in stacks for part in parts):
            emit(row, own)
            continue
        value_at = dict(stacks)
        labels = {i: (c or "").split("\n") for i, c in enumerate(row) if i not in value_at and c}
        split_labels = all(len(parts) == k for parts in labels.values())
        if labels and not split_labels:
            emit([c if i in labels else None for i, c in enumerate(row)], own)  # a label line, no values
        stacked = value_at.keys() | (labels.keys() if split_labels else set())
        for j in range(k):
            new: list[str | None] = []
            for i, cell in enumerate(row):
                if i in value_at:
                    new.append(value_at[i][j])
                elif i in labels:
                    new.append(labels[i][j] if split_labels else "")
                else:
                    new.append(cell)
            new_boxes = [_band(box, j, k) if i in stacked else None if i in labels else box for i, box in enumerate(own)]
            emit(new, new_boxes)
    return out, out_boxes


def _band(box: BBox | None, j: int, k: int) -> BBox | None:
    """The j-th of k equal horizontal bands of a box (line j of a cell holding k stacked lines)."""
    if box is None:
        return None
    x0, top, x1, bottom = box
    step = (bottom - top) / k
    return (x0, top + j * step, x1, top + (j + 1) * step)


def _table_boxes(table) -> Boxes:
    """Each slot's box from pdfplumber's table rows (a merged cell's box on its top-left slot)."""
    out: Boxes = {}
    for r, row in enumerate(table.rows):
        for c, box in enumerate(row.cells):
            if box is not None:
                out[(r, c)] = tuple(float(v) for v in box)  # type: ignore[assignment]
    return out


def _has_number_rows(text: str) -> bool:
    """A page that continues a table from the page before starts with rows of numbers and no labels."""
    return any(sum(1 for tok in line.split() if is_value_like(tok)) >= 3 for line in text.splitlines()[:15])


def _page_blocks(page, page_no: int, rules: list[dict] | None = None) -> list[tuple[float, object]]:
    """Blocks of one page with their top coordinate, for ordering. `rules`: ruling lines not drawn
    as vector paths (a scan's, found in its image), as rect objects added to the page's own."""
    settings = {**TABLE_SETTINGS, "explicit_vertical_lines": rules, "explicit_horizontal_lines": rules} if rules else TABLE_SETTINGS
    found = page.find_tables(settings)
    items: list[tuple[float, object]] = []
    bboxes = []
    for table in found:
        rows = table.extract()
        if not rows:
            continue
        bboxes.append(table.bbox)
        if is_text_frame(rows):
            for i, row in enumerate(rows):
                text = next((c for c in row if c), "")
                if text:
                    items.append((table.bbox[1] + i * 0.01, Paragraph(text=text.replace("\n", ""), page=page_no)))
            continue
        grid_rows, boxes = split_stacked([list(r) for r in rows], _table_boxes(table))
        items.append((table.bbox[1], Grid(rows=grid_rows, page=page_no, bbox=table.bbox, cell_boxes=boxes)))
    outside = page
    for bbox in bboxes:
        x0, top, x1, bottom = bbox
        bbox = (max(x0, 0), max(top, 0), min(x1, page.width), min(bottom, page.height))
        try:
            outside = outside.outside_bbox(bbox)
        except ValueError:
            continue
    lines = outside.extract_text_lines(layout=False, strip=True, return_chars=True)
    lines = [line for i, line in enumerate(lines) if line["text"].strip() and not is_page_number(line["text"].strip(), last=i == len(lines) - 1)]
    tokenised = [_tokens(line.get("chars") or []) for line in lines]
    aligned, rewritten, aligned_boxes = _aligned_rows(lines, tokenised)
    for i, line in enumerate(lines):
        bbox = (line["x0"], line["top"], line["x1"], line["bottom"])
        if i in aligned:
            boxes = {(0, c): box for c, box in aligned_boxes[i].items()}
            items.append((line["top"], Grid(rows=[aligned[i]], page=page_no, bbox=bbox, cell_boxes=boxes)))
        elif rewritten.get(i, line["text"]).strip():
            words = [] if i in rewritten else [(t[0], _word_box(t[1], t[2], line)) for t in tokenised[i]]
            items.append((line["top"], Paragraph(text=rewritten.get(i, line["text"]).strip(), page=page_no, bbox=bbox, words=words)))
    items.sort(key=lambda item: item[0])
    return items


COMMON_WORDS = ("信息", "公开", "政府", "工作", "申请", "情况", "的", "年")


def garbled(text: str) -> bool:
    """A text layer that does not decode to Chinese (fonts without a usable ToUnicode map give Latin
    junk, '(cid:123)' or the wrong characters): a full page without a single common word."""
    flat = re.sub(r"\s", "", text)
    if len(flat) < 80 or any(word in flat for word in COMMON_WORDS):
        return False
    return sum(ch.isdigit() for ch in flat) < len(flat) / 2  # a page of table numbers is not junk


def _scanned_pages(pdf, texts: list[str], ocr: str) -> list[int]:
    """Indexes of the pages to read by OCR: with `ocr='always'` every page, else the pages without a
    usable text layer that show something (an image, or text drawn as outlines); a page with nothing
    on it is just blank."""
    if ocr == "always":
        return list(range(len(texts)))
    candidates = [i for i, t in enumerate(texts) if len(re.sub(r"\s", "", t)) < MIN_CHARS_PER_PAGE or garbled(t)]
    if not candidates:
        return []
    return [i for i in candidates if _page_is(has_objects, pdf, i)]


def _page_is(test, pdf, index: int) -> bool:
    """`test` of page `index`, loaded for it alone and closed again."""
    page = pdf[index]
    try:
        return test(page)
    finally:
        page.close()


def read_pdf(path: str, data: bytes, ocr: str = "auto", progress=None, engine: str = "pdfium") -> Document:
    """`ocr`: auto | always | never (see `extractor.readers.read`); `progress(page, pages)` after each
    page read by OCR; `engine`: pdfium (pdfplumber for the pages it does not reproduce) or pdfplumber.
    One pdfium document serves the whole read, under the process-wide pdfium lock (pdfium is not
    thread-safe, not even across documents)."""
    with PDFIUM_LOCK:
        pages = PageSource(data, engine)  # raises ReadError for encrypted / corrupt files
        try:
            return _read(path, pages, ocr, progress)
        finally:
            pages.close()


def _read(path: str, pages: PageSource, ocr: str, progress) -> Document:
    texts = pages.texts()
    if not texts:
        raise ReadError("the PDF has no pages", "empty")
    all_scanned = sum(len(re.sub(r"\s", "", t)) for t in texts) < MIN_CHARS_PER_PAGE * len(texts)
    scanned: list[int] = []
    notes: list[str] = []
    if ocr == "never":
        if all_scanned:
            raise ReadError("no text layer (a scanned PDF): it needs OCR, which --ocr never turns off", "needs_ocr")
    else:
        scanned = _scanned_pages(pages.pdf, texts, ocr)
        if scanned:
            from extractor.readers.ocr import INSTALL_HINT, missing_ocr_error, ocr_available

            if not ocr_available():
                if all_scanned or ocr == "always":
                    raise missing_ocr_error("no text layer (a scanned PDF)")
                numbers = ", ".join(str(i + 1) for i in scanned)
                notes.append(f"第 {numbers} 页没有文字层（扫描页），未读取：需要 OCR（{INSTALL_HINT}）")
                scanned = []
    if all_scanned and not scanned:
        raise ReadError("no text layer and nothing drawn on the pages: nothing to read", "empty")
    ocr_blocks = _ocr_pages(path, pages.rendering(), scanned, progress) if scanned else {}
    fmt = "image-pdf" if len(scanned) * 2 >= len(texts) else "pdf"
    doc = Document(path=path, format=fmt, pages=len(texts), notes=notes)
    if scanned and fmt == "pdf":
        doc.notes.append(f"第 {', '.join(str(i + 1) for i in scanned)} 页为扫描页，已用 OCR 读取")
    if len(ocr_blocks) == len(texts):
        for index in range(len(texts)):
            doc.blocks.extend(ocr_blocks[index])
        if not doc.blocks:
            raise ReadError("no text layer (a scanned PDF), and OCR found no text on its pages", "empty")
        return doc
    previous_had_tables = False
    for index, text in enumerate(texts):
        page_no = index + 1
        own = _needs_tables(text)
        # the page after a table page may hold its last rows (even a row of empty cells)
        has_tables = own or previous_had_tables
        previous_had_tables = own or (previous_had_tables and _has_number_rows(text))
        if index in ocr_blocks:
            doc.blocks.extend(ocr_blocks[index])
            previous_had_tables = any(isinstance(b, Grid) for b in ocr_blocks[index])
            continue
        blocks = _table_page_blocks(pages, index, text, doc.notes) if has_tables else _plain_lines(text, page_no)
        doc.blocks.extend(blocks)
    return doc


def _table_page_blocks(pages: PageSource, index: int, text: str, notes: list[str]) -> list:
    """Blocks of a page that may hold tables: from pdfium's objects, else from pdfplumber's (a page
    the pdfium path fails on); a page neither can read keeps its plain text lines. A scan with an
    OCR text layer has its ruling lines in the image only: they are found there (`scan_rules`) and
    the layer's text is read into the cells they make."""
    page_no = index + 1
    rules: list[dict] | None = None
    try:
        page = pages.page(index)
        layer = page.layer_scan if isinstance(page, PdfiumPage) else _page_is(is_layer_scan, pages.pdf, index)
        rules = _layer_scan_rules(pages, index, notes) if layer else None
        return [b for _, b in _page_blocks(page, page_no, rules)]
    except ReadError:
        raise
    except Exception as first:  # noqa: BLE001 - pdfminer and pdfium raise a zoo of types for damaged pages
        if index not in pages.fallbacks:
            pages.fallbacks[index] = f"pdfium path failed ({first.__class__.__name__})"
            try:
                return [b for _, b in _page_blocks(pages.plumber_page(index), page_no, rules)]
            except Exception as exc:  # noqa: BLE001
                first = exc
        notes.append(f"第 {page_no} 页的表格未能读取（{first.__class__.__name__}）")
        return _plain_lines(text, page_no)


def _layer_scan_rules(pages: PageSource, index: int, notes: list[str]) -> list[dict] | None:
    """The ruling lines of a scanned page with a text layer, found in its image (None without the
    OCR extra, which finds them: the page is then read by its text positions, and says so)."""
    from extractor.readers.ocr import INSTALL_HINT, ocr_available, scan_rules

    if not ocr_available():
        notes.append(f"第 {index + 1} 页为带文字层的扫描页，其表格线只在图像中，需要 OCR 组件识别（{INSTALL_HINT}），已按文字位置读取")
        return None
    page = pages.rendering()[index]
    try:
        image, dpi = _scan_image(page)
        return scan_rules(image, dpi, page.get_height()) or None
    finally:
        page.close()


def _ocr_pages(path: str, pdf, indexes: list[int], progress) -> dict[int, list]:
    """Blocks of the given pages read by OCR, each page rendered at its scan's own resolution
    (`pdf`: pypdfium2's document, which renders)."""
    from extractor.readers import progress_reporter
    from extractor.readers.ocr import ocr_page

    report = progress_reporter(path, progress)
    out: dict[int, list] = {}
    for done, index in enumerate(indexes, start=1):
        page = pdf[index]
        image, dpi = _scan_image(page)
        out[index] = ocr_page(image, index + 1, dpi)
        page.close()
        if report:
            report(done, len(indexes))
    return out


def _scan_image(page) -> tuple[object, float]:
    """The page rendered in grey at its scan's own resolution, and that resolution."""
    dpi = _scan_dpi(page)
    return page.render(scale=dpi / 72, grayscale=True).to_pil(), dpi


def _scan_dpi(page) -> float:
    """The resolution of the largest image on a page (a scan's own), kept within 150-300 dpi; 200 when
    the page has no image."""
    import pypdfium2.raw as pdfium_c

    best = None
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        width_in = max(right - left, 1.0) / 72
        try:
            px_width = obj.get_px_size()[0]
        except Exception:  # noqa: BLE001 - a damaged image object: fall back to the default
            continue
        if best is None or width_in > best[0]:
            best = (width_in, px_width / width_in)
    if best is None:
        return 200.0
    return float(min(max(best[1], 150.0), 300.0))


def _tokens(chars: list[dict]) -> list[tuple[str, float, float]]:
    """Split a line's characters into tokens at spaces and at visible gaps: (text, x0, x1)."""
    tokens: list[list] = []
    for ch in chars:
        text = ch["text"]
        if not text.strip():
            tokens.append(None)  # type: ignore[arg-type]
            continue
        last = tokens[-1] if tokens else None
        gap = 0.25 * (ch["x1"] - ch["x0"])
        if last is not None and ch["x0"] - last[2] <= (gap if gap > 1.0 else 1.0):  # max() written out: once a char
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


def _aligned_rows(lines: list[dict], tokenised: list[list[tuple[str, float, float]]]) -> tuple[dict[int, list[str]], dict[int, str], dict[int, dict[int, BBox]]]:
    """Rows of a table printed without ruling lines: numbers aligned in columns over several lines
    (`tokenised`: each line's `_tokens`).

    Returns, for each such line, its cells (label + one slot per column, '' where the line has no
    number under a column), so that a blank cell keeps its place instead of shifting the numbers left;
    the new text of lines whose stray numbers were moved into a neighbouring row; and, per such line,
    the page box of each filled slot (the words' boxes).
    """
    rewritten: dict[int, str] = {}
    numeric = [i for i, toks in enumerate(tokenised) if _trailing_values(toks) >= 2]
    blocks: list[list[int]] = []
    for i in numeric:
        if blocks and i - blocks[-1][-1] <= MAX_LINES_BETWEEN_ROWS:
            blocks[-1].append(i)
        else:
            blocks.append([i])
    out: dict[int, list[str]] = {}
    boxes: dict[int, dict[int, BBox]] = {}
    for block in blocks:
        if len(block) < 2:
            continue
        widest = max(_trailing_values(tokenised[i]) for i in block)
        best = None
        for edge in (_centre, lambda t: t[2], lambda t: t[1]):
            positions = [edge(t) for i in block for t in tokenised[i][-_trailing_values(tokenised[i]) :]]
            centres = _clusters(positions)
            if best is None or len(centres) < len(best[1]):
                best = (edge, centres)
        assert best is not None
        edge, centres = best
        if edge is _centre:
            centres = sorted(centres + _header_only_columns(block, tokenised, centres))
        if len(centres) < widest or not _one_token_per_column(block, tokenised, centres, edge):
            continue  # the numbers do not line up in columns: leave the lines as text
        for i in block:
            toks = tokenised[i]
            n = _trailing_values(toks)
            label = " ".join(t[0] for t in toks[: len(toks) - n])
            slots = [""] * len(centres)
            boxes[i] = {}
            if n < len(toks):
                boxes[i][0] = _word_box(toks[0][1], toks[len(toks) - n - 1][2], lines[i])
            for tok in toks[len(toks) - n :]:
                k = min(range(len(centres)), key=lambda j: abs(centres[j] - edge(tok)))
                slots[k] = tok[0]
                boxes[i][1 + k] = _word_box(tok[1], tok[2], lines[i])
            out[i] = [label, *slots]
        _pull_stray_values(block, tokenised, lines, out, centres, edge, rewritten, boxes)
    return out, rewritten, boxes


def _word_box(x0: float, x1: float, line: dict) -> BBox:
    return (float(x0), float(line["top"]), float(x1), float(line["bottom"]))


def _centre(token: tuple[str, float, float]) -> float:
    return (token[1] + token[2]) / 2


HEADER_LOOKBACK = 8  # lines above a block of numbers where its column headers may be
_HEADER_WORD = regex.compile(r"^\p{Han}{1,6}$")


def _header_only_columns(block, tokenised, centres: list[float]) -> list[float]:
    """Columns no row puts a number in (a column left blank throughout, zeros printed blank), found
    from the header words above the block: a short word centred where no number column is."""
    if len(centres) < 2:
        return []
    spacing = min(b - a for a, b in zip(centres, centres[1:], strict=False))  # the column pitch (gaps skip blank columns)
    left = centres[0] - spacing
    found: list[float] = []
    for j in range(block[0] - 1, max(-1, block[0] - 1 - HEADER_LOOKBACK), -1):
        toks = tokenised[j]
        if _trailing_values(toks):
            break  # another row of numbers: the header is not above this point
        for tok in toks:
            x = _centre(tok)
            if _HEADER_WORD.match(tok[0]) and x >= left and min(abs(x - c) for c in centres + found) >= 0.6 * spacing:
                found.append(x)
    return found


def _one_token_per_column(block, tokenised, centres, edge) -> bool:
    """Every number sits under a column (within the gap) and no line puts two numbers under one."""
    for i in block:
        toks = tokenised[i]
        n = _trailing_values(toks)
        columns = []
        for tok in toks[len(toks) - n :]:
            k = min(range(len(centres)), key=lambda j: abs(centres[j] - edge(tok)))
            if abs(centres[k] - edge(tok)) > ALIGN_GAP:
                return False
            columns.append(k)
        if len(set(columns)) != len(columns):
            return False
    return True


def _pull_stray_values(block, tokenised, lines, out, centres, edge, rewritten, boxes) -> None:
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
                    moves.append((k, tok))
            if len(moves) != n:
                continue
            for k, tok in moves:
                out[i][1 + k] = tok[0]
                boxes[i][1 + k] = _word_box(tok[1], tok[2], lines[j])
            rewritten[j] = " ".join(t[0] for t in toks[: len(toks) - n])


def _plain_lines(text: str, page_no: int) -> list[Paragraph]:
    raw_lines = [r.strip() for r in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    raw_lines = [r for r in raw_lines if r]
    return [
        Paragraph(text=line, page=page_no)
        for i, line in enumerate(raw_lines)
        if not is_page_number(line, last=i == len(raw_lines) - 1)
    ]
