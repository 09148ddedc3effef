"""The DOCX reader against its oracle, python-docx: the same Grid as `row.cells` lays out (texts, merged
slots, spans, nested tables) and the same paragraph text as `CT_P.text`, on every fixture DOCX, on
tables the tests build with python-docx's own merge, and on hand-written XML with the irregular grids
and run contents real files have; the package's main part and title. The reader parses with plain
lxml, python-docx with its element classes: each element is compared as both parse it."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.table import Table, _Cell
from lxml import etree

from extractor.document import Grid, ReadError
from extractor.readers import docx as reader
from extractor.readers.docx import _cell_text, _paragraph_text, _table_grid, read_docx
from tests.builders import build_2019_docx, build_2021_docx, consistent_values

ROOT = Path(__file__).resolve().parent.parent


def reference_grid(table: Table) -> tuple[Grid, list]:
    """The Grid as python-docx's layout gives it (the reader's former implementation)."""
    rows: list[list[str | None]] = []
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    origin: dict = {}
    nested: list = []
    for r, row in enumerate(table.rows):
        out: list[str | None] = []
        try:
            cells = row.cells
        except (IndexError, ValueError):
            cells = [_Cell(tc, table) for tc in row._tr.tc_lst]
        for c, cell in enumerate(cells):
            key = cell._tc
            if key in origin:
                r0, c0 = origin[key]
                rs, cs = spans.get((r0, c0), (1, 1))
                spans[(r0, c0)] = (max(rs, r - r0 + 1), max(cs, c - c0 + 1))
                out.append(None)
                continue
            origin[key] = (r, c)
            out.append(_cell_text(cell._tc))
            nested.extend(cell._tc.iterchildren(qn("w:tbl")))
        rows.append(out)
    return Grid(rows=rows, spans={k: v for k, v in spans.items() if v != (1, 1)}), nested


def plain(element):
    """The element as `read_docx` parses it."""
    return reader.parse_xml(etree.tostring(element))


def assert_same(tbl) -> None:
    pending = [(plain(tbl), tbl)]
    while pending:
        element, oracle = pending.pop(0)
        ours, nested = _table_grid(element)
        theirs, their_nested = reference_grid(Table(oracle, None))
        assert (ours.rows, ours.spans) == (theirs.rows, theirs.spans)
        assert [etree.tostring(t) for t in nested] == [etree.tostring(t) for t in their_nested]
        pending.extend(zip(nested, their_nested, strict=True))


def fixture_docx() -> list[Path]:
    return sorted(p for p in (ROOT / "fixtures").rglob("*.docx"))


def test_every_fixture_docx_reads_as_python_docx_lays_it_out():
    files = fixture_docx()
    assert len(files) >= 70
    tables = 0
    for path in files:
        for tbl in docx.Document(str(path)).element.body.iter(qn("w:tbl")):
            assert_same(tbl)
            tables += 1
    assert tables > 200


@pytest.mark.parametrize("build", [build_2019_docx, build_2021_docx])
def test_merged_tables_built_with_python_docx(tmp_path, build):
    template = "2019" if build is build_2019_docx else "2021"
    path = build(tmp_path / "r.docx", consistent_values(template))
    tbls = list(docx.Document(str(path)).element.body.iter(qn("w:tbl")))
    assert tbls
    for tbl in tbls:
        assert_same(tbl)
    grid, _ = _table_grid(tbls[-1])
    assert grid.spans, "the built report's tables have merged cells"


def _table(rows: str) -> object:
    return parse_xml(f"<w:tbl {nsdecls('w')}>{rows}</w:tbl>")


def _tc(text: str, props: str = "") -> str:
    pr = f"<w:tcPr>{props}</w:tcPr>" if props else ""
    return f"<w:tc>{pr}<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"


SPAN2 = '<w:gridSpan w:val="2"/>'
CONTINUE = "<w:vMerge/>"
RESTART = '<w:vMerge w:val="restart"/>'
CONTINUE_EXPLICIT = '<w:vMerge w:val="continue"/>'
SPAN0 = '<w:gridSpan w:val="0"/>'
GRID_BEFORE = '<w:trPr><w:gridBefore w:val="1"/></w:trPr>'

IRREGULAR = {
    "vertical merge over three rows, spanning two columns": (
        f"<w:tr>{_tc('a', SPAN2 + RESTART)}{_tc('b')}</w:tr>"
        f"<w:tr>{_tc('', SPAN2 + CONTINUE)}{_tc('c')}</w:tr>"
        f"<w:tr>{_tc('', SPAN2 + CONTINUE_EXPLICIT)}{_tc('d')}</w:tr>"
    ),
    "a row that starts late (gridBefore)": (
        f"<w:tr>{_tc('a')}{_tc('b', RESTART)}</w:tr>"
        f"<w:tr>{GRID_BEFORE}{_tc('', CONTINUE)}</w:tr>"
    ),
    "a continuation with nothing above it": f"<w:tr>{_tc('x', CONTINUE)}{_tc('y')}</w:tr><w:tr>{_tc('z')}{_tc('w')}</w:tr>",
    "a continuation whose column has no cell above": (
        f"<w:tr>{_tc('a', SPAN2)}</w:tr><w:tr>{_tc('b')}{_tc('', CONTINUE)}</w:tr>"
    ),
    "a cell spanning no columns": f"<w:tr>{_tc('a', SPAN0)}{_tc('b')}</w:tr><w:tr>{_tc('c')}</w:tr>",
    "rows of different widths": f"<w:tr>{_tc('a')}{_tc('b')}{_tc('c')}</w:tr><w:tr>{_tc('d', SPAN2)}</w:tr>",
}


@pytest.mark.parametrize("name", sorted(IRREGULAR))
def test_irregular_grids(name):
    assert_same(_table(IRREGULAR[name]))


def test_nested_table_is_read_after_its_table():
    inner = f"<w:tbl>{'<w:tr>' + _tc('inner') + '</w:tr>'}</w:tbl>"
    tbl = _table(f"<w:tr><w:tc><w:p><w:r><w:t>outer</w:t></w:r></w:p>{inner}</w:tc></w:tr>")
    grid, nested = _table_grid(tbl)
    assert grid.rows == [["outer"]]
    assert [_table_grid(t)[0].rows for t in nested] == [[["inner"]]]
    assert_same(tbl)


def test_every_fixture_paragraph_has_python_docx_text():
    paragraphs = 0
    for path in fixture_docx():
        for p in docx.Document(str(path)).element.body.iter(qn("w:p")):
            assert _paragraph_text(plain(p)) == p.text
            paragraphs += 1
    assert paragraphs > 5000


RUN_CONTENTS = [
    "<w:r><w:t>一、</w:t><w:tab/><w:t xml:space='preserve'> 总体情况 </w:t></w:r>",
    "<w:r><w:t>甲</w:t><w:br/><w:t>乙</w:t><w:br w:type='page'/><w:t>丙</w:t><w:br w:type='column'/></w:r>",
    "<w:r><w:t>第</w:t><w:cr/><w:t>1</w:t><w:noBreakHyphen/><w:t>2</w:t><w:ptab w:relativeTo='margin' w:alignment='left' w:leader='none'/></w:r>",
    "<w:hyperlink r:id='rId9'><w:r><w:t>政府网站</w:t></w:r><w:r><w:t>首页</w:t></w:r></w:hyperlink><w:r><w:t>。</w:t></w:r>",
    "<w:pPr><w:tabs><w:tab w:val='left' w:pos='720'/></w:tabs></w:pPr><w:r><w:rPr><w:b/></w:rPr><w:t/></w:r>"
    "<w:r><w:fldChar w:fldCharType='begin'/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>"
    "<w:ins><w:r><w:t>插入</w:t></w:r></w:ins><w:r><w:sym w:char='F0B7'/><w:t>尾</w:t></w:r>",
]


@pytest.mark.parametrize("runs", RUN_CONTENTS)
def test_paragraph_text_of_run_contents(runs):
    p = parse_xml(f"<w:p {nsdecls('w', 'r')}>{runs}</w:p>")
    assert _paragraph_text(plain(p)) == p.text


# ---------------------------------------------------------------- the package: main part and title


def _rezip(source: Path, target: Path, rename: dict[str, str], edit: dict[str, tuple[bytes, bytes]]) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in edit:
                old, new = edit[info.filename]
                data = data.replace(old, new)
            zout.writestr(rename.get(info.filename, info.filename), data)
    return target


GOOD = ROOT / "fixtures" / "corpus" / "c002_2021_plain.docx"


def test_title_comes_from_the_core_properties(tmp_path):
    document = docx.Document(str(GOOD))
    document.core_properties.title = "某某区人民政府2022年政府信息公开工作年度报告"
    document.save(str(tmp_path / "t.docx"))
    doc = read_docx("t.docx", (tmp_path / "t.docx").read_bytes())
    assert doc.title == "某某区人民政府2022年政府信息公开工作年度报告"
    assert read_docx("g.docx", GOOD.read_bytes()).title == ""


def test_main_part_is_found_by_its_relationship(tmp_path):
    """Producers may name the main part otherwise; the package's relationships say which it is."""
    moved = _rezip(
        GOOD, tmp_path / "moved.docx", {"word/document.xml": "word/main.xml"},
        {"_rels/.rels": (b"word/document.xml", b"/word/main.xml"), "[Content_Types].xml": (b"/word/document.xml", b"/word/main.xml")},
    )  # fmt: skip
    ours, original = read_docx("moved.docx", moved.read_bytes()), read_docx("good.docx", GOOD.read_bytes())
    assert [dataclasses.asdict(b) for b in ours.blocks] == [dataclasses.asdict(b) for b in original.blocks]
    assert len(ours.blocks) > 10


def test_a_package_without_a_word_body_is_corrupt(tmp_path):
    sheet = _rezip(GOOD, tmp_path / "sheet.docx", {}, {"word/document.xml": (b"w:body>", b"w:notbody>")})
    with pytest.raises(ReadError) as caught:
        read_docx("sheet.docx", sheet.read_bytes())
    assert caught.value.kind == "corrupt" and "not a Word document" in str(caught.value)
