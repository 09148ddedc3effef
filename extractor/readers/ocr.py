"""OCR for scanned pages (image-only PDF pages, PNG/JPG/TIFF): rebuild tables from ruling lines.

Why this shape: the interpreter only understands Grids and Paragraphs, so a scan must come out exactly as a
text PDF would. The table structure is taken from the ruling lines in the image (found with OpenCV after
deskewing), not from the OCR boxes, because a merged cell or an empty cell is visible only in the lines.
The OCR text boxes (rapidocr-onnxruntime, models inside the wheel, nothing downloaded) are then dropped
into those cells; text outside the tables becomes Paragraphs, one per line, in reading order.

Every OCR'd cell carries the recogniser's confidence in `Grid.confidence`; a cell with ink but no text
read gets confidence 0, so it can never pass as a silent blank/0.

Needs the optional extra: pip install 'zfxxgk-extractor[ocr]' (from a checkout: pip install -e '.[ocr]').
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import regex

from extractor.document import BBox, Block, Document, Grid, Paragraph, ReadError
from extractor.lexicon.values import is_value_like
from extractor.readers import Progress, progress_reporter
from extractor.readers.ocr_calibration import DISAGREEMENT, RAW_REVIEW, REVIEW_THRESHOLD, SURE
from extractor.readers.ocr_strips import Reading, read_strips
from extractor.readers.page_text import is_page_number, is_text_frame

INSTALL_HINT = "pip install 'zfxxgk-extractor[ocr]'"
DEFAULT_DPI = 200
DETECT_DPI = 100  # the text detector sees the page at this resolution: a 10.5 pt line is still 15 px high
MAX_SKEW_DEGREES = 3.0

_engine: Any = None


def ocr_available() -> bool:
    """True when the OCR extra (rapidocr-onnxruntime, OpenCV, numpy) can be imported."""
    try:
        import cv2  # noqa: F401
        import numpy  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken native install is as good as none
        if out_of_memory(exc):  # onnxruntime's import ran out of memory (a memory limit): not a missing extra
            raise MemoryError(str(exc)) from None
        return False
    return True


_OUT_OF_MEMORY = ("bad_alloc", "Failed to allocate", "Insufficient memory")


def out_of_memory(exc: BaseException) -> bool:
    """True when a native library (onnxruntime, OpenCV) failed for want of memory: under a memory
    limit this is a MemoryError, which the guard reports as such, not a parse error."""
    return isinstance(exc, MemoryError) or any(marker in str(exc) for marker in _OUT_OF_MEMORY)


def missing_ocr_error(what: str) -> ReadError:
    return ReadError(f"{what}: it needs OCR, which is not installed ({INSTALL_HINT})", "needs_ocr")


def _get_engine() -> Any:
    """One RapidOCR instance per process (loading the three ONNX models takes about a second), its
    models run with their scalar affines folded into the convolutions (`readers.onnx_fold`: the same
    arithmetic, ≈ 1.8× cheaper a recognition)."""
    global _engine
    if _engine is None:
        import logging

        from rapidocr_onnxruntime import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        threads = ocr_threads()
        _engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
        options = _session_options(threads)
        for part in (_engine.text_det.infer, _engine.text_cls.infer, _engine.text_rec.session):
            part.session = _folded_session(part.session, options)
        _engine.text_score = 0.0  # keep unsure boxes: they must be flagged, not dropped
        # the detector's input is sized by `read_text` (to DETECT_DPI): no resizing of its own
        _engine.text_det.limit_type = "max"
        _engine.text_det.limit_side_len = 1 << 20
    return _engine


def ocr_threads() -> int:
    """onnxruntime threads per model run: EXTRACTOR_OCR_THREADS, else 1. On a 2-core machine shared
    with other work a second thread made a page slower (each run waits for the thread that lost its
    core) and cost more CPU; the runs are small (a crop, a page at DETECT_DPI)."""
    threads = os.environ.get("EXTRACTOR_OCR_THREADS", "")
    return int(threads) if threads.isdigit() and int(threads) > 0 else 1


def _session_options(threads: int) -> Any:
    """Session options: `threads` intra-op threads, which sleep between runs instead of spinning
    (spinning burns a core another process needs, for many small runs)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.enable_cpu_mem_arena = False
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if threads > 1:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _folded_session(session: Any, options: Any) -> Any:
    """The same model, its affines folded (`readers.onnx_fold`), in a new session with these options.
    The model file is found through onnxruntime's private `_model_path`: should a release of
    rapidocr or onnxruntime change that, or the fold fail on another model, the stock session is
    kept — the same readings (the fold only changes float rounding), only slower."""
    from pathlib import Path

    import onnxruntime as ort

    try:
        from extractor.readers.onnx_fold import fold_model

        data = fold_model(Path(session._model_path).read_bytes())
        return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception:  # noqa: BLE001 - any failure here costs speed, never a reading
        return session


