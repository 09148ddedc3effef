"""HTML: saved article pages from government portals, reduced to the article's paragraphs and tables.

Portal pages wrap the report in menus, breadcrumbs, share buttons, link lists and footers. The reader
decodes the bytes (BOM, then the page's own charset declaration, then detection; GBK/GB2312 read as
GB18030, their superset), drops clutter, picks the element that holds the article (most Chinese
text and all data tables) and walks it in document order: one Paragraph per block-level element or
`<br>`-separated line, one Grid per data table with rowspan/colspan resolved by the HTML table model.
Layout tables (one cell, or a cell holding long running text) are walked through, not turned into
grids. When the article element leaves the page's own heading outside, the <title> (site name cut
off) is put first so the report's title is not lost. Pages carry no page numbers, so `pages` is None
and blocks have no page or bbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from extractor.document import Block, Document, Grid, Paragraph, ReadError
from extractor.readers.limits import DEFAULT_LIMITS, Limits, over

# ---------------------------------------------------------------------------------------------------
# decoding

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Encodings that GB18030 extends: pages labelled with these often contain characters outside them
_GB_FAMILY = {"gbk", "cp936", "x-gbk", "euc-cn", "936", "ms936", "windows-936"}
_WESTERN = {"iso8859-1", "cp1252", "ascii", "iso8859-15"}
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _canonical(encoding: str) -> str | None:
    """Map a declared or detected encoding name to a Python codec, widening the GB family to gb18030."""
    name = encoding.strip().lower().replace("_", "-")
    if name in _GB_FAMILY or name.startswith("gb"):
        return "gb18030"
    import codecs

    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    if codec in ("gbk", "gb2312", "gb18030"):
        return "gb18030"
    return codec


def _declared_encoding(data: bytes) -> str | None:
    """The charset a page declares for itself: XML declaration or <meta> in the first 8 KB."""
    head = data[:8192]
    for pattern in (_XML_DECL_ENCODING, _META_CHARSET):
        match = pattern.search(head)
        if match:
            codec = _canonical(match.group(1).decode("ascii", "ignore"))
            if codec:
                return codec
    return None


def decode_html(data: bytes) -> tuple[str, str, bool]:
    """Decode page bytes; return (text, codec, clean) where clean is False if bytes had to be replaced.

    Order: BOM, then the page's declaration, then detection. A GB-family declaration on bytes that are
    valid non-ASCII UTF-8 is taken as a mislabelled UTF-8 page (valid multi-byte UTF-8 by chance is
    very unlikely), since sites often keep a stale meta tag after converting their templates.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), codec, True
            except UnicodeDecodeError:
                return data[len(bom) :].decode(codec, errors="replace"), codec, False
    declared = _declared_encoding(data)
    if declared in _WESTERN and not data.isascii():
        declared = None  # a Western single-byte label never fits a Chinese page: decode by content
    if declared:
        if declared == "gb18030" and not data.isascii():
            try:
                return data.decode("utf-8"), "utf-8", True
            except UnicodeDecodeError:
                pass
        try:
            return data.decode(declared), declared, True
        except (UnicodeDecodeError, LookupError):
            pass  # the declaration is wrong: fall through to detection
    try:
        return data.decode("utf-8"), "utf-8", True
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    codec = _canonical(best.encoding) if best is not None else None
    for candidate in (codec, "gb18030"):
        if candidate:
            try:
                return data.decode(candidate), candidate, True
            except (UnicodeDecodeError, LookupError):
                pass
    codec = declared or "gb18030"
    return data.decode(codec, errors="replace"), codec, False


# ---------------------------------------------------------------------------------------------------
# text helpers

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_CLASS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
# A source line break between two CJK characters is not a word space (CSS segment-break rule)
_CJK_BREAK = re.compile(rf"(?<=[{_CJK_CLASS}])[ \t\r\f\v]*\n\s*(?=[{_CJK_CLASS}])")
_SPACES = re.compile(r"\s+")  # str patterns: includes &nbsp; (\xa0) and the ideographic space (\u3000)
_INVISIBLE = str.maketrans("", "", "\u200b\u200c\u200d\u2060\ufeff\u00ad")


def _cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def _clean_line(text: str) -> str:
    """Collapse white space (including &nbsp; and ideographic spaces) the way a browser renders it."""
    text = text.translate(_INVISIBLE)
    text = _CJK_BREAK.sub("", text)
    return _SPACES.sub(" ", text).strip()


