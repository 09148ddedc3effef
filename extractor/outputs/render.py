"""Renderings of one Report: readable summary, JSON (the contract), long CSV for Excel."""

from __future__ import annotations

import csv
import io
import json

from extractor.lexicon.labels import cell_catalogue
from extractor.report import Report

SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}
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
        low = sum(1 for c in cells if c.confidence < 1.0)
        lines.append(f"{title}: {len(cells)} 个单元格" + (f"（{low} 个需核对）" if low else ""))
        if table == "t3":
            for row in ("new", "carried_in", "total", "carried_over"):
                cell = next((c for c in cells if c.code == f"t3.{row}.total"), None)
                if cell is not None:
                    lines.append(f"    {catalogue[cell.code]['group']}: {_value(cell.value)}")
        else:
            for cell in cells:
                info = catalogue.get(cell.code, {})
                column = (info.get("column") or "").split(" (")[0]
                name = " / ".join(x for x in (info.get("row") or info.get("group"), column) if x)
                lines.append(f"    {name}: {_value(cell.value)}")
    lines.append("")
    counts = {s: sum(1 for f in report.findings if f.severity == s) for s in SEVERITY_NAMES}
    lines.append("发现: " + "，".join(f"{SEVERITY_NAMES[s]} {n}" for s, n in counts.items()))
    for finding in report.findings:
        lines.append(f"  [{SEVERITY_NAMES.get(finding.severity, finding.severity)}] {finding.rule}: {finding.message}")
    return "\n".join(lines) + "\n"


def _value(value: float | int | None) -> str:
    return "无法读取" if value is None else str(value)


RENDERERS = {"text": to_text, "json": to_json, "csv": to_csv}