# ---------------------------------------------------------------------------------------------- progress


# ---------------------------------------------------------------------------------------------- entry points


def read_image(path: str, data: bytes, progress: Progress | None = None) -> Document:
    """A PNG/JPG/TIFF/BMP/WebP file (a multi-page TIFF gives one page per frame)."""
    if not ocr_available():
        raise missing_ocr_error("an image (a scanned page)")
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, ValueError, TypeError, SyntaxError, EOFError, IndexError, KeyError) as exc:
        raise ReadError(f"corrupt or unreadable image ({exc.__class__.__name__})", "corrupt") from None
    doc = Document(path=path, format="image", pages=len(frames))
    report = progress_reporter(path, progress)
    for index, frame in enumerate(frames):
        dpi = image_dpi(frame)
        doc.blocks.extend(ocr_page(frame, index + 1, dpi))
        if report:
            report(index + 1, len(frames))
    if not doc.blocks:
        raise ReadError("an image in which OCR found no text", "empty")
    return doc


def image_dpi(image: Any) -> float:
    """The resolution a scan was made at: from its metadata, else guessed from an A4 page's width."""
    info = image.info.get("dpi")
    if info and isinstance(info, tuple) and info[0] and 70 <= float(info[0]) <= 1200:
        return float(info[0])
    short = min(image.size)
    return max(72.0, short / 8.27)


def to_gray(image: Any):
    """A PIL image as an 8-bit grayscale numpy array (transparency flattened onto white)."""
    import numpy as np
    from PIL import Image

    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return np.asarray(image.convert("L"), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------- page


@dataclass
class TextBox:
    text: str
    score: float
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass
class CellBox:
    x0: int
    y0: int
    x1: int
    y1: int
    boxes: list[TextBox] = field(default_factory=list)
    quads: list = field(default_factory=list)  # the detector's text quads inside the cell
    split: bool = False  # a text box ran over this cell and a neighbour: read the cell on its own

    def overlap(self, x0: float, y0: float, x1: float, y1: float) -> float:
        w = min(self.x1, x1) - max(self.x0, x0)
        h = min(self.y1, y1) - max(self.y0, y0)
        return max(w, 0) * max(h, 0)


@dataclass
class TableBoxes:
    bbox: tuple[int, int, int, int]
    cells: list[CellBox]


def ocr_page(image: Any, page_no: int, dpi: float) -> list[Block]:
    """Blocks of one scanned page in reading order: Grids for ruled tables, Paragraphs for lines."""
    try:
        return _ocr_page(image, page_no, dpi)
    except Exception as exc:
        if out_of_memory(exc):
            raise MemoryError(f"OCR ran out of memory on page {page_no}") from None
        raise


def _ocr_page(image: Any, page_no: int, dpi: float) -> list[Block]:
    import cv2
    import numpy as np

    gray = to_gray(image)
    gray, matrix = deskew(gray)
    to_points = _page_points(matrix, dpi)
    binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    tables, lines = find_tables(binary, dpi)
    clean = gray.copy()
    clean[cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0] = 255  # ruling lines confuse text detection
    ink = binary.copy()
    ink[cv2.dilate(lines, np.ones((5, 5), np.uint8)) > 0] = 0
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))  # drop speckle noise
    image = cv2.cvtColor(clean, cv2.COLOR_GRAY2BGR)
    outside_quads = _place_quads(detect(image, dpi), tables, cell_margin(dpi))
    plans, readings = _read_tables(tables, clean, image, ink, dpi, _quad_crops(image, outside_quads))
    outside = _text_boxes(outside_quads, _texts(readings[: len(outside_quads)]))
    for plan in plans:
        _settle_cell(plan, readings, clean, image, dpi)
    items: list[tuple[float, Block]] = []
    for table in tables:
        grid = _to_grid(table, page_no, to_points)
        if grid is None:
            continue
        if is_text_frame(grid.rows):
            for i, row in enumerate(grid.rows):
                text = next((c for c in row if c), "")
                if text:
                    items.append((table.bbox[1] + i * 0.01, Paragraph(text=text.replace("\n", ""), page=page_no)))
            continue
        items.append((float(table.bbox[1]), grid))
    items.extend(_paragraphs(outside, page_no, to_points))
    items.sort(key=lambda item: item[0])
    return [block for _, block in items]


