"""Review findings for values read by OCR.

Why: an OCR misreading must never pass silently as a number (or as a blank read as 0). Every value cell
on an OCR'd page whose confidence is below the review threshold, or whose text is not a number, gets a
finding that names the page and the cell; and an arithmetic finding whose only doubtful cell is such a
cell says so, because the likelier explanation is a misreading, not a wrong report.
"""

from __future__ import annotations

from extractor.checks.base import current_tolerance
from extractor.checks.tables import identities
from extractor.document import Document, Grid
from extractor.lexicon.labels import cell_catalogue
from extractor.readers.ocr_calibration import REVIEW_THRESHOLD
from extractor.report import Cell, Finding, Report

_TABLES = {"t2": "表二", "t3": "表三", "t4": "表四"}
_SECTIONS = {"t2": "active", "t3": "requests", "t4": "review"}
_IDENTITY_PREFIXES = ("t3.", "t4.", "t2.")


def ocr_pages(doc: Document) -> set[int]:
    """Pages with a table read by OCR."""
    pages: set[int] = set()
    for block in doc.blocks:
        if isinstance(block, Grid) and block.confidence:
            if block.row_pages:
                pages.update(p for p in block.row_pages if p is not None)
            if block.page is not None:
                pages.add(block.page)
    return pages


def describe(cell: Cell) -> str:
    """表三「（七）总计」自然人 — the cell's position in words (table, printed row, column)."""
    row = cell_catalogue().get(cell.code)
    if row is None:
        return cell.code
    table = _TABLES.get(row["table"], row["table"])
    label = row.get("row") or row.get("group") or cell.label
    if row["table"] == "t4":
        label = row.get("group") or label
    return f"{table}「{label}」{row.get('column', '')}"


def review_findings(doc: Document, report: Report, threshold: float = REVIEW_THRESHOLD) -> list[Finding]:
    """One warning per OCR'd value cell that is not a number or was read with low confidence."""
    pages = ocr_pages(doc)
    if not pages:
        return []
    out = []
    for cell in report.cells:
        if cell.derived or cell.page not in pages:
            continue
        table = cell.code.split(".", 1)[0]
        if cell.value is None and cell.raw.strip():
            message = f"第 {cell.page} 页{describe(cell)}：OCR 读到「{cell.raw.strip()}」，不是数值，请对照原件核对"
            rule = "ocr.unreadable"
        elif cell.confidence < threshold:
            shown = cell.raw.strip() or "空白"
            message = f"第 {cell.page} 页{describe(cell)}：OCR 读作「{shown}」，置信度 {cell.confidence:.2f}，请对照原件核对"
            rule = "ocr.low_confidence"
        else:
            continue
        out.append(Finding(rule=rule, severity="warning", message=message, codes=[cell.code], section=_SECTIONS.get(table), page=cell.page))
    return out


def annotate_identity_findings(doc: Document, report: Report, findings: list[Finding], threshold: float = REVIEW_THRESHOLD) -> None:
    """When exactly one cell of a broken identity was read by OCR with doubt, say so in the finding."""
    pages = ocr_pages(doc)
    if not pages:
        return
    cells = report.cell_map()
    for finding in findings:
        if finding.severity not in ("error", "warning") or not finding.rule.startswith(_IDENTITY_PREFIXES) or not finding.codes:
            continue
        unsure = [cells[c] for c in finding.codes if c in cells and cells[c].page in pages and not cells[c].derived and (cells[c].value is None or cells[c].confidence < threshold)]
        if len(unsure) == 1:
            cell = unsure[0]
            shown = cell.raw.strip() or "空白"
            finding.message += f"；其中{describe(cell)} OCR 读作「{shown}」（置信度 {cell.confidence:.2f}），很可能是识别错误，请先核对该单元格"


def confirm_by_identities(doc: Document, report: Report, threshold: float = REVIEW_THRESHOLD) -> None:
    """Raise the confidence of a doubtful OCR reading that the table's arithmetic pins down.

    Why: the recogniser's score says how clean a glyph looked, not whether the number is right; on a
    clean scan most doubtful readings are right. A cell of an identity that holds, whose other cells
    were all read with confidence, has exactly the value the others imply: a misreading of it would
    break the identity. So its confidence becomes the least of theirs. Not confirmed: a cell in any
    broken identity (it may be the misread one) or in one that cannot be checked (a cell of it was not
    read: a value shifted into the wrong column can balance the row it stayed in), ink nothing could
    read (confidence 0), and a cell whose identities hold only together with other doubtful cells
    (two misreadings of one glyph can agree). Confirmed cells can confirm others (the row fixes one cell, then the column the next).
    """
    pages = ocr_pages(doc)
    if not pages:
        return
    cells = report.cell_map()
    tolerance = max(current_tolerance(), 1e-9)
    checked: list[tuple[list[str], bool | None]] = []  # None: a cell of it was not read, it cannot be checked
    for _, left, right in identities(cells):
        if all(c in cells and cells[c].value is not None for c in left + right):
            holds = abs(sum(cells[c].value for c in left) - sum(cells[c].value for c in right)) <= tolerance  # type: ignore[misc]
            checked.append((left + right, holds))
        else:
            checked.append((left + right, None))
    changed = True
    while changed:
        changed = False
        for cell in report.cells:
            if cell.page not in pages or cell.derived or cell.value is None or not 0.0 < cell.confidence < threshold:
                continue
            mine = [(codes, holds) for codes, holds in checked if cell.code in codes]
            if not mine or not all(holds for _, holds in mine):
                continue  # in a broken identity, or one that cannot be checked: no evidence either way
            for codes, _ in mine:
                others = [cells[c] for c in codes if c != cell.code]
                if all(o.confidence >= threshold for o in others):
                    cell.confidence = round(min(o.confidence for o in others), 3)
                    changed = True
                    break
