#!/usr/bin/env python3
"""Generate the labelled synthetic corpus in fixtures/corpus/ (DOCX + PDF + truth files).

Why: the real reports we have are few; the extractor needs many documents laid out the way agencies
lay them out (the official 2021 template's merged cells, the 2019 layout, split/borderless tables,
odd zero markers, typos, seeded arithmetic errors) with an exact, machine-checkable truth.

Everything is derived from one `random.Random(seed)`, so the DOCX and truth files are byte-identical
for a given seed. PDFs are rendered by LibreOffice and are *not* byte-stable (timestamps), which is
why they are committed rather than regenerated in CI.

Usage: python scripts/make_fixtures.py [--seed N] [--out DIR] [--no-pdf]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "fixtures" / "templates" / "template2021_blank.docx"
DEFAULT_OUT = ROOT / "fixtures" / "corpus"
DEFAULT_SEED = 20240917
GENERATOR = "scripts/make_fixtures.py"

Number = int | float

# --------------------------------------------------------------------------------------------------
# Canonical structure (labels as printed by the official templates, codes from cells.csv)
# --------------------------------------------------------------------------------------------------

COLS = ["natural_person", "business", "research", "nonprofit", "legal_services", "other_org", "total"]
APPLICANTS = COLS[:6]
T4_GROUPS = ["review", "suit_direct", "suit_after_review"]
T4_PARTS = ["upheld", "corrected", "other", "pending", "total"]

LEVEL1_RESULT = "三、本年度办理结果"
T3_CORNER = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


@dataclass(frozen=True)
class T3Row:
    """One data row of 表三: `kind` top (label spans 3 cols), l2 (spans 2) or l3 (sub-row of a group)."""

    code: str
    kind: str
    label: str
    group: str = ""


T3_GROUPS = {
    "denied": "（三）不予公开",
    "unavailable": "（四）无法提供",
    "not_processed": "（五）不予处理",
    "other": "（六）其他处理",
}

T3_ROWS_COMMON_HEAD = [
    T3Row("new", "top", "一、本年新收政府信息公开申请数量"),
    T3Row("carried_in", "top", "二、上年结转政府信息公开申请数量"),
    T3Row("granted", "l2", "（一）予以公开"),
    T3Row("partial", "l2", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    T3Row("denied.state_secret", "l3", "1.属于国家秘密", "denied"),
    T3Row("denied.law_prohibited", "l3", "2.其他法律行政法规禁止公开", "denied"),
    T3Row("denied.three_safety", "l3", "3.危及“三安全一稳定”", "denied"),
    T3Row("denied.third_party", "l3", "4.保护第三方合法权益", "denied"),
    T3Row("denied.internal", "l3", "5.属于三类内部事务信息", "denied"),
    T3Row("denied.process", "l3", "6.属于四类过程性信息", "denied"),
    T3Row("denied.enforcement", "l3", "7.属于行政执法案卷", "denied"),
    T3Row("denied.query", "l3", "8.属于行政查询事项", "denied"),
    T3Row("unavailable.not_held", "l3", "1.本机关不掌握相关政府信息", "unavailable"),
    T3Row("unavailable.needs_creation", "l3", "2.没有现成信息需要另行制作", "unavailable"),
    T3Row("unavailable.unclear", "l3", "3.补正后申请内容仍不明确", "unavailable"),
    T3Row("not_processed.petition", "l3", "1.信访举报投诉类申请", "not_processed"),
    T3Row("not_processed.duplicate", "l3", "2.重复申请", "not_processed"),
    T3Row("not_processed.publication", "l3", "3.要求提供公开出版物", "not_processed"),
    T3Row("not_processed.excessive", "l3", "4.无正当理由大量反复申请", "not_processed"),
    T3Row("not_processed.confirmation", "l3", "5.要求行政机关确认或重新出具已获取信息", "not_processed"),
]
T3_OTHER_ONE = [T3Row("other", "l2", "（六）其他处理")]
T3_OTHER_THREE = [
    T3Row("other.no_correction", "l3", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "other"),
    T3Row("other.unpaid_fee", "l3", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "other"),
    T3Row("other.other", "l3", "3.其他", "other"),
]
T3_TAIL = [
    T3Row("total", "l2", "（七）总计"),
    T3Row("carried_over", "top", "四、结转下年度继续办理"),
]
OTHER_SUBROWS = ["other.no_correction", "other.unpaid_fee", "other.other"]


def t3_rows(other_rows: int) -> list[T3Row]:
    """The printed 表三 data rows, in template order."""
    return T3_ROWS_COMMON_HEAD + (T3_OTHER_THREE if other_rows == 3 else T3_OTHER_ONE) + T3_TAIL


def result_rows(rows: list[T3Row]) -> list[str]:
    """Row codes that add up to （七）总计 (the printed leaf rows between 一/二 and （七））."""
    return [r.code for r in rows if r.code not in ("new", "carried_in", "total", "carried_over")]


# 表二 blocks: (title, header labels, [(row label, [codes or None for blank-by-design])])
T2_2021 = [
    ("第二十条第（一）项", ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], [
        ("规章", ["t2.rules.issued", "t2.rules.repealed", "t2.rules.in_force"]),
        ("行政规范性文件", ["t2.normative.issued", "t2.normative.repealed", "t2.normative.in_force"]),
    ]),
    ("第二十条第（五）项", ["信息内容", "本年处理决定数量"], [("行政许可", ["t2.licensing.decisions"])]),
    ("第二十条第（六）项", ["信息内容", "本年处理决定数量"], [
        ("行政处罚", ["t2.penalty.decisions"]),
        ("行政强制", ["t2.coercion.decisions"]),
    ]),
    ("第二十条第（八）项", ["信息内容", "本年收费金额（单位：万元）"], [("行政事业性收费", ["t2.fees.amount"])]),
]
T2_2019 = [
    ("第二十条第（一）项", ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"], [
        ("规章", ["t2.rules.made", "t2.rules.published", "t2.rules.total_published"]),
        ("规范性文件", ["t2.normative.made", "t2.normative.published", "t2.normative.total_published"]),
    ]),
    ("第二十条第（五）项", ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"], [
        ("行政许可", ["t2.licensing.prev_items", "t2.licensing.change", "t2.licensing.decisions"]),
        ("其他对外管理服务事项",
         ["t2.other_services.prev_items", "t2.other_services.change", "t2.other_services.decisions"]),
    ]),
    ("第二十条第（六）项", ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"], [
        ("行政处罚", ["t2.penalty.prev_items", "t2.penalty.change", "t2.penalty.decisions"]),
        ("行政强制", ["t2.coercion.prev_items", "t2.coercion.change", "t2.coercion.decisions"]),
    ]),
    ("第二十条第（八）项", ["信息内容", "上一年项目数量", "本年增/减", ""], [
        ("行政事业性收费", ["t2.fees.prev_items", "t2.fees.change", None]),
    ]),
    ("第二十条第（九）项", ["信息内容", "采购项目数量", "采购总金额", ""], [
        ("政府集中采购", ["t2.procurement.items", "t2.procurement.amount", None]),
    ]),
]

HEADINGS = {
    "overview": ["一、总体情况", "一、 总体情况", "一．总体情况", "一、{year}年政府信息公开工作总体情况"],
    "active": ["二、主动公开政府信息情况", "二、行政机关主动公开政府信息情况", "二、主动公开政府信息的情况"],
    "requests": ["三、收到和处理政府信息公开申请情况", "三、收到和处理政府信息公开的申请情况",
                 "三、行政机关收到和处理政府信息公开申请情况"],
    "review": ["四、政府信息公开行政复议、行政诉讼情况", "四、因政府信息公开工作被申请行政复议、提起行政诉讼情况"],
    "problems": ["五、存在的主要问题及改进情况", "五、政府信息公开工作存在的主要问题及改进情况", "五、存在问题及改进情况",
                 "五、存在的主要问题和改进情况"],
    "other": ["六、其他需要报告的事项", "六、其他需要报告事项"],
}
SECTIONS = list(HEADINGS)

# Label typos and variants seen in real reports (FORMAT.md §2.2, §5.8); keyed by row code.
T3_TYPOS = {
    "denied.law_prohibited": "2.其他法律行政止公开",
    "not_processed.excessive": "4.无正当理由大量反复 申请",
    "denied.state_secret": "1. 属于国家秘密",
    "granted": "(一) 予以公开",
    "denied.three_safety": '3.危及"三安全一稳定"',
    "other.no_correction": "1.申请人无正当理由逾期不补正，行政机关不再处理其政府信息公开申请",
}

CITIES = ["安澜市", "青禾市", "云岭市", "临溪市", "东川市", "石桥市", "白鹭市", "金泽市", "宁远市", "清河市",
          "松阳市", "桐乡市"]
DISTRICTS = ["城关区", "河西区", "江北区", "高新区", "滨湖区", "永安区", "长宁区", "丰泽区", "新城区", "望江区"]
BUREAUS = ["教育局", "民政局", "司法局", "财政局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局",
           "卫生健康委员会", "市场监督管理局", "人力资源和社会保障局", "应急管理局", "农业农村局", "文化广电旅游局",
           "审批服务管理局", "人民政府", "城市管理局", "水务局"]

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


# --------------------------------------------------------------------------------------------------
# Document plan
# --------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """Everything that decides one generated report: layout choices, values, seeded errors."""

    num: int
    template: str  # "2019" | "2021"
    other_rows: int  # 1 | 3
    variant: str
    year: int
    agency: str
    seed: int
    rng: random.Random
    vertical: str = "horizontal"  # horizontal | tbRlV | chars | spaced
    heading_style: str = "style"  # style | bold
    zero_style: str = "0"  # 0 | blank | dash | wu | slash | mixed
    title_break: str = "none"  # none | paragraph | br
    borders: bool = True
    t2_borders: bool = True  # False: 表二 alone printed without ruling lines
    landscape: bool = False
    split: str = ""  # "" | header | noheader
    t4flat: bool = False
    fullwidth: bool = False
    thousands: bool = False
    fees2dec: bool = False
    typos: bool = False
    missing_section: str = ""
    missing_rows: list[str] = field(default_factory=list)
    swap: tuple[str, str] | None = None
    values: dict[str, Number] = field(default_factory=dict)
    seeded: list[str] = field(default_factory=list)  # human notes on seeded errors
    narrative_override: dict[str, int] = field(default_factory=dict)
    pair_of: str = ""  # name of the previous-year document for cross-year pairs
    cross_findings: list[dict[str, Any]] = field(default_factory=list)
    narrative: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return "2019" if self.template == "2019" else ("2021" if self.other_rows == 3 else "2021r1")

    @property
    def name(self) -> str:
        return f"c{self.num:03d}_{self.tag}_{self.variant}"

    def printed_t3_rows(self) -> list[T3Row]:
        rows = [r for r in t3_rows(self.other_rows) if r.code not in self.missing_rows]
        if self.swap:
            a, b = (next(i for i, r in enumerate(rows) if r.code == c) for c in self.swap)
            rows[a], rows[b] = rows[b], rows[a]
        return rows


# --------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------

RESULT_WEIGHTS = {
    "granted": 40, "partial": 8, "denied.state_secret": 1, "denied.law_prohibited": 1, "denied.three_safety": 1,
    "denied.third_party": 2, "denied.internal": 2, "denied.process": 2, "denied.enforcement": 1, "denied.query": 2,
    "unavailable.not_held": 20, "unavailable.needs_creation": 4, "unavailable.unclear": 2,
    "not_processed.petition": 3, "not_processed.duplicate": 3, "not_processed.publication": 1,
    "not_processed.excessive": 1, "not_processed.confirmation": 1, "other": 4,
    "other.no_correction": 2, "other.unpaid_fee": 1, "other.other": 2,
}


def gen_t3(plan: Plan, carried_in: dict[str, int] | None, force_rows: list[str]) -> dict[str, int]:
    """Consistent 表三 values: every identity of FORMAT.md §3.1 holds."""
    rng = plan.rng
    rows = t3_rows(plan.other_rows)
    leaves = result_rows(rows)
    big = plan.thousands
    lo, hi = (1200, 3800) if big else rng.choice([(0, 6), (5, 40), (20, 160)])
    if force_rows:
        lo = max(lo, 12)
        hi = max(hi, lo + 10)
    new = {
        "natural_person": rng.randint(lo, hi),
        "business": rng.choice([0, 0, 1, 2, 3]) * (40 if big else 1),
        "research": rng.choice([0, 0, 0, 1]),
        "nonprofit": rng.choice([0, 0, 0, 1]),
        "legal_services": rng.choice([0, 0, 1, 2]),
        "other_org": rng.choice([0, 0, 1]) * (15 if big else 1),
    }
    if carried_in is None:
        carried_in = {c: (rng.choice([0, 0, 1, 2, 3]) if c == "natural_person" else rng.choice([0, 0, 0, 1]))
                      for c in APPLICANTS}
    v: dict[str, int] = {}
    for c in APPLICANTS:
        avail = new[c] + carried_in[c]
        out = min(avail, rng.choice([0, 0, 1, 2, 4]) * (10 if big and c == "natural_person" else 1))
        handled = avail - out
        weights = [RESULT_WEIGHTS[r] for r in leaves]
        counts = dict.fromkeys(leaves, 0)
        for pick in rng.choices(leaves, weights=weights, k=handled):
            counts[pick] += 1
        if c == "natural_person":
            for r in force_rows:  # rows the variant needs non-zero (swapped / typo rows)
                if counts[r] == 0 and counts["granted"] > 1:
                    counts[r] += 1
                    counts["granted"] -= 1
        for r in plan.missing_rows:  # a row an agency deletes is one it never used
            counts["granted"] += counts[r]
            counts[r] = 0
        v[f"t3.new.{c}"] = new[c]
        v[f"t3.carried_in.{c}"] = carried_in[c]
        v[f"t3.carried_over.{c}"] = out
        for r, n in counts.items():
            v[f"t3.{r}.{c}"] = n
        v[f"t3.total.{c}"] = handled
    for r in [x.code for x in rows]:
        v[f"t3.{r}.total"] = sum(v[f"t3.{r}.{c}"] for c in APPLICANTS)
    if plan.other_rows == 3:
        for c in COLS:
            v[f"t3.other.{c}"] = sum(v[f"t3.{s}.{c}"] for s in OTHER_SUBROWS)
    return v


def gen_t4(rng: random.Random) -> dict[str, int]:
    """表四: mostly small counts, often all zero, totals consistent."""
    v: dict[str, int] = {}
    busy = rng.random() < 0.7
    for g in T4_GROUPS:
        parts = [rng.choice([0, 0, 0, 1, 2, 3]) if busy else 0 for _ in range(4)]
        for p, n in zip(T4_PARTS[:4], parts, strict=True):
            v[f"t4.{g}.{p}"] = n
        v[f"t4.{g}.total"] = sum(parts)
    return v


def money(rng: random.Random, lo: float, hi: float, decimals: int) -> float:
    return round(rng.uniform(lo, hi), decimals)


def gen_t2(plan: Plan, prev: dict[str, Number] | None) -> dict[str, Number]:
    """表二 values; with `prev` (last year's report of the same agency) the stocks carry over."""
    rng = plan.rng
    big = 10 if plan.thousands else 1
    v: dict[str, Number] = {}
    gov = plan.agency.endswith("人民政府")
    if plan.template == "2021":
        for row, scale in (("rules", 3 if gov else 0), ("normative", 25)):
            issued = rng.randint(0, scale)
            repealed = rng.randint(0, scale // 3)
            if prev is not None and f"t2.{row}.in_force" in prev:
                in_force = int(prev[f"t2.{row}.in_force"]) + issued - repealed
            else:
                in_force = issued + rng.randint(0, scale * 8)
            v.update({f"t2.{row}.issued": issued, f"t2.{row}.repealed": repealed, f"t2.{row}.in_force": in_force})
        v["t2.licensing.decisions"] = rng.randint(0, 900) * big
        v["t2.penalty.decisions"] = rng.randint(0, 600) * big + rng.randint(0, 9)
        v["t2.coercion.decisions"] = rng.choice([0, rng.randint(0, 60)])
        if plan.fees2dec:
            v["t2.fees.amount"] = rng.randint(100, 9999) / 10  # printed with 2 decimals: '12.50'
        else:
            v["t2.fees.amount"] = rng.choice([0, 0, money(rng, 0, 300, 1), money(rng, 0, 3000, 2)])
        return v
    for row, scale in (("rules", 3 if gov else 0), ("normative", 25)):
        made = rng.randint(0, scale)
        published = made
        key = f"t2.{row}.total_published"
        base = int(prev[key]) if prev is not None and key in prev else rng.randint(0, scale * 6)
        v.update({f"t2.{row}.made": made, f"t2.{row}.published": published, key: base + published})
    for row, hi in (("licensing", 400), ("other_services", 60), ("penalty", 300), ("coercion", 40), ("fees", 30)):
        pkey = f"t2.{row}.prev_items"
        if prev is not None and pkey in prev:
            prev_items = int(prev[pkey]) + int(prev[f"t2.{row}.change"])
        else:
            prev_items = rng.randint(0, hi)
        change = rng.choice([0, 0, rng.randint(-min(prev_items, 9), 12)])
        v[pkey] = prev_items
        v[f"t2.{row}.change"] = change
        if row != "fees":
            v[f"t2.{row}.decisions"] = rng.randint(0, hi * 3) * big
    v["t2.procurement.items"] = rng.randint(0, 40)
    v["t2.procurement.amount"] = money(rng, 0, 2000, 2) if v["t2.procurement.items"] else 0
    return v


# --------------------------------------------------------------------------------------------------
# Identity checks on the truth (so that expected_findings list every broken identity)
# --------------------------------------------------------------------------------------------------


def check_identities(plan: Plan, cells: dict[str, Number]) -> list[dict[str, Any]]:
    """Every FORMAT.md §3.1 identity that the printed values break, as expected findings."""
    out: list[dict[str, Any]] = []
    rows = plan.printed_t3_rows()
    codes_rows = [r.code for r in rows]
    if "t3.new.total" in cells:
        for c in COLS:  # T3-A balance
            cs = [f"t3.new.{c}", f"t3.carried_in.{c}", f"t3.total.{c}", f"t3.carried_over.{c}"]
            if all(x in cells for x in cs):
                lhs = cells[cs[0]] + cells[cs[1]]
                rhs = cells[cs[2]] + cells[cs[3]]
                if lhs != rhs:
                    out.append({"kind": "arithmetic", "rule": "t3.balance", "codes": cs, "section": "requests",
                                "about": f"表三 {c}: 一+二 = {lhs} but （七）总计+四 = {rhs}",
                                "expected": lhs, "actual": rhs})
        for r in codes_rows:  # T3-B row sums
            cs = [f"t3.{r}.{c}" for c in COLS]
            s = sum(cells[x] for x in cs[:6])
            if s != cells[cs[6]]:
                out.append({"kind": "arithmetic", "rule": "t3.row_sum", "codes": cs, "section": "requests",
                            "about": f"表三 row {r}: 总计 printed {cells[cs[6]]} but the six applicant columns sum to {s}",
                            "expected": s, "actual": cells[cs[6]]})
        leaves = result_rows(rows)
        for c in COLS:  # T3-C column sums
            cs = [f"t3.total.{c}"] + [f"t3.{r}.{c}" for r in leaves]
            if plan.other_rows == 3 and "other.no_correction" in leaves:
                cs.append(f"t3.other.{c}")
            s = sum(cells[f"t3.{r}.{c}"] for r in leaves)
            if s != cells[cs[0]]:
                out.append({"kind": "arithmetic", "rule": "t3.column_sum", "codes": cs, "section": "requests",
                            "about": f"表三 {c}: （七）总计 printed {cells[cs[0]]} but the result rows sum to {s}",
                            "expected": s, "actual": cells[cs[0]]})
    for g in T4_GROUPS:
        cs = [f"t4.{g}.{p}" for p in T4_PARTS]
        if all(x in cells for x in cs):
            s = sum(cells[x] for x in cs[:4])
            if s != cells[cs[4]]:
                out.append({"kind": "arithmetic", "rule": "t4.group_total", "codes": cs, "section": "review",
                            "about": f"表四 {g}: 总计 printed {cells[cs[4]]} but 维持+纠正+其他+尚未审结 = {s}",
                            "expected": s, "actual": cells[cs[4]]})
    return out


# --------------------------------------------------------------------------------------------------
# DOCX building on top of the official template's XML
# --------------------------------------------------------------------------------------------------


def _strip_ids(el: etree._Element) -> etree._Element:
    """Copied rows would duplicate w14:paraId values, which Word treats as corruption."""
    for node in el.iter():
        for attr in [a for a in node.attrib if a.endswith("}paraId") or a.endswith("}textId")]:
            del node.attrib[attr]
    return el


def _clone(el: etree._Element) -> etree._Element:
    return _strip_ids(copy.deepcopy(el))


def _default_rpr(size: int = 20) -> etree._Element:
    rpr = OxmlElement("w:rPr")
    fonts = OxmlElement("w:rFonts")
    for a in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{a}"), "宋体")
    fonts.set(qn("w:hint"), "eastAsia")
    rpr.append(fonts)
    for tag in ("w:sz", "w:szCs"):
        s = OxmlElement(tag)
        s.set(qn("w:val"), str(size))
        rpr.append(s)
    return rpr


def set_cell(tc: etree._Element, lines: list[str], center: bool = False) -> None:
    """Replace a cell's paragraphs with one paragraph per line, keeping the template's formatting."""
    paras = tc.findall(qn("w:p"))
    ppr = paras[0].find(qn("w:pPr")) if paras else None
    rpr = None
    for r in tc.iter(qn("w:r")):
        rpr = r.find(qn("w:rPr"))
        if rpr is not None:
            break
    if rpr is None:
        rpr = _default_rpr()
    for p in paras:
        tc.remove(p)
    for line in lines or [""]:
        p = OxmlElement("w:p")
        if ppr is not None:
            new_ppr = copy.deepcopy(ppr)
            if center:
                jc = new_ppr.find(qn("w:jc"))
                if jc is None:
                    jc = OxmlElement("w:jc")
                    rp = new_ppr.find(qn("w:rPr"))
                    if rp is not None:
                        rp.addprevious(jc)
                    else:
                        new_ppr.append(jc)
                jc.set(qn("w:val"), "center")
            p.append(new_ppr)
        if line:
            r = OxmlElement("w:r")
            r.append(copy.deepcopy(rpr))
            t = OxmlElement("w:t")
            t.text = line
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            r.append(t)
            p.append(r)
        tc.append(p)


def cells_of(tr: etree._Element) -> list[etree._Element]:
    return tr.findall(qn("w:tc"))


def set_vmerge(tc: etree._Element, val: str) -> None:
    tcpr = tc.find(qn("w:tcPr"))
    vm = tcpr.find(qn("w:vMerge"))
    if vm is None:
        vm = OxmlElement("w:vMerge")
        tcpr.find(qn("w:tcW")).addnext(vm)
    vm.set(qn("w:val"), val)


def set_text_direction(tc: etree._Element, val: str) -> None:
    tcpr = tc.find(qn("w:tcPr"))
    td = OxmlElement("w:textDirection")
    td.set(qn("w:val"), val)
    va = tcpr.find(qn("w:vAlign"))
    if va is not None:
        va.addprevious(td)
    else:
        tcpr.append(td)


def mark_header(tr: etree._Element) -> None:
    """w:tblHeader makes Word/LibreOffice repeat the row at the top of every page."""
    trpr = tr.find(qn("w:trPr"))
    if trpr is None:
        trpr = OxmlElement("w:trPr")
        tr.insert(0 if tr.find(qn("w:tblPrEx")) is None else 1, trpr)
    h = OxmlElement("w:tblHeader")
    jc = trpr.find(qn("w:jc"))
    if jc is not None:
        jc.addprevious(h)
    else:
        trpr.append(h)


def remove_borders(tbl: etree._Element) -> None:
    """Strip every ruling line (table, row-exception and cell borders)."""
    for b in list(tbl.iter(qn("w:tblBorders"))) + list(tbl.iter(qn("w:tcBorders"))):
        for side in list(b):
            side.set(qn("w:val"), "nil")
            for a in ("color", "sz", "space"):
                side.attrib.pop(qn(f"w:{a}"), None)


def fmt_number(plan: Plan, value: Number, code: str, force_digits: bool = False) -> str:
    """Print a value as agencies do: zero markers, separators, full-width digits, 2-decimal fees."""
    rng = plan.rng
    if value == 0 and not force_digits and plan.zero_style != "0":
        style = plan.zero_style
        if style == "mixed":
            style = rng.choice(["blank", "dash", "wu", "slash", "0"])
        text = {"blank": "", "dash": "—", "wu": "无", "slash": "/", "0": "0"}[style]
    elif isinstance(value, float):
        if code == "t2.fees.amount" and plan.fees2dec:
            text = f"{value:.2f}"
        else:
            text = f"{value:,.2f}" if plan.thousands and value >= 1000 else repr(value).rstrip("0").rstrip(".")
    elif plan.thousands and abs(value) >= 1000:
        text = f"{value:,}"
    elif value > 0 and code.endswith(".change") and rng.random() < 0.3:
        text = f"+{value}"
    else:
        text = str(value)
    if plan.fullwidth:
        text = text.translate(FULLWIDTH)
    return text


def build_t2(plan: Plan, tpl: etree._Element) -> etree._Element:
    """表二 from the template's rows: title (gs4), 4-cell header/data rows, 2-cell (gs3) rows."""
    src = tpl.findall(qn("w:tr"))
    title_tr, hdr4, data4, hdr2, data2 = src[0], src[1], src[2], src[5], src[6]
    tbl = _clone(tpl)
    for tr in tbl.findall(qn("w:tr")):
        tbl.remove(tr)
    blocks = T2_2021 if plan.template == "2021" else T2_2019
    for title, header, rows in blocks:
        tr = _clone(title_tr)
        set_cell(cells_of(tr)[0], [title])
        tbl.append(tr)
        four = len(header) == 4
        tr = _clone(hdr4 if four else hdr2)
        for tc, text in zip(cells_of(tr), header, strict=True):
            lines = [text[:3], text[3:]] if plan.rng.random() < 0.25 and len(text) > 5 else [text]
            set_cell(tc, lines, center=True)
        tbl.append(tr)
        for label, codes in rows:
            if plan.typos and label == "行政规范性文件":
                label = "规范性文件"
            tr = _clone(data4 if four else data2)
            tcs = cells_of(tr)
            set_cell(tcs[0], [label])
            for tc, code in zip(tcs[1:], codes, strict=True):
                set_cell(tc, [] if code is None else [fmt_number(plan, plan.values[code], code)], center=True)
            tbl.append(tr)
    return tbl


def vertical_lines(plan: Plan, text: str) -> list[str]:
    if plan.vertical == "chars":
        return list(text)
    if plan.vertical == "spaced":
        return [text[:2] + " ".join(text[2:])]
    return [text]


def build_t3(plan: Plan, tpl: etree._Element, seeded_codes: set[str]) -> etree._Element:
    """表三 from the template's own rows, so merges and borders are the official ones."""
    src = tpl.findall(qn("w:tr"))
    tbl = _clone(tpl)
    for tr in tbl.findall(qn("w:tr")):
        tbl.remove(tr)
    for i in range(3):
        tr = _clone(src[i])
        if plan.split == "header":
            mark_header(tr)
        if i == 0:
            set_cell(cells_of(tr)[0], [T3_CORNER])
        if i == 2 and plan.typos:
            set_cell(cells_of(tr)[4], ["社会组织"], center=True)
        tbl.append(tr)
    rows = plan.printed_t3_rows()
    first_result = True
    prev_group = None
    for row in rows:
        if row.kind == "top":
            tr = _clone(src[27] if row.code == "carried_over" else src[3])
            label_cells, values = cells_of(tr)[:1], cells_of(tr)[1:]
        elif row.kind == "l2":
            tr = _clone(src[5] if first_result else (src[26] if row.code == "total" else src[6]))
            label_cells, values = cells_of(tr)[1:2], cells_of(tr)[2:]
        else:
            start = row.group != prev_group  # first sub-row of a group carries the merged group label
            tr = _clone(src[7] if start else src[8])
            tcs = cells_of(tr)
            if start:
                set_vmerge(tcs[1], "restart")
                set_cell(tcs[1], [T3_GROUPS[row.group]])
            label_cells, values = tcs[2:3], tcs[3:]
        if row.kind != "top":
            lead = cells_of(tr)[0]
            if first_result:
                set_vmerge(lead, "restart")
                set_cell(lead, vertical_lines(plan, LEVEL1_RESULT), center=True)
                if plan.vertical == "tbRlV":
                    set_text_direction(lead, "tbRlV")
                first_result = False
            else:
                set_vmerge(lead, "continue")
                set_cell(lead, [])
        prev_group = row.group if row.kind == "l3" else None
        label = T3_TYPOS.get(row.code, row.label) if plan.typos else row.label
        set_cell(label_cells[0], [label])
        for tc, c in zip(values, COLS, strict=True):
            code = f"t3.{row.code}.{c}"
            set_cell(tc, [fmt_number(plan, plan.values[code], code, code in seeded_codes)], center=True)
        tbl.append(tr)
    return tbl


def build_t4(plan: Plan, tpl: etree._Element, seeded_codes: set[str]) -> etree._Element:
    src = tpl.findall(qn("w:tr"))
    tbl = _clone(tpl)
    for tr in tbl.findall(qn("w:tr")):
        tbl.remove(tr)
    keep = [src[0]] if plan.t4flat else src[:3]
    for tr in keep:
        tbl.append(_clone(tr))
    data = _clone(src[3])
    codes = [f"t4.{g}.{p}" for g in T4_GROUPS for p in T4_PARTS]
    for tc, code in zip(cells_of(data), codes, strict=True):
        set_cell(tc, [fmt_number(plan, plan.values[code], code, code in seeded_codes)], center=True)
    tbl.append(data)
    return tbl


# --------------------------------------------------------------------------------------------------
# Prose
# --------------------------------------------------------------------------------------------------


def say(plan: Plan, code: str, section: str) -> str:
    """A number quoted in the narrative; records which cell it restates."""
    value = plan.values[code]
    printed = plan.narrative_override.get(code, value)
    plan.narrative.append({"code": code, "section": section, "printed": printed})
    return f"{printed:g}" if isinstance(printed, float) else str(printed)


def section_paragraphs(plan: Plan, sec: str) -> list[str]:
    """Narrative paragraphs for one section (numbers from the tables plus unrelated figures)."""
    rng, y = plan.rng, plan.year
    if sec == "overview":
        paras = [
            f"{y}年，本机关坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻落实《中华人民共和国政府信息公开条例》，"
            "持续深化政务公开，不断提升政府信息公开工作质量。",
            f"（一）主动公开情况。全年通过门户网站主动公开政府信息{rng.randint(80, 900)}条，"
            f"通过政务新媒体发布信息{rng.randint(20, 600)}条。",
            f"（二）依申请公开情况。全年共受理政府信息公开申请{say(plan, 't3.new.total', sec)}件，"
            "均在法定期限内予以答复。",
            f"（三）政府信息管理。开展规范性文件清理，组织业务培训{rng.randint(1, 6)}次。",
            "（四）政府信息公开平台建设。持续优化政府网站信息公开专栏，畅通依申请公开渠道。",
            "（五）监督保障。将政务公开工作纳入年度绩效考核，主动接受社会监督。",
        ]
        return paras
    if sec == "active":
        if plan.template == "2021":
            return [f"本年度制发行政规范性文件{say(plan, 't2.normative.issued', sec)}件，废止"
                    f"{say(plan, 't2.normative.repealed', sec)}件，现行有效{say(plan, 't2.normative.in_force', sec)}件；"
                    f"作出行政许可决定{say(plan, 't2.licensing.decisions', sec)}件，行政处罚决定"
                    f"{say(plan, 't2.penalty.decisions', sec)}件。"]
        return [f"本年度新制作规范性文件{say(plan, 't2.normative.made', sec)}件，对外公开规范性文件总数"
                f"{say(plan, 't2.normative.total_published', sec)}件；作出行政许可处理决定"
                f"{say(plan, 't2.licensing.decisions', sec)}件。"]
    if sec == "requests":
        return [f"本年度新收政府信息公开申请{say(plan, 't3.new.total', sec)}件，上年结转"
                f"{say(plan, 't3.carried_in.total', sec)}件。全年办结{say(plan, 't3.total.total', sec)}件，其中予以公开"
                f"{say(plan, 't3.granted.total', sec)}件，部分公开{say(plan, 't3.partial.total', sec)}件；"
                f"结转下年度继续办理{say(plan, 't3.carried_over.total', sec)}件。"]
    if sec == "review":
        return [f"本年度因政府信息公开工作被申请行政复议{say(plan, 't4.review.total', sec)}件，未经复议直接起诉的行政诉讼"
                f"{say(plan, 't4.suit_direct.total', sec)}件，复议后起诉{say(plan, 't4.suit_after_review.total', sec)}件。"]
    if sec == "problems":
        return ["（一）存在问题。一是主动公开的深度和广度仍需拓展；二是政策解读形式较为单一。",
                "（二）改进情况。下一步，将进一步完善公开目录，加强业务培训，提升答复规范化水平。"]
    fee = rng.choice([0, 0, rng.randint(1, 40) * 10])
    return [f"本年度收取信息处理费{fee}元。" if fee else "本年度未收取信息处理费。", "无其他需要报告的事项。"]


def filler(plan: Plan, n: int) -> list[str]:
    """Extra prose that pushes 表三 down the page so it splits (split variants)."""
    return [f"（{i + 1}）围绕重点领域信息公开，本机关细化公开标准，逐项明确公开主体、公开内容和公开时限，"
            "确保信息发布及时、准确、完整，切实保障人民群众的知情权、参与权、表达权和监督权。" for i in range(n)]


def add_paragraph(doc: docx.document.Document, text: str, *, bold: bool = False, size: float = 12,
                  center: bool = False, style: str | None = None, indent: bool = True) -> Any:
    p = doc.add_paragraph(style=style)
    run = p.add_run(text)
    run.bold = bold
    run.font.size = docx.shared.Pt(size)
    run.font.name = "宋体"
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    if center:
        p.alignment = docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER
    elif indent:
        p.paragraph_format.first_line_indent = docx.shared.Pt(size * 2)
    return p


def ensure_heading_style(doc: docx.document.Document) -> None:
    """The official template has no Heading styles; agencies using Word's Heading 1 get one like this."""
    names = {s.name for s in doc.styles}
    if "Heading 1" in names:
        return
    st = doc.styles.add_style("Heading 1", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    st.base_style = doc.styles["Normal"]
    st.font.bold = True
    st.font.size = docx.shared.Pt(14)
    ppr = st.element.get_or_add_pPr()
    lvl = OxmlElement("w:outlineLvl")
    lvl.set(qn("w:val"), "0")
    ppr.append(lvl)


def write_docx(plan: Plan, path: Path, seeded_codes: set[str]) -> None:
    """Fill a copy of the official template with this plan's report."""
    doc = docx.Document(str(TEMPLATE))
    body = doc.element.body
    tables = body.findall(qn("w:tbl"))
    tpl2, tpl3, tpl4 = (copy.deepcopy(t) for t in tables)
    for el in list(body):
        if el.tag != qn("w:sectPr"):
            body.remove(el)
    ensure_heading_style(doc)
    sect = doc.sections[0]
    if plan.landscape:
        sect.orientation = docx.enum.section.WD_ORIENT.LANDSCAPE
        sect.page_width, sect.page_height = sect.page_height, sect.page_width
        sect.left_margin = sect.right_margin = docx.shared.Cm(2.2)
        sect.top_margin = sect.bottom_margin = docx.shared.Cm(2.0)
    else:
        sect.left_margin = sect.right_margin = docx.shared.Cm(2.0)

    # title
    head, tail = plan.agency, f"{plan.year}年政府信息公开工作年度报告"
    if plan.title_break == "paragraph":
        add_paragraph(doc, head, bold=True, size=18, center=True)
        add_paragraph(doc, tail, bold=True, size=18, center=True)
    elif plan.title_break == "br":
        p = add_paragraph(doc, head, bold=True, size=18, center=True)
        p.runs[0].add_break()
        p.runs[0].add_text(tail)
    else:
        add_paragraph(doc, head + tail, bold=True, size=18, center=True)
    intro = (f"本报告依据《中华人民共和国政府信息公开条例》和国务院办公厅政府信息与政务公开办公室有关要求编制。"
             f"报告中所列数据的统计期限自{plan.year}年1月1日起至{plan.year}年12月31日止。")
    if plan.rng.random() < 0.4:  # preamble that names the sections in prose: not headings
        intro += "全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议、行政诉讼情况、" \
                 "存在的主要问题及改进情况、其他需要报告的事项。"
    intro += f"本报告电子版可在{plan.agency}门户网站下载。如对本报告有疑问，请与本机关办公室联系。"
    add_paragraph(doc, intro)

    for sec in SECTIONS:
        if sec == plan.missing_section:
            continue
        if sec == "requests" and plan.split:
            doc.add_page_break()  # heading at the top, then enough prose that 表三 starts mid-page
        heading = plan.rng.choice(HEADINGS[sec]).format(year=plan.year)
        if plan.heading_style == "style":
            add_paragraph(doc, heading, style="Heading 1", bold=True, size=14, indent=False)
        else:
            add_paragraph(doc, heading, bold=True, size=12)
        paras = section_paragraphs(plan, sec)
        if sec == "requests" and plan.split:
            paras = paras + filler(plan, 3)
        for text in paras:
            add_paragraph(doc, text)
        if sec == "requests" and not plan.split and not plan.landscape:
            doc.add_page_break()  # 表三 on a page of its own so that only split variants split it
        table = {"active": lambda: build_t2(plan, tpl2), "requests": lambda: build_t3(plan, tpl3, seeded_codes),
                 "review": lambda: build_t4(plan, tpl4, seeded_codes)}.get(sec)
        if table is not None:
            tbl = table()
            if not plan.borders or (sec == "active" and not plan.t2_borders):
                remove_borders(tbl)
            sect_pr = body.find(qn("w:sectPr"))
            sect_pr.addprevious(tbl)
            add_paragraph(doc, "", indent=False)
    doc.core_properties.author = "make_fixtures"
    tmp = path.with_suffix(".tmp.docx")
    doc.save(str(tmp))
    normalise_zip(tmp, path)
    tmp.unlink()


def normalise_zip(src: Path, dst: Path) -> None:
    """Rewrite the DOCX zip with fixed timestamps so the same seed gives the same bytes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in sorted(zin.infolist(), key=lambda i: (i.filename != "[Content_Types].xml", i.filename)):
            data = zin.read(info.filename)
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(zi, data)


# --------------------------------------------------------------------------------------------------
# Corpus plan
# --------------------------------------------------------------------------------------------------

# (variant, templates-it-applies-to); every variant is crossed with 2019, 2021 (3-row （六）) and 2021r1.
VARIANTS = [
    "plain", "split_header", "split_noheader", "noborders", "t4flat", "landscape", "zeros", "fullwidth",
    "thousands", "decimals", "typos", "vertical_tbrl", "vertical_chars", "missing_section", "missing_row",
    "reordered", "err_rowtotal", "err_coltotal", "err_balance", "err_t4total", "err_narrative",
]
COMBOS = [("2019", 1), ("2021", 3), ("2021", 1)]
PAIR_VARIANTS = ["xyear_ok", "xyear_carry", "xyear_inforce"]
# Variants added after the pairs, so that adding them left every earlier document (and its seed) as it was.
LATE_VARIANTS = ["t2_noborders_blank"]

# t2_noborders_blank: 表二 cells printed blank (zero) so that every way a blank can fall in a table
# without ruling lines occurs: a row with one number, a row with none, a blank in the middle of a row,
# a column blank throughout a block.
T2_BLANKS = {
    "2019": ["t2.rules.made", "t2.rules.published", "t2.other_services.prev_items", "t2.other_services.change",
             "t2.other_services.decisions", "t2.licensing.change", "t2.penalty.change", "t2.coercion.change",
             "t2.fees.change"],
    "2021": ["t2.rules.issued", "t2.rules.repealed", "t2.normative.repealed", "t2.coercion.decisions"],
}
# ... and the cells that must then print a number, or the row would not show the pattern it is there for
T2_FILLED = {
    "2019": ["t2.rules.total_published", "t2.normative.made", "t2.normative.published", "t2.normative.total_published",
             "t2.licensing.prev_items", "t2.licensing.decisions", "t2.penalty.prev_items", "t2.penalty.decisions",
             "t2.coercion.prev_items", "t2.fees.prev_items", "t2.procurement.items", "t2.procurement.amount"],
    "2021": ["t2.rules.in_force", "t2.normative.issued", "t2.normative.in_force", "t2.licensing.decisions",
             "t2.penalty.decisions", "t2.fees.amount"],
}

MISSING_SECTION = {"2019": "review", "2021": "problems", "2021r1": "other"}
MISSING_ROWS = {"2019": ["not_processed.publication"], "2021": ["denied.query", "denied.enforcement"],
                "2021r1": ["unavailable.unclear"]}
SWAPS = {"2019": ("denied.internal", "denied.process"), "2021": ("unavailable.not_held", "unavailable.needs_creation"),
         "2021r1": ("not_processed.petition", "not_processed.duplicate")}


class AgencyPool:
    """Unique agency names, so only deliberate pairs share an agency (cross-year checks key on it)."""

    def __init__(self, rng: random.Random) -> None:
        names = [f"{c}{d}{b}" for c in CITIES for d in DISTRICTS for b in BUREAUS]
        rng.shuffle(names)
        self._names = names

    def take(self) -> str:
        return self._names.pop()


def layout(plan: Plan) -> None:
    """Random layout traits every document gets, then the variant's own traits on top."""
    rng = plan.rng
    plan.vertical = rng.choice(["horizontal", "horizontal", "tbRlV", "chars", "spaced"])
    plan.heading_style = rng.choice(["style", "bold"])
    plan.title_break = rng.choice(["none", "none", "paragraph", "br"])
    v = plan.variant
    if v.startswith("split_"):
        plan.split = v.split("_")[1]
    plan.borders = v != "noborders"
    plan.t2_borders = v != "t2_noborders_blank"
    plan.t4flat = v == "t4flat"
    plan.landscape = v == "landscape"
    plan.zero_style = "mixed" if v == "zeros" else rng.choice(["0", "0", "0", "blank", "slash", "dash"])
    if v in ("fullwidth", "thousands", "decimals"):
        plan.zero_style = "0"
    if v == "t2_noborders_blank":
        plan.zero_style = "blank"
    plan.fullwidth = v == "fullwidth"
    plan.thousands = v == "thousands"
    plan.fees2dec = v == "decimals"
    plan.typos = v == "typos"
    if v == "vertical_tbrl":
        plan.vertical = "tbRlV"
    elif v == "vertical_chars":
        plan.vertical = "chars"
    if v == "missing_section":
        plan.missing_section = MISSING_SECTION[plan.tag]
    if v == "missing_row":
        plan.missing_rows = MISSING_ROWS[plan.tag]
    if v == "reordered":
        plan.swap = SWAPS[plan.tag]


def make_values(plan: Plan, prev: dict[str, Number] | None = None,
                carried_in: dict[str, int] | None = None) -> None:
    force: list[str] = list(plan.swap or ())
    if plan.typos:
        force += [r for r in T3_TYPOS if r in result_rows(t3_rows(plan.other_rows))]
    plan.values = gen_t2(plan, prev) | gen_t3(plan, carried_in, force) | gen_t4(plan.rng)
    if plan.variant == "t2_noborders_blank":
        blank_t2_cells(plan)


def blank_t2_cells(plan: Plan) -> None:
    """Zero the 表二 cells of T2_BLANKS and make sure those of T2_FILLED print a number."""
    for code in T2_BLANKS[plan.template]:
        plan.values[code] = 0
    for code in T2_FILLED[plan.template]:
        if plan.values[code] == 0:
            plan.values[code] = plan.rng.randint(1, 30)
    if plan.template == "2019":  # 对外公开总数量 counts this year's too
        for row in ("rules", "normative"):
            plan.values[f"t2.{row}.total_published"] = max(plan.values[f"t2.{row}.total_published"],
                                                           plan.values[f"t2.{row}.published"])


def seed_errors(plan: Plan) -> set[str]:
    """Apply the variant's deliberate inconsistency; returns the codes printed wrong (never blanked)."""
    rng, v, vals = plan.rng, plan.variant, plan.values
    d = rng.randint(1, 4)
    if v == "err_rowtotal":
        row = {"2019": "granted", "2021": "unavailable.not_held", "2021r1": "new"}[plan.tag]
        vals[f"t3.{row}.total"] += d
        plan.seeded.append(f"t3.{row}.total printed {d} too high")
        return {f"t3.{row}.total"}
    if v == "err_coltotal":
        col = {"2019": "natural_person", "2021": "total", "2021r1": "natural_person"}[plan.tag]
        vals[f"t3.total.{col}"] += -d if vals[f"t3.total.{col}"] > d else d
        plan.seeded.append(f"t3.total.{col} printed wrong")
        return {f"t3.total.{col}"}
    if v == "err_balance":
        if plan.tag == "2021":  # one applicant column only: breaks balance there and the 四 row sum
            vals["t3.carried_over.business"] += d
            plan.seeded.append("t3.carried_over.business printed too high")
            return {"t3.carried_over.business"}
        vals["t3.carried_over.natural_person"] += d
        vals["t3.carried_over.total"] += d
        plan.seeded.append("t3.carried_over natural_person and total printed too high")
        return {"t3.carried_over.natural_person", "t3.carried_over.total"}
    if v == "err_t4total":
        g = {"2019": "review", "2021": "suit_direct", "2021r1": "suit_after_review"}[plan.tag]
        if plan.tag == "2021r1":  # the real-world pattern: 总计 printed 0 while the parts are not
            vals[f"t4.{g}.upheld"] = max(1, int(vals[f"t4.{g}.upheld"]))
            vals[f"t4.{g}.total"] = 0
        else:
            vals[f"t4.{g}.total"] += d
        plan.seeded.append(f"t4.{g}.total printed wrong")
        return {f"t4.{g}.total", f"t4.{g}.upheld"}
    if v == "err_narrative":
        code = {"2019": "t3.new.total", "2021": "t4.review.total", "2021r1": "t2.licensing.decisions"}[plan.tag]
        plan.narrative_override[code] = int(vals[code]) + d
        plan.seeded.append(f"narrative restates {code} as {int(vals[code]) + d}")
    return set()


def truth_cells(plan: Plan) -> dict[str, Number]:
    """Every value the document prints (plus t3.other.* as the sum of printed （六） sub-rows)."""
    out: dict[str, Number] = {}
    blocks = T2_2021 if plan.template == "2021" else T2_2019
    for _, _, rows in blocks:
        for _, codes in rows:
            for code in codes:
                if code is not None:
                    out[code] = plan.values[code]
    for row in t3_rows(plan.other_rows):  # template order, so truth files read like the tables
        if row.code in plan.missing_rows:
            continue
        for c in COLS:
            out[f"t3.{row.code}.{c}"] = plan.values[f"t3.{row.code}.{c}"]
        if row.code == OTHER_SUBROWS[-1]:
            for c in COLS:
                out[f"t3.other.{c}"] = sum(out[f"t3.{s}.{c}"] for s in OTHER_SUBROWS)
    if plan.missing_section != "review":
        for g in T4_GROUPS:
            for p in T4_PARTS:
                out[f"t4.{g}.{p}"] = plan.values[f"t4.{g}.{p}"]
    return out


def expected_findings(plan: Plan, cells: dict[str, Number]) -> list[dict[str, Any]]:
    found = check_identities(plan, cells)
    if plan.missing_section:
        found.append({"kind": "missing_section", "rule": "structure.missing_section", "codes": [],
                      "section": plan.missing_section, "about": f"section {plan.missing_section} is not in the document"})
        if plan.missing_section == "review":
            found.append({"kind": "missing_section", "rule": "structure.missing_table", "codes": [],
                          "section": "review", "optional": True,
                          "about": "表四 is missing together with its section (one finding for the section may be enough)"})
    if plan.missing_rows:
        codes = [f"t3.{r}.{c}" for r in plan.missing_rows for c in COLS]
        found.append({"kind": "missing_rows", "rule": "structure.missing_rows", "codes": codes, "section": "requests",
                      "about": "表三 rows not printed: " + ", ".join(plan.missing_rows)})
    reported: set[str] = set()
    for item in plan.narrative:  # one finding per restated cell, even if the text repeats the number
        if item["printed"] != cells.get(item["code"], item["printed"]) and item["code"] not in reported:
            reported.add(item["code"])
            found.append({"kind": "narrative", "rule": "narrative.table_mismatch", "codes": [item["code"]],
                          "section": item["section"], "expected": cells[item["code"]], "actual": item["printed"],
                          "about": f"the text states {item['printed']} for {item['code']}, the table prints "
                                   f"{cells[item['code']]}"})
    return found + plan.cross_findings


def cross_year(prev: Plan, cur: Plan, prev_cells: dict[str, Number], cells: dict[str, Number]) -> None:
    """Cross-year findings of `cur` against last year's report `prev` (same agency)."""
    for c in COLS:
        a, b = prev_cells.get(f"t3.carried_over.{c}"), cells.get(f"t3.carried_in.{c}")
        if a is not None and b is not None and a != b:
            cur.cross_findings.append({
                "kind": "cross_year", "rule": "cross_year.carry_over",
                "codes": [f"t3.carried_in.{c}", f"t3.carried_over.{c}"], "section": "requests",
                "expected": a, "actual": b, "related": {"file": prev.name, "year": prev.year},
                "about": f"二、上年结转 {c} = {b} but {prev.year}'s 四、结转下年度继续办理 = {a}"})
    if prev.template == cur.template == "2021":
        for row in ("rules", "normative"):
            keys = [f"t2.{row}.in_force", f"t2.{row}.issued", f"t2.{row}.repealed"]
            want = prev_cells[keys[0]] + cells[keys[1]] - cells[keys[2]]
            if want != cells[keys[0]]:
                cur.cross_findings.append({
                    "kind": "cross_year", "rule": "cross_year.in_force", "codes": keys, "section": "active",
                    "expected": want, "actual": cells[keys[0]], "related": {"file": prev.name, "year": prev.year},
                    "about": f"{row} 现行有效件数 {cells[keys[0]]} but {prev.year}'s {prev_cells[keys[0]]} + 制发 "
                             f"{cells[keys[1]]} − 废止 {cells[keys[2]]} = {want}"})


def build_plans(seed: int) -> list[tuple[Plan, set[str]]]:
    """The whole corpus as plans (values, layout, seeded errors), fully determined by `seed`."""
    master = random.Random(seed)
    agencies = AgencyPool(random.Random(master.randint(0, 2**31)))
    plans: list[tuple[Plan, set[str]]] = []
    num = 0

    def new_plan(template: str, rows: int, variant: str, year: int, agency: str) -> Plan:
        nonlocal num
        num += 1
        s = master.randint(0, 2**31)
        return Plan(num, template, rows, variant, year, agency, s, random.Random(s))

    def single(variants: list[str]) -> None:
        """One document per variant and template combination."""
        for variant in variants:
            for template, rows in COMBOS:
                year = master.choice([2019, 2020]) if template == "2019" else master.choice([2021, 2022, 2023, 2024])
                plan = new_plan(template, rows, variant, year, agencies.take())
                layout(plan)
                make_values(plan)
                plans.append((plan, seed_errors(plan)))

    single(VARIANTS)
    # same-agency consecutive years: 2019→2020 (2019 fmt), 2020→2021 (fmt change), 2022→2023 (2021 fmt)
    pair_specs = {
        "xyear_ok": [(("2019", 1, 2019), ("2019", 1, 2020)), (("2019", 1, 2020), ("2021", 3, 2021)),
                     (("2021", 3, 2022), ("2021", 1, 2023))],
        "xyear_carry": [(("2019", 1, 2019), ("2019", 1, 2020)), (("2019", 1, 2020), ("2021", 1, 2021)),
                        (("2021", 3, 2022), ("2021", 3, 2023))],
        "xyear_inforce": [(("2021", 3, 2021), ("2021", 3, 2022)), (("2021", 1, 2023), ("2021", 1, 2024))],
    }
    for variant in PAIR_VARIANTS:
        for (t1, r1, y1), (t2, r2, y2) in pair_specs[variant]:
            agency = agencies.take()
            first = new_plan(t1, r1, variant, y1, agency)
            layout(first)
            make_values(first)
            second = new_plan(t2, r2, variant, y2, agency)
            layout(second)
            second.pair_of = first.name
            carried = {c: int(first.values[f"t3.carried_over.{c}"]) for c in APPLICANTS}
            if variant == "xyear_carry":
                carried["natural_person"] += second.rng.randint(1, 3)
            make_values(second, prev=first.values, carried_in=carried)
            if variant == "xyear_inforce":
                second.values["t2.normative.in_force"] = int(second.values["t2.normative.in_force"]) + \
                    second.rng.choice([-3, -2, 2, 5])
            plans.append((first, set()))
            plans.append((second, set()))
    single(LATE_VARIANTS)
    return plans


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


def truth_json(plan: Plan, cells: dict[str, Number], findings: list[dict[str, Any]], fmt: str, seed: int) -> str:
    meta: dict[str, Any] = {
        "file": f"{plan.name}.{fmt}",
        "agency": plan.agency,
        "year": plan.year,
        "template": plan.template,
        "variant": plan.variant,
        "format": fmt,
        "generator": GENERATOR,
        "seed": seed,
        "doc_seed": plan.seed,
        "other_rows": plan.other_rows,
        "layout": {
            "vertical": plan.vertical, "heading_style": plan.heading_style, "zero_style": plan.zero_style,
            "title_break": plan.title_break, "borders": plan.borders, "t2_borders": plan.t2_borders,
            "landscape": plan.landscape,
            "split": plan.split, "t4flat": plan.t4flat, "fullwidth": plan.fullwidth,
            "thousands": plan.thousands, "fees2dec": plan.fees2dec, "typos": plan.typos,
            "missing_section": plan.missing_section, "missing_rows": plan.missing_rows,
            "swap": list(plan.swap) if plan.swap else [],
        },
        "narrative": plan.narrative,
    }
    if plan.pair_of:
        meta["previous_year_file"] = f"{plan.pair_of}.{fmt}"
    if plan.seeded:
        meta["seeded"] = plan.seeded
    return json.dumps({"meta": meta, "cells": cells, "expected_findings": findings}, ensure_ascii=False,
                      indent=1) + "\n"


def check_pdf_tools() -> str | None:
    """Return a message naming the Debian packages to install, or None when soffice + CJK fonts exist."""
    missing = []
    if shutil.which("soffice") is None:
        missing.append("libreoffice-writer-nogui")
    fc = shutil.which("fc-list")
    if fc is None or not subprocess.run([fc, ":lang=zh", "family"], capture_output=True, text=True).stdout.strip():
        missing.append("fonts-noto-cjk")
    if missing:
        return ("PDF rendering needs LibreOffice and CJK fonts. Install them with:\n"
                f"  apt-get install -y {' '.join(missing)}\n(or run with --no-pdf)")
    return None


def convert_pdfs(docs: list[Path], out: Path) -> None:
    """One soffice call for all documents, with a private profile so parallel runs don't collide."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
               "--outdir", str(out), *map(str, docs)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=1800)
    missing = [d.name for d in docs if not d.with_suffix(".pdf").exists()]
    if missing:
        raise SystemExit(f"soffice did not produce PDFs for: {', '.join(missing)}")


def t3_pages(pdf: Path) -> tuple[int, int] | None:
    """Pages holding 表三's first and last data rows (to confirm that split variants do split)."""
    try:
        import pdfplumber
    except ImportError:
        return None
    first = last = 0
    with pdfplumber.open(pdf) as doc:
        for i, page in enumerate(doc.pages, 1):
            text = "".join((page.extract_text() or "").split())
            if not first and "一、本年新收" in text:
                first = i
            if "四、结转下年度" in text:
                last = i
    return first, last


def report_splits(plans: list[tuple[Plan, set[str]]], out: Path) -> None:
    """Print which 表三 tables LibreOffice broke across pages; warn where a split variant did not split."""
    split_names = []
    for plan, _ in plans:
        pages = t3_pages(out / f"{plan.name}.pdf")
        if pages is None:
            return
        if pages[0] != pages[1]:
            split_names.append(plan.name)
        elif plan.split:
            print(f"warning: {plan.name}: 表三 is not split across pages ({pages})", file=sys.stderr)
    print(f"表三 split across pages in {len(split_names)} PDFs: {', '.join(split_names)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--no-pdf", action="store_true", help="write DOCX and their truth files only")
    args = ap.parse_args(argv)
    if not args.no_pdf and (msg := check_pdf_tools()):
        print(msg, file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("c[0-9][0-9][0-9]_*")):
        old.unlink()

    plans = build_plans(args.seed)
    by_name: dict[str, tuple[Plan, dict[str, Number]]] = {}
    docs: list[Path] = []
    for plan, seeded_codes in plans:
        path = out / f"{plan.name}.docx"
        write_docx(plan, path, seeded_codes)  # also fills plan.narrative
        cells = truth_cells(plan)
        if plan.pair_of:
            prev, prev_cells = by_name[plan.pair_of]
            cross_year(prev, plan, prev_cells, cells)
        by_name[plan.name] = (plan, cells)
        findings = expected_findings(plan, cells)
        formats = ["docx"] if args.no_pdf else ["docx", "pdf"]
        for fmt in formats:
            (out / f"{plan.name}.{fmt}.truth.json").write_text(truth_json(plan, cells, findings, fmt, args.seed),
                                                               encoding="utf-8")
        docs.append(path)
    if not args.no_pdf:
        convert_pdfs(docs, out)
        report_splits(plans, out)
    n = len(docs) * (1 if args.no_pdf else 2)
    print(f"wrote {len(docs)} DOCX{'' if args.no_pdf else ' + PDF'} ({n} documents) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