def _page_points(matrix, dpi: float) -> Callable[[tuple[float, float, float, float]], BBox]:
    """Map a box in the deskewed image (pixels) back to the page as printed, in PDF points (72 per
    inch at the render resolution): undo the rotation on its corners and take their bounds."""
    import cv2
    import numpy as np

    inverse = cv2.invertAffineTransform(matrix) if matrix is not None else None
    scale = 72.0 / dpi

    def to_points(box: tuple[float, float, float, float]) -> BBox:
        x0, y0, x1, y1 = (float(v) for v in box)
        if inverse is not None:
            corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], dtype=np.float64) @ inverse.T
            x0, y0 = corners.min(axis=0)
            x1, y1 = corners.max(axis=0)
        return (round(float(x0) * scale, 2), round(float(y0) * scale, 2), round(float(x1) * scale, 2), round(float(y1) * scale, 2))

    return to_points


def deskew(gray):
    """Rotate the page so its text lines and ruling lines are horizontal (scans are often 0.5-2° off);
    returns the rotated page and the rotation's affine matrix (None when nothing was turned).

    The angle is the one whose horizontal projection of ink is most peaked (lines of text and ruling
    lines collapse into sharp rows), searched coarse then fine on a downscaled copy."""
    import cv2
    import numpy as np

    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    binary = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    h, w = binary.shape
    centre = (w / 2, h / 2)

    def score(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(binary, matrix, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
        profile = rotated.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(profile)).sum())

    best = max(np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 1e-6, 0.25), key=score)
    best = max(np.arange(best - 0.25, best + 0.25 + 1e-6, 0.05), key=score)
    if abs(best) < 0.05:
        return gray, None
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(best), 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_CUBIC, borderValue=255), matrix


def find_tables(binary, dpi: float) -> tuple[list[TableBoxes], Any]:
    """Tables and their cells from the ruling lines; also the mask of the lines kept.

    Horizontal and vertical strokes come from morphological opening with long thin kernels. A vertical
    stroke counts as a ruling line only if both its ends meet a horizontal line, and a horizontal one
    only if both its ends meet a vertical line, so character strokes, underlines and '——' are not
    taken for lines. Cells are the enclosed background regions of the line mask."""
    import cv2
    import numpy as np

    h_len = max(15, int(dpi * 0.35))
    v_len = max(10, int(dpi * 0.2))
    tol = max(3, int(dpi * 0.04))
    horizontal = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_len, 1)))
    vertical = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_len)))
    # bridge the small breaks noise and thin rendering leave in a line
    horizontal = cv2.morphologyEx(horizontal, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (tol, 1)))
    vertical = cv2.morphologyEx(vertical, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, tol)))
    near_h = cv2.dilate(horizontal, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * tol + 1, 2 * tol + 1)))
    vertical = _keep_components(vertical, lambda x, y, w, h: near_h[y : y + tol, x : x + w].any() and near_h[y + h - tol : y + h, x : x + w].any())
    near_v = cv2.dilate(vertical, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * tol + 1, 2 * tol + 1)))
    horizontal = _keep_components(horizontal, lambda x, y, w, h: near_v[y : y + h, x : x + tol].any() and near_v[y : y + h, x + w - tol : x + w].any())
    lines = cv2.bitwise_or(horizontal, vertical)
    grid = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grid, connectivity=8)
    tables: list[TableBoxes] = []
    min_cell = max(4, int(dpi * 0.05))
    for i in range(1, count):
        x, y, w, h, _ = stats[i]
        if w < dpi * 0.8 or h < dpi * 0.15:
            continue
        region = (labels[y : y + h, x : x + w] == i).astype(np.uint8) * 255
        background = cv2.bitwise_not(region)
        n, _, cstats, _ = cv2.connectedComponentsWithStats(background, connectivity=4)
        cells = []
        for j in range(1, n):
            cx, cy, cw, ch, _ = cstats[j]
            if cx == 0 or cy == 0 or cx + cw >= w or cy + ch >= h:
                continue  # the outside of the table
            if cw < min_cell or ch < min_cell:
                continue
            cells.append(CellBox(x + cx, y + cy, x + cx + cw, y + cy + ch))
        if len(cells) >= 2:
            tables.append(TableBoxes(bbox=(x, y, x + w, y + h), cells=cells))
    return tables, lines


def _keep_components(mask, keep: Callable[[int, int, int, int], bool]):
    import cv2
    import numpy as np

    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    kept = np.zeros(count, dtype=np.uint8)
    for i in range(1, count):
        x, y, w, h, _ = stats[i]
        if keep(int(x), int(y), int(w), int(h)):
            kept[i] = 255
    return kept[labels]  # one lookup for all components (a mask per component cost a pass over the page each)


def detect(image, dpi: float):
    """Text quads of a BGR image (its pixels), from the detector run on a copy scaled down to
    DETECT_DPI: its cost grows with the pixels, and text lines stay far above the size it needs."""
    import cv2

    engine = _get_engine()
    scale = min(1.0, DETECT_DPI / dpi)
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    quads, _ = engine.text_det(small)
    if quads is None or len(quads) == 0:
        return []
    h, w = image.shape[:2]
    quads = quads / scale
    quads[..., 0] = quads[..., 0].clip(0, w - 1)
    quads[..., 1] = quads[..., 1].clip(0, h - 1)
    return list(engine.sorted_boxes(quads.astype("float32")))


