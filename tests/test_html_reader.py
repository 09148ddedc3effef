"""The HTML reader on real portal pages and on small pages built here for one behaviour each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.document import Document, Grid, Paragraph
from extractor.readers import read
from extractor.readers.html import decode_html, read_html

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"


def _page(body: str, head: str = '<meta charset="utf-8">') -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>t</title></head><body>{body}</body></html>"


def _read(html: str, encoding: str = "utf-8") -> Document:
    return read_html("page.html", html.encode(encoding))


def _grids(doc: Document) -> list[Grid]:
    return list(doc.grids())


def _texts(doc: Document) -> list[str]:
    return [p.text for p in doc.paragraphs()]


# ---------------------------------------------------------------------------------------------------
# real pages


@pytest.mark.parametrize(
    ("name", "shapes"),
    [
        ("pingtan2019.html", [(18, 4), (26, 10), (4, 15)]),
        ("pingtan2020.html", [(18, 4), (26, 10), (4, 15)]),
        ("pingtan2021.html", [(14, 4), (28, 10), (4, 15)]),
        ("pingtan2022.html", [(14, 4), (28, 10), (4, 15)]),
    ],
)
def test_pingtan_grids(name: str, shapes: list[tuple[int, int]]) -> None:
    doc = read(str(REAL / name))
    assert doc.format == "html" and doc.pages is None and doc.sha256
    grids = _grids(doc)
    assert [(g.n_rows, g.n_cols) for g in grids] == shapes
    t2, t3, t4 = grids
    # 表二: section rows span the whole width
    assert t2.rows[0] == ["第二十条第（一）项", None, None, None]
    assert t2.spans[(0, 0)] == (1, 4)
    assert t2.rows[1][1] == ("本年新\n制作数量" if name < "pingtan2021" else "本年制发件数")
    # 表三: three header rows; the corner cell covers 3x3, the result group spans the data rows
    assert t3.rows[0][0].startswith("（本列数据的勾稽关系")
    assert t3.spans[(0, 0)] == (3, 3)
    assert t3.rows[0][3] == "申请人情况" and t3.spans[(0, 3)] == (1, 7)
    assert t3.rows[1][3] == "自然人" and t3.spans[(1, 3)] == (2, 1)
    assert t3.rows[1][4] == "法人或其他组织" and t3.spans[(1, 4)] == (1, 5)
    assert t3.rows[2][3] is None and t3.rows[2][4:9] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    assert t3.rows[5][0] == "三、本年度办理结果"
    assert t3.spans[(5, 0)] == (t3.n_rows - 6, 1)
    assert t3.rows[7][1] == "（三）不予公开" and t3.spans[(7, 1)] == (8, 1)
    assert t3.rows[-1][0] == "四、结转下年度继续办理" and t3.rows[-1][1:3] == [None, None]
    # 表四: 2 header levels over 15 value slots
    assert t4.rows[0][0] == "行政复议" and t4.spans[(0, 0)] == (1, 5)
    assert t4.rows[0][5] == "行政诉讼" and t4.spans[(0, 5)] == (1, 10)
    assert t4.rows[1][5] == "未经复议直接起诉" and t4.rows[1][10] == "复议后起诉"
    assert len(t4.rows[3]) == 15 and all(v is not None and v.lstrip("-").isdigit() for v in t4.rows[3])


def test_pingtan_known_cells_and_order() -> None:
    doc = read(str(REAL / "pingtan2021.html"))
    t2, t3, t4 = _grids(doc)
    assert t2.rows[3] == ["行政规范性文件", "69", "3", "665"]
    assert t2.rows[6] == ["行政许可", "2293", None, None]
    assert t3.rows[3][3:] == ["64", "0", "0", "2", "0", "4", "70"]
    assert t3.rows[-2][1] == "（七）总计" and t3.rows[-2][3:] == ["63", "0", "0", "2", "0", "4", "69"]
    assert t4.rows[3][:5] == ["1", "0", "2", "0", "3"]
    # reading order: each table comes right after its section heading
    kinds = ["G" if isinstance(b, Grid) else b.text[:2] for b in doc.blocks]
    assert kinds.index("二、") + 1 == kinds.index("G")
    assert doc.blocks[0] == Paragraph(text="平潭综合实验区2021年度政府信息公开工作年度报告")
    assert any(t.startswith("六、其他需要报告的事项") for t in _texts(doc))


# ---------------------------------------------------------------------------------------------------
# table model


def test_rowspan_colspan_in_header_and_data_rows() -> None:
    html = _page(
        """<table>
        <thead>
          <tr><th rowspan="2">项目</th><th colspan="2">数量</th><th rowspan="2">备注</th></tr>
          <tr><th>本年</th><th>上年</th></tr>
        </thead>
        <tbody>
          <tr><td rowspan="3">甲类</td><td>1</td><td>2</td><td rowspan="2">合并备注</td></tr>
          <tr><td colspan="2">3</td></tr>
          <tr><td>4</td><td rowspan="5">5</td><td>尾</td></tr>
          <tr><td>短行</td></tr>
        </tbody></table>"""
    )
    (grid,) = _grids(_read(html))
    assert grid.rows == [
        ["项目", "数量", None, "备注"],
        [None, "本年", "上年", None],
        ["甲类", "1", "2", "合并备注"],
        [None, "3", None, None],
        [None, "4", "5", "尾"],
        ["短行", "", None, ""],  # rowspan clamped to the table; missing trailing cell is a real empty slot
    ]
    assert grid.spans == {
        (0, 0): (2, 1),
        (0, 1): (1, 2),
        (0, 3): (2, 1),
        (2, 0): (3, 1),
        (2, 3): (2, 1),
        (3, 1): (1, 2),
        (4, 2): (2, 1),
    }


def test_cell_text_lines_and_empty_cells() -> None:
    html = _page(
        """<table border="1">
        <tr><td><p>本年新</p><p>制作数量</p></td><td>对外公开<br>总数量</td><td>&nbsp;</td></tr>
        <tr><td><p class="MsoNormal"><span>&nbsp;12&nbsp;</span></p></td><td> \u3000 </td><td><p><o:p></o:p></p></td></tr>
        </table>"""
    )
    (grid,) = _grids(_read(html))
    assert grid.rows == [["本年新\n制作数量", "对外公开\n总数量", ""], ["12", "", ""]]
    assert grid.spans == {}


def test_nested_table_becomes_its_own_grid() -> None:
    html = _page(
        """<p>表前</p>
        <table><tr><td>外一</td><td>外二</td></tr>
        <tr><td>说明<table><tr><td>内一</td><td>内二</td></tr><tr><td>1</td><td>2</td></tr></table>后记</td>
        <td>3</td></tr></table>
        <p>表后</p>"""
    )
    doc = _read(html)
    outer, inner = _grids(doc)
    assert outer.rows == [["外一", "外二"], ["说明\n后记", "3"]]
    assert inner.rows == [["内一", "内二"], ["1", "2"]]
    assert [type(b).__name__ for b in doc.blocks] == ["Paragraph", "Grid", "Grid", "Paragraph"]


def test_layout_table_wrapping_the_article_is_walked_through() -> None:
    long_text = "本机关认真贯彻落实政府信息公开条例，依法做好主动公开和依申请公开工作。" * 8
    html = _page(
        f"""<table width="900"><tr><td>
          <h2>某机关2023年政府信息公开工作年度报告</h2>
          <p>一、总体情况</p><p>{long_text}</p>
          <table border="1"><tr><td>信息内容</td><td>本年制发件数</td></tr><tr><td>规章</td><td>0</td></tr></table>
          <p>二、其他需要报告的事项</p>
        </td></tr></table>
        <table><tr><td><p>只有一个单元格的表格</p></td></tr></table>"""
    )
    doc = _read(html)
    assert _texts(doc) == [
        "某机关2023年政府信息公开工作年度报告",
        "一、总体情况",
        long_text,
        "二、其他需要报告的事项",
        "只有一个单元格的表格",
    ]
    (grid,) = _grids(doc)
    assert grid.rows == [["信息内容", "本年制发件数"], ["规章", "0"]]
    assert isinstance(doc.blocks[3], Grid)


def test_div_table() -> None:
    html = _page(
        """<p>表四</p><div class="data-table">
        <div class="tr"><div class="td">行政复议</div><div class="td">行政诉讼</div></div>
        <div class="tr"><div class="td">1</div><div class="td">2</div></div>
        <div class="tr"><div class="td">3</div></div></div>"""
    )
    doc = _read(html)
    (grid,) = _grids(doc)
    assert grid.rows == [["行政复议", "行政诉讼"], ["1", "2"], ["3", ""]]


# ---------------------------------------------------------------------------------------------------
# paragraphs


def test_paragraph_blocks_and_br_lines() -> None:
    html = _page(
        """<div>标题前的文字<h3>一、总体情况</h3>尾随文字</div>
        <p>第一行<br>第二行<br/><br/>  第三行&nbsp;&nbsp;有空格 </p>
        <p>&nbsp;</p><p>　　</p>
        <ul><li>甲项</li><li>乙项 <b>加粗</b></li></ul>
        <p>政府信息
        公开</p>"""
    )
    assert _texts(_read(html)) == [
        "标题前的文字",
        "一、总体情况",
        "尾随文字",
        "第一行",
        "第二行",
        "第三行 有空格",
        "甲项",
        "乙项 加粗",
        "政府信息公开",
    ]


PORTAL = """<html><head>{meta}<title>某某区2023年政府信息公开工作年度报告_某某区人民政府</title>
<script>document.write("<p>脚本文字</p>");</script><style>p {{ color: red }}</style></head><body>
<div class="header"><div class="logo">某某区人民政府门户网站</div>
<ul class="menu"><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li><li><a href="/bs">办事服务</a></li></ul></div>
<div class="location">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a> &gt; <a href="/nb">年度报告</a></div>
<table width="1000"><tr>
<td width="200"><div class="leftbox"><h3>栏目导航</h3><ul><li><a href="/a">政府信息公开指南</a></li>
<li><a href="/b">政府信息公开制度</a></li><li><a href="/c">法定主动公开内容</a></li></ul></div></td>
<td width="800"><div class="article">
  <div class="article-title"><h2>某某区2023年政府信息公开工作年度报告</h2></div>
  <div class="info">发布日期：2024-01-18　来源：区政府办公室</div>
  <div id="zoom">
   <p>　　本报告根据《中华人民共和国政府信息公开条例》要求编制，全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。本报告所列数据的统计期限自2023年1月1日起至2023年12月31日止。</p>
   <p>二、主动公开政府信息情况</p>
   <table border="1"><tr><td colspan="4">第二十条第（一）项</td></tr>
    <tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>
    <tr><td>规章</td><td>&nbsp;</td><td>&nbsp;</td><td>0</td></tr>
    <tr><td>行政规范性文件</td><td>5</td><td>1</td><td>30</td></tr></table>
   <p>六、其他需要报告的事项</p>
  </div>
  <div class="bdsharebuttonbox"><a href="#" class="bds_weixin">微信</a><a href="#" class="bds_tsina">微博</a></div>
  <div class="prevnext"><p>上一篇：<a href="/x1">某某区2022年政府信息公开工作年度报告</a></p>
  <p>下一篇：<a href="/x2">关于某某事项的通知</a></p></div>
  <div class="xgwz"><h4>相关文章</h4><ul><li><a href="/r1">某某区2021年政府信息公开工作年度报告</a> 2022-01-20</li>
  <li><a href="/r2">某某区2020年政府信息公开工作年度报告</a> 2021-01-20</li></ul></div>
