"""Small real documents built by the tests: the official blank 2021 template filled in with
python-docx, and a 2019-format report laid out with merged cells the way agencies lay it out."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import docx

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
BLANK_2021 = REAL / "template2021_blank.docx"


def script(name: str) -> ModuleType:
    """A module of scripts/ (make_hostile, evaluate …), loaded once: the tests use what the scripts build."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return sys.modules[name]

T3_COLUMNS = ["natural_person", "business", "research", "nonprofit", "legal_services", "other_org", "total"]
T3_RESULT_2019 = [
    "granted", "partial",
    "denied.state_secret", "denied.law_prohibited", "denied.three_safety", "denied.third_party",
    "denied.internal", "denied.process", "denied.enforcement", "denied.query",
    "unavailable.not_held", "unavailable.needs_creation", "unavailable.unclear",
    "not_processed.petition", "not_processed.duplicate", "not_processed.publication",
    "not_processed.excessive", "not_processed.confirmation", "other",
]  # fmt: skip
T3_RESULT_2021 = [*T3_RESULT_2019[:-1], "other.no_correction", "other.unpaid_fee", "other.other"]
T3_SEQUENCE = {
    "2019": ["new", "carried_in", *T3_RESULT_2019, "total", "carried_over"],
    "2021": ["new", "carried_in", *T3_RESULT_2021, "total", "carried_over"],
}
T4_CODES = [f"t4.{g}.{c}" for g in ("review", "suit_direct", "suit_after_review") for c in ("upheld", "corrected", "other", "pending", "total")]


def consistent_values(template: str) -> dict[str, int | float]:
    """A full, internally consistent set of cell values (every identity of the format holds)."""
    values: dict[str, int | float] = {}
    results = T3_RESULT_2021 if template == "2021" else T3_RESULT_2019
    base = {"natural_person": 3, "business": 1, "research": 0, "nonprofit": 0, "legal_services": 1, "other_org": 0}
    for i, row in enumerate(results):
        for col, b in base.items():
            values[f"t3.{row}.{col}"] = (b * (i % 3 + 1)) if i % 4 != 3 else 0
    for col in base:
        done = sum(values[f"t3.{row}.{col}"] for row in results)
        values[f"t3.total.{col}"] = done
        values[f"t3.carried_over.{col}"] = 1 if col == "natural_person" else 0
        values[f"t3.carried_in.{col}"] = 2 if col == "natural_person" else 0
        values[f"t3.new.{col}"] = done + values[f"t3.carried_over.{col}"] - values[f"t3.carried_in.{col}"]
    for row in ["new", "carried_in", *results, "total", "carried_over"]:
        values[f"t3.{row}.total"] = sum(values[f"t3.{row}.{c}"] for c in base)
    if template == "2021":
        for col in T3_COLUMNS:
            values[f"t3.other.{col}"] = sum(values[f"t3.other.{p}.{col}"] for p in ("no_correction", "unpaid_fee", "other"))
    t4 = [2, 1, 0, 1, 4, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1]
    values.update(zip(T4_CODES, t4, strict=True))
    if template == "2021":
        values.update({
            "t2.rules.issued": 1, "t2.rules.repealed": 0, "t2.rules.in_force": 12,
            "t2.normative.issued": 5, "t2.normative.repealed": 2, "t2.normative.in_force": 40,
            "t2.licensing.decisions": 1234, "t2.penalty.decisions": 56, "t2.coercion.decisions": 7,
            "t2.fees.amount": 12.5,
        })  # fmt: skip
    else:
        values.update({
            "t2.rules.made": 1, "t2.rules.published": 1, "t2.rules.total_published": 9,
            "t2.normative.made": 4, "t2.normative.published": 4, "t2.normative.total_published": 30,
            "t2.licensing.prev_items": 105, "t2.licensing.change": -3, "t2.licensing.decisions": 440,
            "t2.other_services.prev_items": 20, "t2.other_services.change": 2, "t2.other_services.decisions": 90,
            "t2.penalty.prev_items": 30, "t2.penalty.change": 0, "t2.penalty.decisions": 12,
            "t2.coercion.prev_items": 4, "t2.coercion.change": 1, "t2.coercion.decisions": 3,
            "t2.fees.prev_items": 2, "t2.fees.change": 0,
            "t2.procurement.items": 6, "t2.procurement.amount": 251000,
        })  # fmt: skip
    return values