def read_text(image, dpi: float, offset: tuple[float, float] = (0.0, 0.0), upright: bool = False) -> list[TextBox]:
    """Text boxes of a BGR image: detected (`detect`), then recognised at the image's own resolution.
    `offset` is added to the boxes (a crop's place on the page); `upright` skips the direction
    classifier (text inside a table cell of a deskewed page)."""
    quads = detect(image, dpi)
    return _text_boxes(quads, recognise(_quad_crops(image, quads, upright)), offset)


def _quad_crops(image, quads, upright: bool = False) -> list:
    engine = _get_engine()
    crops = engine.get_crop_img_list(image, quads) if len(quads) else []
    if crops and not upright:
        crops, _, _ = engine.text_cls(crops)
    return list(crops)


def _text_boxes(quads, readings: list[tuple[str, float]], offset: tuple[float, float] = (0.0, 0.0)) -> list[TextBox]:
    boxes = []
    for quad, (text, score) in zip(quads, readings, strict=True):
        text = unicodedata.normalize("NFC", str(text)).strip()
        if text:
            xs = [float(p[0]) + offset[0] for p in quad]
            ys = [float(p[1]) + offset[1] for p in quad]
            boxes.append(TextBox(text, float(score), min(xs), min(ys), max(xs), max(ys)))
    return boxes


def _clip_to_cell(quad, cell: CellBox, margin: int):
    """The quad clipped to the inside of its cell (when most of it is inside), else as it is: boxes
    found at the detector's lower resolution are a little loose, and the rest of an erased ruling line
    at a cell's edge is read as a '.' after a number."""
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    area = max((x1 - x0) * (y1 - y0), 1.0)
    inside = max(min(cell.x1, x1) - max(cell.x0, x0), 0) * max(min(cell.y1, y1) - max(cell.y0, y0), 0)
    left, top, right, bottom = cell.x0 + margin, cell.y0 + margin, cell.x1 - margin, cell.y1 - margin
    if inside < 0.8 * area or right - left < 4 or bottom - top < 4:
        return quad
    out = quad.copy()
    out[:, 0] = out[:, 0].clip(left, right)
    out[:, 1] = out[:, 1].clip(top, bottom)
    return out


def recognise(crops: list) -> list[tuple[str, float]]:
    """Text and confidence (the mean of its characters' probabilities) of each one-line crop, read in
    strips (`readers.ocr_strips`)."""
    return _texts(_readings(crops))


def _texts(readings: list[Reading]) -> list[tuple[str, float]]:
    characters = _get_engine().text_rec.postprocess_op.character
    return [reading.text(characters)[:2] for reading in readings]


def cell_margin(dpi: float) -> int:
    """Pixels inside a cell's ruling lines left out of its ink and its text (what remains of an erased
    line at the cell's edge)."""
    return max(2, int(dpi * 0.015))


def _readings(crops: list) -> list[Reading]:
    return read_strips(_get_engine().text_rec, crops) if crops else []


