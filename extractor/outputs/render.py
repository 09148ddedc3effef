"""Renderings of one Report: readable summary, JSON (the contract), long CSV for Excel."""

from __future__ import annotations

import csv
import io
import json

from extractor.checks.base import short_label
from extractor.lexicon.labels import cell_catalogue, rule_title, severity_label, vocabulary
from extractor.reading.interpret import BLANK_ROW_CONFIDENCE, GAP_FILL_CONFIDENCE
from extractor.report import Cell, Report

SEVERITIES = ("error", "warning", "info")
OCR_FORMATS = ("image", "image-pdf")
T3_COLUMNS = vocabulary()["t3"]["columns"]
TABLE_TITLES = {"t2": "表二 主动公开政府信息情况", "t3": "表三 收到和处理政府信息公开申请情况", "t4": "表四 政府信息公开行政复议、行政诉讼情况"}


def to_json(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def to_csv(report: Report) -> str:
    """Long CSV, one row per cell; starts with a BOM so that Excel and WPS read it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["code", "value", "raw", "page", "confidence", "label", "derived"])
    for cell in report.cells:
        writer.writerow([cell.code, "" if cell.value is None else cell.value, cell.raw, cell.page or "", cell.confidence, cell.label, int(cell.derived)])
    return "\ufeff" + buffer.getvalue()


def to_text(report: Report) -> str:
    """A summary a supervisor can read in a terminal."""
    lines = [
        f"文件: {report.path}  ({report.format}, {report.pages or '-'} 页)",
        f"机关: {report.agency or '未识别'}   年度: {report.year or '未识别'}   模板: {report.template or '未识别'}",
        "",
        "章节:",
    ]
    for section in report.sections:
        mark = "✓" if section.found else "✗"
        where = f" (第 {section.page} 页)" if section.page else ""
        lines.append(f"  {mark} {section.heading}{where}")
    catalogue = cell_catalogue()
    lines.append("")
    for table, title in TABLE_TITLES.items():
        cells = [c for c in report.cells if c.code.startswith(table + ".")]
        if not cells:
            lines.append(f"{title}: 未提取到数据")
            continue
        low = [c for c in cells if c.confidence < 1.0]
        lines.append(f"{title}: {len(cells)} 个单元格" + (f"（{len(low)} 个需核对）" if low else ""))
        if table == "t3":
            for row in ("new", "carried_in", "total", "carried_over"):
                cell = next((c for c in cells if c.code == f"t3.{row}.total"), None)
                if cell is not None:
                    info = catalogue[cell.code]
                    lines.append(f"    {info['row'] or info['group']}: {_value(cell.value)}")
        else:
            for cell in cells:
                info = catalogue.get(cell.code, {})
                column = (info.get("column") or "").split(" (")[0]
                name = " / ".join(x for x in (info.get("row") or info.get("group"), column) if x)
                lines.append(f"    {name}: {_value(cell.value)}")
        if low:
            lines.append("    需核对：")
            lines += [f"      {line}" for line in doubtful_cells(low, report.format)]
    lines.append("")
    counts = {s: sum(1 for f in report.findings if f.severity == s) for s in SEVERITIES}
    lines.append("发现: " + "，".join(f"{severity_label(s)} {n}" for s, n in counts.items()))
    for finding in report.findings:
        lines.append(f"  [{severity_label(finding.severity)}] {rule_title(finding.rule)}：{finding.message}")
    return "\n".join(lines) + "\n"


def doubt(cell: Cell, fmt: str) -> str:
    """Why a cell was read with less than full confidence, in words (see reading.interpret)."""
    c = cell.confidence
    if cell.value is None or c == 0:
        return "文字无法读取为数值"
    if abs(c - GAP_FILL_CONFIDENCE) < 1e-9:
        return "行标签缺失，按表格行序定位"
    if abs(c - BLANK_ROW_CONFIDENCE) < 1e-9:
        return "只印出行标签，按空白（0）读取"
    if abs(c - 0.5) < 1e-9:
        return "该行数值少于栏数，可能错栏"
    if abs(c - 0.6) < 1e-9:
        return f"数值前有多余字符（印作「{cell.raw.strip()}」）"
    if fmt in OCR_FORMATS:
        return f"OCR 识别置信度 {c:.2f}"
    return f"行标签「{cell.label}」与标准标签近似匹配（相似度 {c:.2f}）" if cell.label else f"置信度 {c:.2f}"


def doubtful_cells(cells: list[Cell], fmt: str) -> list[str]:
    """The cells to check, one line per row and reason: '表三「（二）部分公开」自然人、商业企业…：行标签缺失…'."""
    catalogue = cell_catalogue()
    groups: dict[tuple[str, str], list[str]] = {}
    for cell in cells:
        info = catalogue.get(cell.code, {})
        row = info.get("row") or info.get("group") or cell.code
        if info.get("table") == "t4":
            row = info.get("group") or row
        groups.setdefault((row, doubt(cell, fmt)), []).append(info.get("column") or cell.code)
    out = []
    for (row, why), columns in groups.items():
        where = "整行" if len(columns) == len(T3_COLUMNS) and not row.startswith("行政") else "、".join(columns)
        out.append(f"「{short_label(row)}」{where}：{why}")
    return out


def _value(value: float | int | None) -> str:
    return "无法读取" if value is None else str(value)


RENDERERS = {"text": to_text, "json": to_json, "csv": to_csv}