def _text(value: int | float | str) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _set(cell, value) -> None:
    cell.text = _text(value)


def build_2021_docx(path: Path, values: dict, title: str = "某某市某某区人民政府2022年政府信息公开工作年度报告", drop_sections: tuple[str, ...] = ()) -> Path:
    """Fill the official blank 2021 template with `values` (code → value or printed text)."""
    document = docx.Document(str(BLANK_2021))
    document.paragraphs[0].text = title
    t2, t3, t4 = document.tables
    t2_slots = {
        (2, 1): "t2.rules.issued", (2, 2): "t2.rules.repealed", (2, 3): "t2.rules.in_force",
        (3, 1): "t2.normative.issued", (3, 2): "t2.normative.repealed", (3, 3): "t2.normative.in_force",
        (6, 1): "t2.licensing.decisions", (9, 1): "t2.penalty.decisions", (10, 1): "t2.coercion.decisions",
        (13, 1): "t2.fees.amount",
    }  # fmt: skip
    for (r, c), code in t2_slots.items():
        if code in values:
            _set(t2.cell(r, c), values[code])
    for i, row in enumerate(T3_SEQUENCE["2021"]):
        for j, col in enumerate(T3_COLUMNS):
            code = f"t3.{row}.{col}"
            if code in values:
                _set(t3.cell(3 + i, 3 + j), values[code])
    for j, code in enumerate(T4_CODES):
        if code in values:
            _set(t4.cell(3, j), values[code])
    for paragraph in list(document.paragraphs):
        if any(paragraph.text.startswith(prefix) for prefix in drop_sections):
            paragraph._element.getparent().remove(paragraph._element)
    document.save(str(path))
    return path


def _merge_label(table, r0: int, c0: int, r1: int, c1: int, text: str) -> None:
    cell = table.cell(r0, c0).merge(table.cell(r1, c1))
    cell.text = text