def _place_quads(quads, tables: Sequence[TableBoxes], margin: int) -> list:
    """Put each text quad into the cell that holds it (clipped to it); a quad straddling cells marks
    them for reading on their own, one on a ruling line inside a table is noise. Returns the quads
    outside every table."""
    outside = []
    for quad in quads:
        x0, y0 = quad.min(axis=0)
        x1, y1 = quad.max(axis=0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        area = max((x1 - x0) * (y1 - y0), 1.0)
        table = next((t for t in tables if t.bbox[0] <= cx <= t.bbox[2] and t.bbox[1] <= cy <= t.bbox[3]), None)
        if table is None:
            outside.append(quad)
            continue
        shares = sorted(((cell.overlap(x0, y0, x1, y1) / area, cell) for cell in table.cells), key=lambda item: -item[0])
        if not shares or shares[0][0] <= 0:
            continue
        if len(shares) == 1 or shares[1][0] < 0.08:
            cell = shares[0][1]
            cell.quads.append(_clip_to_cell(quad, cell, margin) if cell.x0 <= cx <= cell.x1 and cell.y0 <= cy <= cell.y1 else quad)
        else:
            for share, cell in shares:
                if share >= 0.1:
                    cell.split = True
    return outside


@dataclass
class _CellRead:
    """How one cell is read: `direct` (its one line of ink cropped tight, no detector) or from the
    detector's quads; `first` the index of its first crop in the page's batch."""

    cell: CellBox
    interior: Any
    has_ink: bool
    direct: tuple[float, float, float, float] | None = None
    first: int = -1
    count: int = 0


def _read_tables(tables: Sequence[TableBoxes], clean, image, ink, dpi: float, crops: list) -> tuple[list[_CellRead], list[Reading]]:
    """Plan the reading of every cell and recognise, in one batch with `crops` (the text outside the
    tables, first), every crop the plan needs: each cell whose ink is one line is read once, from
    its ink cropped tight — the detector's boxes in it are not read at all; other cells from their
    quads. Returns the plans and the readings of the whole batch."""
    margin = cell_margin(dpi)
    min_ink = max(6, int((dpi / 150) ** 2 * 12))
    plans = []
    batch = list(crops)
    for table in tables:
        for cell in table.cells:
            interior = ink[cell.y0 + margin : cell.y1 - margin, cell.x0 + margin : cell.x1 - margin]
            has_ink = interior.size > 0 and int((interior > 0).sum()) >= min_ink
            plan = _CellRead(cell, interior, has_ink, first=len(batch))
            if has_ink and _one_line(interior, dpi):
                found = _tight_crop(clean, cell, interior, margin, dpi)
                if found is not None:
                    batch.append(found[0])
                    plan.direct, plan.count = found[1], 1
            elif cell.quads and not cell.split:
                quad_crops = _quad_crops(image, cell.quads, upright=True)
                batch.extend(quad_crops)
                plan.count = len(quad_crops)
            plans.append(plan)
    return plans, _readings(batch)


def _one_line(interior, dpi: float) -> bool:
    rows = (interior > 0).any(axis=1).nonzero()[0]
    return len(rows) > 0 and rows[-1] - rows[0] <= dpi * 0.2


def _settle_cell(plan: _CellRead, readings: list[Reading], clean, image, dpi: float) -> None:
    """The cell's text boxes from its readings; a cell without Chinese words read as a number (see
    `number_of`), a lone dash or slash by its shape, ink nothing could read as an empty box with
    confidence 0."""
    cell, interior, has_ink = plan.cell, plan.interior, plan.has_ink
    margin = cell_margin(dpi)
    characters = _get_engine().text_rec.postprocess_op.character
    own = readings[plan.first : plan.first + plan.count]
    number = None
    if plan.direct is not None:
        text, score, _ = own[0].text(characters)
        cell.boxes = [TextBox(text, score, *plan.direct)] if text else []
        number = number_of(own[0])
    elif plan.count:
        cell.boxes = _text_boxes(cell.quads, _texts(own))
    if plan.direct is None and (cell.split or (not cell.boxes and has_ink)):
        cell.boxes = _read_crop(clean, cell, dpi)  # several lines, or boxes across cells: detect in the cell alone
    if not has_ink and not cell.boxes:
        return
    text = re.sub(r"\s+", "", "".join(b.text for b in cell.boxes))
    doubtful = min((b.score for b in cell.boxes), default=0.0) < SURE
    han = len(regex.findall(r"\p{Han}", text.replace("一", "").replace("无", "")))
    if len(text) > 10 or han > 1 or (han == 1 and not doubtful):
        return  # words: a label, not a number
    if plan.direct is None and has_ink:
        number = _read_tight_number(clean, cell, interior, margin, dpi)
    marker = blank_marker_shape(interior, dpi) if has_ink else None
    if marker is not None and (number is None or (len(number[0]) == 1 and (number[0] in "1/—" or number[1] < SURE))):
        value, sure = marker, 0.95  # a lone dash or slash: its shape is surer than its reading
        if number is not None and number[0] not in "/—" and number[1] >= RAW_REVIEW:
            sure = DISAGREEMENT  # but it was read as a digit: a noisy '1' leans like a slash
        elif number is None and any(ch.isalpha() and ch not in "丿一乀" for ch in text):
            sure = DISAGREEMENT  # but it was read as a letter ('A'): something else than a stroke is there
    elif number is None:
        if not cell.boxes and has_ink:
            cell.boxes = [TextBox("", 0.0, cell.x0, cell.y0, cell.x1, cell.y1)]  # ink we could not read
        for box in cell.boxes:  # no number in what the full reading took for one ('①'): doubtful
            box.score = min(box.score, DISAGREEMENT)
        return
    else:
        value, sure = number
        score = min((b.score for b in cell.boxes), default=0.0)
        first = unicodedata.normalize("NFKC", text)
        if first == value or (first in _BLANK_LOOKALIKES and value == "—"):
            sure = max(sure, score)
        elif first and is_value_like(first):
            if score > sure:
                value = text
            sure = min(max(sure, score), DISAGREEMENT)  # two readings disagree: ask for review
        elif first and score >= 0.5:
            sure = min(sure, 0.85)  # the first reading was fairly sure of something else
        if any(unicodedata.category(ch) == "No" for ch in text):  # '①', '²': no statistics cell prints them
            sure = min(sure, DISAGREEMENT)
    cell.boxes = [TextBox(value, sure, cell.x0, cell.y0, cell.x1, cell.y1)]


def blank_marker_shape(interior, dpi: float) -> str | None:
    """'—' or '/' when a cell's only mark has that shape: one thin stroke, flat (a dash) or leaning 12-40°
    from upright to the right (a slash). The recogniser reads a lone slash or dash badly (often as '1'), while the
    shape is unmistakable; an upright stroke (a '1') is left to the recogniser."""
    import cv2
    import numpy as np

    joined = cv2.dilate(interior, np.ones((3, 3), np.uint8))  # a thin stroke broken by noise is one mark
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    if count < 2:
        return None
    largest = max(int(stats[i][4]) for i in range(1, count))
    big = [i for i in range(1, count) if stats[i][4] >= max(4, 0.25 * largest)]  # specks aside
    if len(big) != 1:
        return None
    ys, xs = np.nonzero((labels == big[0]) & (interior > 0))
    if len(xs) == 0:
        return None
    w, h, area = int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1), len(xs)
    if w >= 2.5 * h and h <= dpi * 0.06:
        return "—"
    if h < dpi * 0.06 or area > 0.5 * w * h:
        return None
    vx, vy, _, _ = cv2.fitLine(np.column_stack([xs, ys]).astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01).ravel()
    lean = float(np.degrees(np.arctan2(abs(vx), abs(vy))))
    if vx * vy > 0:  # top to the left, like '\\': a '1' whose flag noise has thickened, not a slash
        return None
    if 11 <= lean <= 40:
        return "/"
    return None