</div></td></tr></table>
<div class="footer"><p>主办单位：某某区人民政府办公室　承办单位：某某区大数据中心</p>
<p>地址：某某市某某区人民路1号 <a href="http://beian.miit.gov.cn">某ICP备12345678号</a></p></div>
<div style="display:none">隐藏的统计代码</div>
</body></html>"""

PORTAL_TEXTS = [
    "某某区2023年政府信息公开工作年度报告",
    "发布日期：2024-01-18 来源：区政府办公室",
    PORTAL.split("<p>　　")[1].split("</p>")[0],
    "二、主动公开政府信息情况",
    "六、其他需要报告的事项",
]


def _check_portal(doc: Document) -> None:
    assert _texts(doc) == PORTAL_TEXTS
    (grid,) = _grids(doc)
    assert grid.rows[2] == ["规章", "", "", "0"]
    assert grid.rows[3] == ["行政规范性文件", "5", "1", "30"]
    assert isinstance(doc.blocks[4], Grid)


def test_navigation_clutter_is_dropped() -> None:
    doc = _read(PORTAL.format(meta='<meta charset="utf-8">'))
    _check_portal(doc)
    text = "\n".join(_texts(doc))
    for clutter in ("首页", "栏目导航", "当前位置", "上一篇", "相关文章", "微信", "主办单位", "隐藏", "脚本"):
        assert clutter not in text


@pytest.mark.parametrize(
    "meta",
    [
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
        '<meta charset="GBK">',
        "",  # no declaration: detected from the bytes
    ],
)
def test_gb18030_bytes(meta: str) -> None:
    # 䶮 (CJK extension A) and € are outside GB2312/GBK: a page labelled gb2312 must still decode them
    html = PORTAL.format(meta=meta).replace("<p>六、", "<p>䶮€</p><p>六、")
    data = html.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")
    doc = read_html("page.htm", data)
    texts = _texts(doc)
    assert texts.pop(-2) == "䶮€"
    assert texts == PORTAL_TEXTS
    assert not doc.notes


def test_encoding_order() -> None:
    text = "<p>政府信息公开</p>"
    assert decode_html(b"\xef\xbb\xbf" + text.encode("utf-8"))[:2] == (text, "utf-8")
    # a stale gb2312 label on a page saved as UTF-8
    stale = ('<meta charset="gb2312">' + text).encode("utf-8")
    assert decode_html(stale)[1] == "utf-8"
    # a utf-8 label on GB bytes: the label is wrong, detection decides
    wrong = ('<meta charset="utf-8">' + text * 20).encode("gb18030")
    decoded, codec, clean = decode_html(wrong)
    assert codec == "gb18030" and text in decoded and clean


def test_article_beside_unnamed_sidebar_gets_the_page_title() -> None:
    side = "<p>" + "领导简介：某某同志，负责区政府全面工作，分管审计、机构编制等方面工作。" * 6 + "</p>"
    body = "".join(f"<p>{i}、本机关依法依规做好政府信息公开工作，持续提升公开质量和实效。</p>" for i in range(1, 40))
    html = _page(
        f"""<div class="wrap"><div class="l">{side}</div>
        <div class="r"><div class="content">{body}
        <table border="1"><tr><td>规章</td><td>0</td></tr><tr><td>行政规范性文件</td><td>3</td></tr></table>
        </div></div></div><div class="copy-info">网站主办：某某区人民政府办公室</div>""",
        head='<meta charset="utf-8"><title>某某区2023年政府信息公开工作年度报告 - 某某区人民政府</title>',
    )
    doc = _read(html)
    texts = _texts(doc)
    assert texts[0] == "某某区2023年政府信息公开工作年度报告"
    assert texts[1].startswith("1、") and texts[-1].startswith("39、")
    assert not any("领导简介" in t or "网站主办" in t for t in texts)
    assert len(_grids(doc)) == 1


def test_page_without_text_is_a_read_error() -> None:
    from extractor.document import ReadError

    with pytest.raises(ReadError):
        _read(_page('<div id="app"></div><script>render()</script>'))


def test_mht_web_archive_reads_its_html_part(tmp_path):
    """IE/Edge 'save as single file' (.mht): MIME multipart/related with the page quoted-printable in GBK."""
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    from extractor import parse

    page = (REAL / "pingtan2021.html").read_text(encoding="utf-8")
    archive = MIMEMultipart("related")
    html_part = MIMEText(page.replace("utf-8", "gb2312").replace("UTF-8", "gb2312"), "html", "gb18030")
    archive.attach(html_part)
    path = tmp_path / "report.mht"
    path.write_bytes(archive.as_bytes())
    report = parse(path)
    expected = json.loads((REAL / "pingtan2021.truth.json").read_text(encoding="utf-8"))["cells"]
    got = report.values()
    assert report.format == "mht" and report.agency == "平潭综合实验区"
    assert [code for code, value in expected.items() if got.get(code) != value] == []