def _tag(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""  # comment or processing instruction
    return tag.lower().rsplit("}", 1)[-1]


# ---------------------------------------------------------------------------------------------------
# element classes

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main menu nav ol p pre section summary "
    "ul caption tbody thead tfoot tr td th".split()
)
_PROSE_TAGS = frozenset("p div h1 h2 h3 h4 h5 h6 li section article blockquote".split())
_JUNK_TAGS = (
    "script style noscript template iframe frame frameset object embed svg canvas select button input "
    "textarea map audio video head title link meta base".split()
)
_CLUTTER_TAGS = frozenset({"nav", "aside", "header", "footer"})
_LINK_LIST_TAGS = frozenset("div ul ol dl section table p span li center".split())
# class/id tokens of portal furniture; an element so named is dropped only if it holds little text
_CLUTTER_TOKENS = re.compile(
    r"nav|menu|breadcrumb|crumb|footer|copyright|sidebar|share|bdshare|related|friendlink|yqlj|xglj|xgwz|"
    r"search|login|toolbar|qrcode|ewm|weixin|wechat|weibo|pager|pagination|font-?size|zihao",
    re.IGNORECASE,
)
_CLUTTER_EXACT = frozenset({"header", "head", "top", "topbar", "foot", "bottom", "left", "right", "ad", "ads"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_TABLE_STYLE = re.compile(r"display\s*:\s*table\b(?!-)", re.IGNORECASE)
_ROW_STYLE = re.compile(r"display\s*:\s*table-row\b", re.IGNORECASE)
_TABLE_NAME = re.compile(r"table|tbl|biaoge", re.IGNORECASE)
_ROW_NAME = re.compile(r"row|(^|[-_])tr($|[-_\d])", re.IGNORECASE)

# a cell with this much running text (in paragraphs or lines) is page layout, not table data
LAYOUT_CELL_CJK = 200
# a block named or tagged as furniture is kept when it holds this much non-link Chinese text
CLUTTER_KEEP_CJK = 200


def _names(el: etree._Element) -> list[str]:
    return (el.get("class", "") + " " + el.get("id", "")).split()


def _is_hidden(el: etree._Element) -> bool:
    return bool(_HIDDEN_STYLE.search(el.get("style", ""))) or el.get("hidden") is not None


# ---------------------------------------------------------------------------------------------------
# measuring


@dataclass
class _Stats:
    cjk: int = 0  # Chinese characters outside links
    link_chars: int = 0  # non-space characters inside links
    chars: int = 0  # all non-space characters
    links: int = 0
    data_tables: int = 0


class _Measure:
    """Memoised text amounts per element for one state of the tree (make a new one after editing it).

    Each subtree's totals are built from its children's, so choosing the article costs one pass
    over the page instead of one per candidate.
    """

    def __init__(self) -> None:
        self._stats: dict[etree._Element, _Stats] = {}
        self._layout: dict[etree._Element, bool] = {}

    def __call__(self, el: etree._Element) -> _Stats:
        """Text of a subtree split into link and non-link text, plus its count of data tables."""
        cached = self._stats.get(el)
        if cached is not None:
            return cached
        stats = _Stats()
        for text in (el.text, *(child.tail for child in el)):
            if text:
                n = len("".join(text.split()))
                stats.chars += n
                stats.cjk += _cjk_count(text)
        for child in el:
            if _tag(child):
                sub = self(child)
                stats.cjk += sub.cjk
                stats.link_chars += sub.link_chars
                stats.chars += sub.chars
                stats.links += sub.links
                stats.data_tables += sub.data_tables
        tag = _tag(el)
        if tag == "a" and el.get("href") is not None:
            stats.links += 1
            stats.link_chars = stats.chars
            stats.cjk = 0
        if tag == "table" and self.is_data_table(el):
            stats.data_tables += 1
        self._stats[el] = stats
        return stats

    def is_layout_table(self, table: etree._Element) -> bool:
        cached = self._layout.get(table)
        if cached is None:
            cached = self._layout[table] = _is_layout_table(table)
        return cached

    def is_data_table(self, table: etree._Element) -> bool:
        """A table that holds data (becomes a Grid), as opposed to page layout."""
        return bool(_table_rows(table)) and not self.is_layout_table(table)


def _table_rows(table: etree._Element) -> list[etree._Element]:
    """The table's own <tr> elements in source order (thead/tbody/tfoot looked into, nested tables not)."""
    rows = []
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            rows.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            rows.extend(r for r in child if _tag(r) == "tr")
    return rows


def _row_cells(row: etree._Element) -> list[etree._Element]:
    return [c for c in row if _tag(c) in ("td", "th")]


def _own_text(el: etree._Element) -> str:
    """Text of a subtree without the text of tables nested in it."""
    parts: list[str] = []

    def visit(node: etree._Element) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if _tag(child) and _tag(child) != "table":
                visit(child)
            if child.tail:
                parts.append(child.tail)

    visit(el)
    return "".join(parts)


def _is_layout_table(table: etree._Element) -> bool:
    """Tables used for page layout: one cell, a cell holding running text, or one column of wrappers."""
    rows = _table_rows(table)
    cells = [c for r in rows for c in _row_cells(r)]
    if len(cells) <= 1:
        return True
    one_column = all(len(_row_cells(r)) <= 1 for r in rows)
    for cell in cells:
        has_blocks = any(_tag(d) in _BLOCK_TAGS or _tag(d) == "br" for d in cell.iterdescendants())
        if has_blocks and _cjk_count(_own_text(cell)) > LAYOUT_CELL_CJK:
            return True
        nests_table = any(_tag(d) == "table" for d in cell.iterdescendants())
        if nests_table and (one_column or _has_prose_beside_table(cell)):
            return True
    return False


def _has_prose_beside_table(cell: etree._Element) -> bool:
    """A cell with a nested table plus headings/paragraphs of its own wraps a page section."""
    for d in cell.iterdescendants():
        if _tag(d) in _PROSE_TAGS and not any(_tag(a) == "table" for a in _ancestors_until(d, cell)):
            if _cjk_count(_own_text(d)) >= 4:
                return True
    return False


def _ancestors_until(el: etree._Element, stop: etree._Element) -> list[etree._Element]:
    out = []
    for a in el.iterancestors():
        if a is stop:
            break
        out.append(a)
    return out


# ---------------------------------------------------------------------------------------------------
# cleaning and choosing the article


def _drop(el: etree._Element) -> None:
    """Remove an element but keep its tail text in the parent."""
    if el.getparent() is not None:
        el.drop_tree()


def _clean(root: etree._Element) -> None:
    """Drop scripts, hidden elements, and furniture (menus, link lists, footers) holding little text."""
    for el in list(root.iter(*_JUNK_TAGS)):
        _drop(el)
    measure = _Measure()  # decisions are taken top-down, each on a subtree not yet edited

    def visit(el: etree._Element) -> None:
        for child in list(el):
            if not _tag(child):
                continue
            if _is_hidden(child) or _is_clutter(child, measure):
                _drop(child)
            else:
                visit(child)

    visit(root)


def _is_clutter(el: etree._Element, measure: _Measure) -> bool:
    """Furniture: tagged or named as such, or a list of links; kept if it holds data or much text."""
    tag = _tag(el)
    if tag in ("body", "html", "tr", "td", "th", "tbody", "thead", "tfoot"):
        return False
    stats = measure(el)
    if tag in _CLUTTER_TAGS:
        named = not (tag in ("header", "footer") and _inside(el, "article"))
    else:
        names = _names(el)
        named = any(n.lower() in _CLUTTER_EXACT or _CLUTTER_TOKENS.search(n) for n in names)
    link_list = tag in _LINK_LIST_TAGS and stats.links >= 2 and stats.link_chars >= 0.5 * stats.chars
    if not (named or link_list):
        return False
    return stats.data_tables == 0 and stats.cjk < CLUTTER_KEEP_CJK


def _inside(el: etree._Element, tag: str) -> bool:
    return any(_tag(a) == tag for a in el.iterancestors())


def _choose_container(body: etree._Element, measure: _Measure) -> etree._Element:
    """The element holding the article: descend while one child holds all data tables and most text,
    then climb back over a short lead-in (title, date line) that precedes it in its parent."""
    node = body
    while True:
        total = measure(node)
        if node is not body and _tag(node) == "table" and not measure.is_layout_table(node):
            break
        best, best_stats = None, None
        for child in node:
            if not _tag(child):
                continue
            stats = measure(child)
            if best_stats is None or stats.cjk > best_stats.cjk:
                best, best_stats = child, stats
        if (
            best is None
            or best_stats is None
            or best_stats.cjk == 0
            or best_stats.data_tables < total.data_tables
            or best_stats.cjk < 0.8 * total.cjk
            or (_tag(best) == "table" and not measure.is_layout_table(best))
        ):
            break
        node = best
    core = node
    while node is not body:
        parent = node.getparent()
        if parent is None:
            break
        before, after, seen = 0, 0, False
        for child in parent:
            if child is node:
                seen = True
                continue
            if not _tag(child):
                continue
            n = measure(child).cjk
            if seen:
                after += n
            else:
                before += n
        if parent.text:
            before += _cjk_count(parent.text)
        base = measure(core).cjk
        if after > 30 or before > min(150, max(60, base // 4)):
            break
        node = parent
    return node


# ---------------------------------------------------------------------------------------------------
# walking: paragraphs and grids


def _span(value: str | None, limit: int) -> int:
    if not value:
        return 1
    match = re.match(r"\s*(\d+)", value)
    if not match:
        return 1
    return max(0, min(int(match.group(1)), limit))


class _Walker:
    """Turns a subtree into blocks in document order."""

    def __init__(self, measure: _Measure, max_cells: int = DEFAULT_LIMITS.max_table_cells) -> None:
        self._measure = measure
        self._max_cells = max_cells
        self.blocks: list[Block] = []
        self._buf: list[str] = []

    # -- paragraphs
    def _text(self, text: str | None) -> None:
        if text:
            self._buf.append(text)

    def _flush(self) -> None:
        if self._buf:
            line = _clean_line("".join(self._buf))
            self._buf.clear()
            if line:
                self.blocks.append(Paragraph(text=line))

    def walk(self, el: etree._Element) -> None:
        tag = _tag(el)
        if not tag:
            return
        if tag == "br" or tag == "hr":
            self._flush()
            return
        if tag == "table":
            self._flush()
            self._table(el)
            return
        if _is_div_table(el):
            self._flush()
            self._div_table(el)
            return
        if tag == "pre":
            self._flush()
            for line in "".join(el.itertext()).split("\n"):
                self._text(line)
                self._flush()
            return
        block = tag in _BLOCK_TAGS
        if block:
            self._flush()
        self._text(el.text)
        for child in el:
            self.walk(child)
            self._text(child.tail)
        if block:
            self._flush()

    def finish(self) -> list[Block]:
        self._flush()
        return self.blocks

    # -- tables
    def _table(self, table: etree._Element) -> None:
        for caption in (c for c in table if _tag(c) == "caption"):
            self.walk(caption)
        if self._measure.is_layout_table(table):
            for row in _table_rows(table):
                for cell in _row_cells(row):
                    self.walk(cell)
            for child in table:  # stray content libxml2 leaves inside <table>
                if _tag(child) not in ("tr", "thead", "tbody", "tfoot", "caption", "colgroup", "col"):
                    self.walk(child)
            return
        nested: list[etree._Element] = []
        grid = _grid_from_table(table, nested, self._max_cells)
        if grid is not None:
            self.blocks.append(grid)
        for inner in nested:
            self._table(inner)

    def _div_table(self, el: etree._Element) -> None:
        nested: list[etree._Element] = []
        rows: list[list[str | None]] = []
        for row in _div_rows(el):
            rows.append([_cell_text(cell, nested) for cell in row if _tag(cell)])
        width = max((len(r) for r in rows), default=0)
        rows = [r + [""] * (width - len(r)) for r in rows]
        if rows and width:
            self.blocks.append(Grid(rows=rows))
        for inner in nested:
            self._table(inner)


def _cell_text(cell: etree._Element, nested: list[etree._Element]) -> str:
    """A cell's text, one line per block or <br>; tables inside it are set aside for their own grids."""
    lines: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        line = _clean_line("".join(buf))
        buf.clear()
        if line:
            lines.append(line)

    def visit(node: etree._Element) -> None:
        if node.text:
            buf.append(node.text)
        for child in node:
            tag = _tag(child)
            if tag == "table":
                flush()
                nested.append(child)
            elif tag in ("br", "hr"):
                flush()
            elif tag:
                block = tag in _BLOCK_TAGS
                if block:
                    flush()
                visit(child)
                if block:
                    flush()
            if child.tail:
                buf.append(child.tail)

    visit(cell)
    flush()
    return "\n".join(lines)


def _is_width_row(row: etree._Element) -> bool:
    style = (row.get("style") or "").replace(" ", "").lower()
    return row.get("height") == "0" or "height:0" in style or "display:none" in style


def _grid_from_table(table: etree._Element, nested: list[etree._Element], max_cells: int = DEFAULT_LIMITS.max_table_cells) -> Grid | None:
    """Resolve rowspan/colspan with the HTML table model: a slot matrix filled row by row; a table
    whose spans would make more than `max_cells` slots (a span bomb) is refused as it is counted."""
    rows = _table_rows(table)
    n_rows = len(rows)
    if n_rows == 0:
        return None
    origin: dict[tuple[int, int], tuple[str, int, int]] = {}
    covered: set[tuple[int, int]] = set()
    width = 0
    for r, row in enumerate(rows):
        c = 0
        for cell in _row_cells(row):
            while (r, c) in covered:
                c += 1
            colspan = _span(cell.get("colspan"), 1000) or 1
            rowspan = _span(cell.get("rowspan"), 65534)
            if rowspan == 0:  # rowspan="0": to the end of the table
                rowspan = n_rows - r
            rowspan = max(1, min(rowspan, n_rows - r))
            if len(covered) + rowspan * colspan > max_cells or (r + 1) * max(width, c + colspan) > max_cells:
                raise over("an HTML table spans", max(len(covered) + rowspan * colspan, (r + 1) * max(width, c + colspan)), "max_table_cells", max_cells, "cells", more=True)
            origin[(r, c)] = (_cell_text(cell, nested), rowspan, colspan)
            for dr in range(rowspan):
                for dc in range(colspan):
                    covered.add((r + dr, c + dc))
            c += colspan
            width = max(width, c)
    if width == 0:
        return None
    if n_rows * width > max_cells:
        raise over("an HTML table spans", n_rows * width, "max_table_cells", max_cells, "cells")
    grid_rows: list[list[str | None]] = [[""] * width for _ in range(n_rows)]
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for (r, c), (_, rowspan, colspan) in origin.items():
        for dr in range(rowspan):
            for dc in range(colspan):
                grid_rows[r + dr][c + dc] = None
    for (r, c), (text, rowspan, colspan) in origin.items():
        grid_rows[r][c] = text
        if rowspan > 1 or colspan > 1:
            spans[(r, c)] = (rowspan, colspan)
    # Word-exported pages end tables with an invisible row of empty width-setting cells; a visible
    # row of empty cells is a table row left blank (e.g. 表四 with no cases) and stays
    while len(grid_rows) > 1 and all(v == "" for v in grid_rows[-1]) and _is_width_row(rows[len(grid_rows) - 1]):
        grid_rows.pop()
    return Grid(rows=grid_rows, spans=spans)


# -- tables built from <div>s (display:table or class names), best effort


def _is_row(el: etree._Element) -> bool:
    if not _tag(el) or _tag(el) == "table":
        return False
    if _ROW_STYLE.search(el.get("style", "")):
        return True
    return any(_ROW_NAME.search(n) for n in _names(el))


def _div_rows(el: etree._Element) -> list[list[etree._Element]]:
    rows: list[list[etree._Element]] = []
    for child in el:
        if not _tag(child):
            continue
        if _is_row(child):
            rows.append([c for c in child if _tag(c)])
        elif _tag(child) in ("thead", "tbody") or any(_TABLE_NAME.search(n) for n in _names(child)):
            rows.extend(_div_rows(child))  # a header/body group inside the div table
    return rows


def _is_div_table(el: etree._Element) -> bool:
    if _tag(el) in ("table", "tr", "td", "th", "tbody", "thead", "tfoot", "body", "html"):
        return False
    marked = bool(_TABLE_STYLE.search(el.get("style", ""))) or any(_TABLE_NAME.search(n) for n in _names(el))
    if not marked:
        return False
    rows = _div_rows(el)
    if len(rows) < 2 or max(len(r) for r in rows) < 2:
        return False
    # running text in a cell means a layout wrapper, not data
    return all(_cjk_count(_own_text(c)) <= LAYOUT_CELL_CJK for r in rows for c in r)


# ---------------------------------------------------------------------------------------------------
# entry point


def _title_text(root: etree._Element) -> str:
    title = root.find(".//title")
    if title is None:
        return ""
    text = _clean_line(title.text_content())
    # "Article title - Site name" / "Article title_Site": the article's title comes first
    parts = [p.strip() for p in re.split(r"\s[-|–—]\s|_|\|", text) if _cjk_count(p) >= 4]
    return parts[0] if parts else ""


def _parse(text: str) -> etree._Element:
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True)
    root = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    return root


def read_html(path: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> Document:
    """Read a saved HTML page into a Document of the article's paragraphs and grids."""
    if len(data) > limits.max_html_mb * 2**20:
        raise over("the web page is", len(data) / 2**20, "max_html_mb", limits.max_html_mb, "MB")
    text, _codec, clean = decode_html(data)
    if not text.strip():
        raise ReadError("the HTML page is empty", "empty")
    try:
        root = _parse(text)
    except (etree.ParserError, ValueError) as exc:
        raise ReadError(f"cannot parse the HTML page: {exc}", "corrupt") from None
    depth = _depth(root)
    if depth > limits.max_html_depth:
        raise over("the HTML page nests elements", depth, "max_html_depth", limits.max_html_depth, "levels deep", more=depth >= 2048)
    # the walks below recurse once or twice per level: give them the stack a deep page needs
    return _with_deep_stack(lambda: _read_tree(path, root, clean, limits), depth)


def _read_tree(path: str, root: etree._Element, clean: bool, limits: Limits) -> Document:
    title = _title_text(root)
    body = root.find("body")
    if body is None:
        body = root
    _clean(body)
    measure = _Measure()
    container = _choose_container(body, measure)
    walker = _Walker(measure, limits.max_table_cells)
    walker.walk(container)
    blocks = walker.finish()
    doc = Document(path=path, format="html", pages=None, title=title)
    if container is not body and title and _cjk_count(title) >= 4:
        head = " ".join(b.text for b in blocks[:5] if isinstance(b, Paragraph))
        if _squash(title) not in _squash(head):
            blocks.insert(0, Paragraph(text=title))
    doc.blocks = blocks
    if not clean:
        doc.notes.append("无法确定网页的文字编码，部分字符已被替换")
    if not blocks:
        raise ReadError("the HTML page has no text (it may be filled in by JavaScript)", "empty")
    return doc


def read_mht(path: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> Document:
    """A web page saved as one file (.mht / .mhtml, MIME multipart/related): read its HTML part."""
    import email
    import email.policy

    message = email.message_from_bytes(data, policy=email.policy.compat32)
    for part in message.walk():
        if part.get_content_type() != "text/html":
            continue
        payload = part.get_payload(decode=True) or b""
        charset = (part.get_content_charset() or "").lower()
        if charset:
            codec = "gb18030" if charset in ("gb2312", "gbk", "gb18030", "x-gbk") else charset
            try:
                payload = "\ufeff".encode() + payload.decode(codec).encode("utf-8")  # BOM: read as UTF-8
            except (LookupError, UnicodeDecodeError):
                pass  # leave it to the page's own declaration and detection
        doc = read_html(path, payload, limits)
        doc.format = "mht"
        return doc
    raise ReadError("an MHT web archive without an HTML page", "corrupt")


def _squash(text: str) -> str:
    return "".join(text.split())


def _depth(root: etree._Element) -> int:
    """How deep elements nest (libxml2 itself stops nesting at 2,048 levels with huge_tree)."""
    depth = deepest = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    return deepest


def _with_deep_stack(fn, depth: int):
    """Run fn with room for `depth` levels of recursion: in a thread with a large stack when the page
    is deeper than the default recursion limit allows (≈ 300 levels), else directly."""
    import sys
    import threading

    needed = 8 * depth + 1000
    if needed <= sys.getrecursionlimit():
        return fn()
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            result["error"] = exc

    old_limit, old_size = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(max(old_limit, needed))
    try:
        threading.stack_size(min(512, 64 + depth // 8) * 2**20)
        worker = threading.Thread(target=run, name="extractor-html")
        worker.start()
    finally:
        threading.stack_size(old_size)
    worker.join()
    sys.setrecursionlimit(old_limit)
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]