def _tight_crop(clean, cell: CellBox, interior, margin: int, dpi: float):
    """The ink of a cell cropped tight on a white margin, as one line of text for the recogniser,
    with its box on the page; None when the cell has no ink."""
    import cv2

    points = cv2.findNonZero(interior)
    if points is None:
        return None
    x, y, w, h = cv2.boundingRect(points)
    x0, y0 = cell.x0 + margin + x, cell.y0 + margin + y
    tight = clean[max(y0 - 2, 0) : y0 + h + 2, max(x0 - 2, 0) : x0 + w + 2]
    line_height = max(h, int(dpi * 0.12))  # a dash is flat: give it the height of a line of text
    pad_y = max(4, h // 3) + (line_height - h) // 2
    pad_x = max(8, line_height // 2)
    tight = cv2.copyMakeBorder(tight, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=255)
    return cv2.cvtColor(tight, cv2.COLOR_GRAY2BGR), (x0, y0, x0 + w, y0 + h)


def _read_tight_number(clean, cell: CellBox, interior, margin: int, dpi: float) -> tuple[str, float] | None:
    """A cell's ink read as a number, line by line: a number too wide for its column wraps ('1,63'
    over '3'), and the recogniser reads two lines in one crop as garbage."""
    crops = []
    for band in ink_lines(interior, dpi):
        found = _tight_crop(clean, cell, band, margin, dpi)
        if found is None:
            return None
        crops.append(found[0])
    read = [number_of(reading) for reading in _readings(crops)]
    if not read or any(number is None for number in read):
        return None
    value = "".join(text for text, _ in read)
    return (value, min(sure for _, sure in read)) if is_value_like(value) else None


def ink_lines(interior, dpi: float) -> list:
    """The cell's ink split into lines of text (rows of ink separated by blank rows), each as a copy
    of `interior` with the other rows cleared; the whole ink when it is one line. Bands lower than
    a small digit (specks, a dash's noise) do not count as lines."""
    rows = (interior > 0).any(axis=1)
    runs: list[list[int]] = []
    for y, inked in enumerate(rows):
        if inked and runs and y - runs[-1][1] <= 2:
            runs[-1][1] = y
        elif inked:
            runs.append([y, y])
    lines = [run for run in runs if run[1] - run[0] + 1 >= dpi * 0.06]
    if len(lines) < 2:
        return [interior]
    bands = []
    for top, bottom in lines:
        band = interior.copy()
        band[:top] = 0
        band[bottom + 1 :] = 0
        bands.append(band)
    return bands


# what a statistics cell may hold, as classes of the recogniser's characters: full-width forms and the
# shapes a recogniser confuses with a digit count as the digit
_NUMBER_CLASSES = {
    **{d: d + chr(0xFF10 + int(d)) for d in "0123456789"},
    "0": "0０〇Oo。○",  # a small zero reads as a circle or an ideographic full stop
    ",": ",，",
    ".": ".．",
    "-": "-－—–一_",
    "+": "+＋",
    "/": "/／",
    "无": "无",
}
_class_index: tuple[list[str], list[list[int]]] | None = None


def number_of(reading: Reading) -> tuple[str, float] | None:
    """A reading decoded as a number: the recogniser's per-step probabilities are decoded over digits,
    separators, signs and blank markers only (CTC greedy decoding), so a '1' whose serif makes it look
    like 'L' still comes out as '1'. The confidence is the least sure character's probability.
    Returns None when nothing was read."""
    global _class_index
    if _class_index is None:
        where = {ch: i for i, ch in enumerate(_get_engine().text_rec.postprocess_op.character)}
        labels, indices = [], []
        for label, members in _NUMBER_CLASSES.items():
            found = sorted({where[ch] for ch in members if ch in where})
            if found:
                labels.append(label)
                indices.append(found)
        _class_index = (labels, indices)
    text, sure = reading.classes(*_class_index)
    if not text:
        return None
    if set(text) == {"-"}:
        text = "—"
    return text, round(min(sure), 4)


def _read_crop(clean, cell: CellBox, dpi: float) -> list[TextBox]:
    """Detect and recognise the text of one cell's crop (white margin added)."""
    import cv2

    crop = clean[cell.y0 : cell.y1, cell.x0 : cell.x1]
    if crop.size == 0:
        return []
    pad = 16
    padded = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    return read_text(cv2.cvtColor(padded, cv2.COLOR_GRAY2BGR), dpi, offset=(cell.x0 - pad, cell.y0 - pad), upright=True)


def _join_lines(boxes: list[TextBox]) -> list[list[TextBox]]:
    """Group boxes into lines (vertical overlap), each line left to right, lines top to bottom."""
    lines: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: b.cy):
        if lines:
            last = lines[-1]
            top = min(b.y0 for b in last)
            bottom = max(b.y1 for b in last)
            overlap = min(bottom, box.y1) - max(top, box.y0)
            if overlap > 0.5 * min(box.height, bottom - top):
                last.append(box)
                continue
        lines.append([box])
    return [sorted(line, key=lambda b: b.x0) for line in lines]


_CJK = regex.compile(r"[\p{Han}（）【】《》，。、；：“”]")


def _line_text(line: list[TextBox]) -> str:
    text = ""
    for box in line:
        if text and not (_CJK.search(text[-1]) or _CJK.search(box.text[0])):
            text += " "
        text += box.text
    return text


# confusions of a recogniser reading a lone number or blank marker in a table cell
_VALUE_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "〇": "0", "D": "0", "l": "1", "I": "1", "|": "1", "丨": "1", "i": "1", "，": ",", "。": "."})
_BLANK_LOOKALIKES = {"一", "—", "-", "_", "一一", "——", "--", "ー", "－", "~", "～"}
_GROUPED = re.compile(r"^([+\-−]?\d{1,3})(?:[.,]\d{3})+$")