def build_2019_docx(path: Path, values: dict, title: str = "某某县某某局2020年政府信息公开工作年度报告") -> Path:
    """A 2019-format report: 4-column 表二 blocks, 表三 with the single （六） row, 表四 of 15 columns."""
    document = docx.Document()
    document.add_paragraph(title)
    document.add_paragraph("本报告根据《中华人民共和国政府信息公开条例》编制。")
    document.add_paragraph("一、总体情况")
    document.add_paragraph("2020年，本局认真贯彻落实《条例》。")
    document.add_paragraph("二、主动公开政府信息情况")
    blocks = [
        ("第二十条第（一）项", ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"], [("规章", "rules", ["made", "published", "total_published"]), ("规范性文件", "normative", ["made", "published", "total_published"])]),
        ("第二十条第（五）项", ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"], [("行政许可", "licensing", ["prev_items", "change", "decisions"]), ("其他对外管理服务事项", "other_services", ["prev_items", "change", "decisions"])]),
        ("第二十条第（六）项", ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"], [("行政处罚", "penalty", ["prev_items", "change", "decisions"]), ("行政强制", "coercion", ["prev_items", "change", "decisions"])]),
        ("第二十条第（八）项", ["信息内容", "上一年项目数量", "本年增/减", ""], [("行政事业性收费", "fees", ["prev_items", "change"])]),
        ("第二十条第（九）项", ["信息内容", "采购项目数量", "采购总金额", ""], [("政府集中采购", "procurement", ["items", "amount"])]),
    ]  # fmt: skip
    n_rows = sum(2 + len(rows) for _, _, rows in blocks)
    t2 = document.add_table(rows=n_rows, cols=4)
    t2.style = "Table Grid"
    r = 0
    for title_text, header, rows in blocks:
        _merge_label(t2, r, 0, r, 3, title_text)
        for c, text in enumerate(header):
            t2.cell(r + 1, c).text = text
        for k, (label, key, cols) in enumerate(rows):
            t2.cell(r + 2 + k, 0).text = label
            for c, col in enumerate(cols):
                code = f"t2.{key}.{col}"
                if code in values:
                    _set(t2.cell(r + 2 + k, 1 + c), values[code])
        r += 2 + len(rows)
    document.add_paragraph("三、收到和处理政府信息公开申请情况")
    sequence = T3_SEQUENCE["2019"]
    t3 = document.add_table(rows=3 + len(sequence), cols=10)
    t3.style = "Table Grid"
    _merge_label(t3, 0, 0, 2, 2, "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）")
    _merge_label(t3, 0, 3, 0, 9, "申请人情况")
    _merge_label(t3, 1, 3, 2, 3, "自然人")
    _merge_label(t3, 1, 4, 1, 8, "法人或其他组织")
    _merge_label(t3, 1, 9, 2, 9, "总计")
    for c, text in enumerate(["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]):
        t3.cell(2, 4 + c).text = text
    labels = {
        "new": "一、本年新收政府信息公开申请数量", "carried_in": "二、上年结转政府信息公开申请数量",
        "granted": "（一）予以公开", "partial": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        "denied.state_secret": "1.属于国家秘密", "denied.law_prohibited": "2.其他法律行政法规禁止公开",
        "denied.three_safety": "3.危及“三安全一稳定”", "denied.third_party": "4.保护第三方合法权益",
        "denied.internal": "5.属于三类内部事务信息", "denied.process": "6.属于四类过程性信息",
        "denied.enforcement": "7.属于行政执法案卷", "denied.query": "8.属于行政查询事项",
        "unavailable.not_held": "1.本机关不掌握相关政府信息", "unavailable.needs_creation": "2.没有现成信息需要另行制作",
        "unavailable.unclear": "3.补正后申请内容仍不明确", "not_processed.petition": "1.信访举报投诉类申请",
        "not_processed.duplicate": "2.重复申请", "not_processed.publication": "3.要求提供公开出版物",
        "not_processed.excessive": "4.无正当理由大量反复申请", "not_processed.confirmation": "5.要求行政机关确认或重新出具已获取信息",
        "other": "（六）其他处理", "total": "（七）总计", "carried_over": "四、结转下年度继续办理",
    }  # fmt: skip
    for i, row in enumerate(sequence):
        r = 3 + i
        if row in ("new", "carried_in", "carried_over"):
            _merge_label(t3, r, 0, r, 2, labels[row])
        elif row in ("granted", "partial", "other", "total"):
            _merge_label(t3, r, 1, r, 2, labels[row])
        else:
            t3.cell(r, 2).text = labels[row]
        for j, col in enumerate(T3_COLUMNS):
            code = f"t3.{row}.{col}"
            if code in values:
                _set(t3.cell(r, 3 + j), values[code])
    _merge_label(t3, 5, 0, 3 + sequence.index("total"), 0, "三、本年度办理结果")
    for group, first, last in (("（三）不予公开", "denied.state_secret", "denied.query"), ("（四）无法提供", "unavailable.not_held", "unavailable.unclear"), ("（五）不予处理", "not_processed.petition", "not_processed.confirmation")):
        _merge_label(t3, 3 + sequence.index(first), 1, 3 + sequence.index(last), 1, group)
    document.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    t4 = document.add_table(rows=4, cols=15)
    t4.style = "Table Grid"
    _merge_label(t4, 0, 0, 0, 4, "行政复议")
    _merge_label(t4, 0, 5, 0, 14, "行政诉讼")
    for c, text in enumerate(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]):
        _merge_label(t4, 1, c, 2, c, text)
    _merge_label(t4, 1, 5, 1, 9, "未经复议直接起诉")
    _merge_label(t4, 1, 10, 1, 14, "复议后起诉")
    for c in range(10):
        t4.cell(2, 5 + c).text = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"][c % 5]
    for j, code in enumerate(T4_CODES):
        if code in values:
            _set(t4.cell(3, j), values[code])
    document.add_paragraph("五、存在的主要问题及改进情况")
    document.add_paragraph("（一）存在问题。公开内容还不够全面。")
    document.add_paragraph("六、其他需要报告的事项")
    document.add_paragraph("无。")
    document.save(str(path))
    return path