def repair_value(text: str) -> tuple[str, float]:
    """A short cell text that is almost a number, made one, with a confidence factor for the repair.

    Only used on text that is not a value as read: labels are left alone."""
    flat = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    if not flat or len(flat) > 14 or is_value_like(text):
        if _GROUPED.match(flat) and "." in flat:  # '1.234' read for '1,234' in a count cell
            return flat.replace(".", ","), 0.7
        return text, 1.0
    if flat in _BLANK_LOOKALIKES:
        return "—", 1.0
    mapped = flat.translate(_VALUE_CONFUSIONS)
    if re.fullmatch(r"[+\-−]?[\d,.]+(?:万元|元|件)?", mapped) and is_value_like(mapped):
        return mapped, 0.75
    return text, 1.0


def _cell_text(cell: CellBox) -> tuple[str, float | None]:
    if not cell.boxes:
        return "", None
    text = "\n".join(_line_text(line) for line in _join_lines(cell.boxes))
    confidence = min(b.score for b in cell.boxes)
    repaired, factor = repair_value(text)
    return repaired, calibrated(confidence * factor)


def calibrated(raw: float) -> float:
    """The recogniser's score on the scale every confidence of the output shares (below
    REVIEW_THRESHOLD asks for review): piecewise linear, RAW_REVIEW → REVIEW_THRESHOLD.

    Why: the score is the least sure character's probability, and on clean scans correct readings
    of a serif '1', a small '0' or '无' score 0.5-0.9 — they were most of the false alarms — while the
    misreadings of degraded scans (tests/test_ocr_degraded.py) score below 0.5 or break an identity
    (confirm_by_identities / the table rules): docs/ocr.md has the figures."""
    raw = min(max(raw, 0.0), 1.0)
    if raw < RAW_REVIEW:
        return round(raw * REVIEW_THRESHOLD / RAW_REVIEW, 3)
    return round(REVIEW_THRESHOLD + (raw - RAW_REVIEW) * (1.0 - REVIEW_THRESHOLD) / (1.0 - RAW_REVIEW), 3)


def _clusters(values: list[float], tol: float) -> list[float]:
    groups: list[list[float]] = []
    for v in sorted(values):
        if groups and v - groups[-1][-1] <= tol:
            groups[-1].append(v)
        else:
            groups.append([v])
    return [sum(g) / len(g) for g in groups]


def _to_grid(table: TableBoxes, page_no: int, to_points: Callable[[tuple[float, float, float, float]], BBox]) -> Grid | None:
    """Cell boxes → a Grid of slots: the distinct cell edges are the grid lines; a cell covering more
    than one slot is a merged cell (text in its top-left slot, None in the rest). Boxes go out in
    page points (`to_points`), like a text PDF's."""
    cells = table.cells
    tol = max(4.0, min(min(c.x1 - c.x0 for c in cells), min(c.y1 - c.y0 for c in cells)) * 0.4, 8.0)
    xs = _clusters([float(c.x0) for c in cells] + [float(c.x1) for c in cells], tol)
    ys = _clusters([float(c.y0) for c in cells] + [float(c.y1) for c in cells], tol)
    if len(xs) < 2 or len(ys) < 2:
        return None

    def nearest(edges: list[float], v: float) -> int:
        return min(range(len(edges)), key=lambda i: abs(edges[i] - v))

    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    rows: list[list[str | None]] = [["" for _ in range(n_cols)] for _ in range(n_rows)]
    taken = [[False] * n_cols for _ in range(n_rows)]
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    confidence: dict[tuple[int, int], float] = {}
    boxes: dict[tuple[int, int], BBox] = {}
    placed = []
    for cell in cells:
        c0, c1 = nearest(xs, cell.x0), nearest(xs, cell.x1)
        r0, r1 = nearest(ys, cell.y0), nearest(ys, cell.y1)
        c1, r1 = max(c1, c0 + 1), max(r1, r0 + 1)
        c1, r1 = min(c1, n_cols), min(r1, n_rows)
        if c0 >= n_cols or r0 >= n_rows:
            continue
        placed.append((r0, c0, r1, c1, cell))
    for r0, c0, r1, c1, cell in sorted(placed, key=lambda p: (p[0], p[1])):
        if taken[r0][c0]:
            continue
        text, conf = _cell_text(cell)
        rows[r0][c0] = text
        boxes[(r0, c0)] = to_points((cell.x0, cell.y0, cell.x1, cell.y1))
        if conf is not None:
            confidence[(r0, c0)] = conf
        for r in range(r0, r1):
            for c in range(c0, c1):
                taken[r][c] = True
                if (r, c) != (r0, c0):
                    rows[r][c] = None
        if (r1 - r0, c1 - c0) != (1, 1):
            spans[(r0, c0)] = (r1 - r0, c1 - c0)
    return Grid(rows=rows, page=page_no, bbox=to_points(table.bbox), spans=spans, confidence=confidence, cell_boxes=boxes)


def _paragraphs(boxes: list[TextBox], page_no: int, to_points: Callable[[tuple[float, float, float, float]], BBox]) -> list[tuple[float, Block]]:
    lines = _join_lines(boxes)
    out: list[tuple[float, Block]] = []
    for i, line in enumerate(lines):
        text = _line_text(line).strip()
        if not text or is_page_number(text, last=i == len(lines) - 1):
            continue
        top = min(b.y0 for b in line)
        bbox = (min(b.x0 for b in line), top, max(b.x1 for b in line), max(b.y1 for b in line))
        out.append((top, Paragraph(text=text, page=page_no, bbox=to_points(bbox))))
    return out


def scan_rules(image: Any, dpi: float, page_height: float) -> list[dict]:
    """The ruled tables of a scanned page as rect objects in page points (pdfplumber's dicts, top-left
    origin), one per cell found in the image: for a scan with an OCR text layer, whose text is then
    read into these cells as a text PDF's is. A skewed scan's cells are found upright and put back
    by their centres at their upright size, so the rows and columns stay aligned."""
    import cv2
    import numpy as np

    gray, matrix = deskew(to_gray(image))
    binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    tables, _ = find_tables(binary, dpi)
    inverse = cv2.invertAffineTransform(matrix) if matrix is not None else None
    scale = 72.0 / dpi
    rects = []
    for table in tables:
        for cell in table.cells:
            cx, cy = (cell.x0 + cell.x1) / 2, (cell.y0 + cell.y1) / 2
            if inverse is not None:
                cx, cy = (float(v) for v in inverse @ np.array([cx, cy, 1.0]))
            half_w, half_h = (cell.x1 - cell.x0) / 2, (cell.y1 - cell.y0) / 2
            x0, x1 = round((cx - half_w) * scale, 2), round((cx + half_w) * scale, 2)
            top, bottom = round((cy - half_h) * scale, 2), round((cy + half_h) * scale, 2)
            rects.append(
                {"object_type": "rect", "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top,
                 "width": x1 - x0, "height": bottom - top, "y0": page_height - bottom, "y1": page_height - top}
            )  # fmt: skip
    return rects
