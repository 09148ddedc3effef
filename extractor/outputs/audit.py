"""Audit reports over a database: one self-contained HTML file a supervisor can mail, or Excel /
Markdown (the rectification notices built from the same data are in outputs.letters).

Everything is read from the database (findings, cross-report findings, reviewer decisions); the
source PDFs are opened only to crop an image of the table a finding is about. The HTML needs no
network: CSS, JavaScript and the PNG images are inline.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import zipfile
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text as sql

from extractor.checks.cross import HISTORY_RULES, file_name, history_note
from extractor.lexicon.labels import failure_text, file_status_label, rule_title, severity_label
from extractor.outputs.pages import render_page, render_region
from extractor.store import copies
from extractor.store import database as storage
from extractor.store.catalog import FindingView, findings_by_report
from extractor.store.ingest import member_name
from extractor.store.review import DECISION_LABELS, Decision

SEVERITY_LABELS = {s: severity_label(s) for s in ("error", "warning", "info")}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
SECTION_TABLE = {"active": "t2", "requests": "t3", "review": "t4"}
TABLE_LABELS = {"t2": "表二", "t3": "表三", "t4": "表四"}
IMAGE_DPI = 115  # table digits stay legible, a page stays ~100 KB
PAGE_DPI = 58  # whole page when the table's position is unknown
MARGIN = 8.0  # points around the table's box
PAGE_FORMATS = ("pdf", "image-pdf", "image")  # formats with pages to show (a scan's boxes are in points too)
BBox = tuple[float, float, float, float]


class AuditError(Exception):
    """An audit that cannot be written (no database, unknown output type); one-line message."""


@dataclass
class AuditReport:
    id: int
    agency: str
    agency_key: str
    year: int | None
    template: str | None
    path: str
    format: str
    findings: list[FindingView] = field(default_factory=list)
    agency_found: bool = True  # False: named after its file (no agency to write a letter to)
    copies: list[str] = field(default_factory=list)  # file names of the other copies of this agency-year
    images: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (caption, base64 PNG)

    def counts(self) -> Counter:
        return Counter(f.severity for f in self.findings)


@dataclass
class FailedFile:
    """A file that came in and could not be read as a report: first-class in every output."""

    path: str  # the file's own name (an archive member: 'batch.zip!a.pdf' → 'a.pdf')
    format: str
    reason: str  # in words, Chinese first
    kind: str  # READ_ERROR_KINDS (or transient)

    @property
    def status(self) -> str:
        return file_status_label("not_a_report" if self.kind == "not_a_report" else "failed")


@dataclass
class Audit:
    reports: list[AuditReport]
    generated: str
    db_path: str
    failed: list[FailedFile] = field(default_factory=list)

    def intake(self) -> str:
        """How many files came in, were read, could not be read (and how many reports lack an agency)."""
        unnamed = sum(1 for r in self.reports if not r.agency_found)
        not_reports = sum(1 for f in self.failed if f.kind == "not_a_report")
        n_copies = sum(len(r.copies) for r in self.reports)
        read = len(self.reports) + n_copies
        text = (
            f"收到文件 {read + len(self.failed)} 个：读取 {read} 个" + (f"（其中副本 {n_copies} 个，问题只列一次）" if n_copies else "")
            + f"，未能读取 {len(self.failed)} 个" + (f"（其中不是年度报告 {not_reports} 个）" if not_reports else "")
        )
        return text + (f"；{unnamed} 份报告未识别出机构" if unnamed else "")

    def agencies(self) -> list[tuple[str, str, Counter, int]]:
        """(agency key, name, severity counts, decided count) per agency, most errors first."""
        out: dict[str, tuple[str, Counter, int]] = {}
        for rep in self.reports:
            name, counts, decided = out.get(rep.agency_key, (rep.agency, Counter(), 0))
            counts = counts + rep.counts()
            decided += sum(1 for f in rep.findings if f.decision)
            out[rep.agency_key] = (name, counts, decided)
        rows = [(k, n, c, d) for k, (n, c, d) in out.items()]
        rows.sort(key=lambda r: (-r[2]["error"], -r[2]["warning"], -r[2]["info"], r[1]))
        return rows

    def rules(self) -> list[str]:
        return sorted({f.rule for r in self.reports for f in r.findings})


# --------------------------------------------------------------------------------------------------
# collecting


def collect(
    db_path: str,
    config: Any = None,
    agency: str | None = None,
    year: int | None = None,
    images: bool = True,
) -> Audit:
    """Read every parsed report with its findings and decisions (rules file applied: off / severity)."""
    if not storage.is_database_url(db_path) and not os.path.exists(db_path):
        raise AuditError(f"{db_path}: 数据库不存在")
    db = storage.connect(db_path)
    stack = ExitStack()
    try:
        conn = stack.enter_context(db.read())
        reports: dict[int, AuditReport] = {}
        for rid, path, fmt, agency_name, key, yr, template in conn.execute(sql(
            "SELECT id, path, format, agency, agency_key, year, template FROM reports WHERE status = 'ok' ORDER BY agency_key, year, path"
        )):
            if agency and agency not in (agency_name or "") and agency not in (key or ""):
                continue
            if year is not None and yr != year:
                continue
            name = agency_name or f"{file_status_label('no_agency')}：{file_name(path)}"
            reports[rid] = AuditReport(rid, name, key or path, yr, template, path, fmt or "", agency_found=bool(agency_name))
        failed = [
            FailedFile(file_name(path), fmt or "", failure_text(error or "", kind), kind or "corrupt")
            for path, fmt, error, kind in conn.execute(
                sql("SELECT path, format, error, error_kind FROM reports WHERE status = 'failed' ORDER BY path")
            )
            if not agency and year is None
        ]
        for rid, found in findings_by_report(conn).items():
            if rid in reports:
                reports[rid].findings.extend(found)
        boxes: dict[int, list[tuple[str, int, tuple[float, float, float, float]]]] = defaultdict(list)
        for rid, tbl, page, x0, y0, x1, y1 in conn.execute(sql("SELECT report_id, tbl, page, x0, y0, x1, y1 FROM table_boxes")):
            boxes[rid].append((tbl, page, (x0, y0, x1, y1)))
        headings: dict[int, dict[str, str]] = defaultdict(dict)
        for rid, code, heading in conn.execute(sql("SELECT report_id, code, heading FROM sections WHERE found <> 0")):
            headings[rid][code] = heading
        with_pages = [rid for rid, rep in reports.items() if rep.format in PAGE_FORMATS] if images else []
        cell_boxes = {
            rid: {c.code: (c.page, c.bbox) for c in report.cells if c.page and c.bbox}
            for rid, _, report in storage.load_reports(conn, with_pages)
        } if with_pages else {}  # fmt: skip
        groups = copies.copy_groups(db)
        history: dict[str, list[tuple[int, int | None, Any]]] = defaultdict(list)
        for rid, key, yr, value in conn.execute(sql(
            "SELECT r.id, r.agency_key, r.year, c.value FROM cells c JOIN reports r ON r.id = c.report_id"
            " WHERE c.code IN (" + ", ".join(f"'{c}'" for c in HISTORY_RULES.values()) + ") AND r.status = 'ok'"
        )):
            history[key or ""].append((rid, yr, value))
    finally:
        stack.close()
        db.close()
    _weigh_history(reports, history)
    _fold_copies(reports, groups)
    for rep in reports.values():
        if config is not None:
            _apply_config(rep, config)
        rep.findings.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.rule, f.page or 0))
        if images and rep.format in PAGE_FORMATS:
            _attach_images(rep, boxes.get(rep.id, []), cell_boxes.get(rep.id, {}), headings.get(rep.id, {}))
    ordered = sorted(reports.values(), key=lambda r: (r.agency_key, r.year or 0, r.path))
    return Audit(ordered, datetime.now().strftime("%Y-%m-%d %H:%M"), db_path, failed)


def _weigh_history(reports: dict[int, AuditReport], history: dict[str, list[tuple[int, int | None, Any]]]) -> None:
    """A plausibility warning (a fee that 'looks like 元') whose figure is in line with the agency's own
    other years is a note (checks.cross.history_note): the agency is a large collector, not careless."""
    for rep in reports.values():
        for f in rep.findings:
            if f.rule not in HISTORY_RULES or f.severity not in ("error", "warning"):
                continue
            figures = history.get(rep.agency_key, [])
            value = next((v for rid, _, v in figures if rid == rep.id), None)
            note = history_note(value, [(y, v) for rid, y, v in figures if y != rep.year])
            if note:
                f.severity, f.message = "info", f"{f.message}；{note}"


def _fold_copies(reports: dict[int, AuditReport], groups: dict[Any, list[Any]]) -> None:
    """One entry per agency-year: the canonical copy (store.copies) keeps its findings and names the
    other copies; a copy's finding with the canonical's fingerprint is the same problem, decided once,
    and is dropped; one the canonical has not (a scan's OCR doubt) moves over, saying which file."""
    for group in groups.values():
        if len(group) < 2 or group[0].id not in reports:
            continue
        canonical = reports[group[0].id]
        known = {f.fingerprint for f in canonical.findings}
        for copy in group[1:]:
            rep = reports.pop(copy.id, None)
            if rep is None:
                continue
            canonical.copies.append(file_name(rep.path))
            for f in rep.findings:
                if f.fingerprint in known:
                    continue
                known.add(f.fingerprint)
                f.message = f"{f.message}（见于副本 {file_name(rep.path)}）"
                canonical.findings.append(f)


def _apply_config(rep: AuditReport, config: Any) -> None:
    kept = []
    for f in rep.findings:
        if not config.enabled(f.rule):
            continue
        f.severity = config.severity(f.rule, f.severity)
        kept.append(f)
    rep.findings = kept


# --------------------------------------------------------------------------------------------------
# images of the table a finding is about


def _pdf_source(path: str) -> bytes | str | None:
    """The PDF's bytes or path: a file on disk, or a member of a zip ('archive.zip!member.pdf')."""
    if os.path.exists(path):
        return path
    if "!" in path:
        archive, member = path.split("!", 1)
        if os.path.exists(archive) and "!" not in member:
            try:
                with zipfile.ZipFile(archive) as zf:
                    for info in zf.infolist():
                        if info.filename == member or member_name(info) == member:
                            return zf.read(info)
            except (zipfile.BadZipFile, OSError):
                return None
    return None


def _attach_images(
    rep: AuditReport,
    boxes: list[tuple[str, int, BBox]],
    cell_boxes: dict[str, tuple[int, BBox]] | None = None,
    headings: dict[str, str] | None = None,
) -> None:
    """Crop the table region (or the whole page) behind each finding that names a page, with the
    cells the finding is about outlined (where their boxes are known) and the table's heading in the
    crop when it is printed just above the table. Findings about the same cells share one image."""
    cell_boxes, headings = cell_boxes or {}, headings or {}
    table_section = {t: s for s, t in SECTION_TABLE.items()}
    wanted: dict[str, tuple[int, BBox | None, list[BBox], str | None, str]] = {}
    for f in rep.findings:
        if not f.page:
            continue
        table = SECTION_TABLE.get(f.section or "") or next((c[:2] for c in f.codes if c[:2] in TABLE_LABELS), None)
        box = next((b for t, p, b in boxes if t == table and p == f.page), None)
        marked = sorted({code for code in f.codes if code in cell_boxes and cell_boxes[code][0] == f.page})
        highlight = [cell_boxes[code][1] for code in marked]
        suffix = "-" + hashlib.sha256(" ".join(marked).encode()).hexdigest()[:8] if marked else ""
        if box is not None and table:
            image_id = f"r{rep.id}-{table}-p{f.page}{suffix}"
            caption = f"{TABLE_LABELS[table]}（第 {f.page} 页）"
            title = headings.get(table_section.get(table, ""))
        else:
            image_id = f"r{rep.id}-p{f.page}{suffix}"
            caption = f"第 {f.page} 页"
            title = None
        if marked:
            caption += f"，框出 {len(marked)} 个单元格"
        wanted.setdefault(image_id, (f.page, box, highlight, title, caption))
        f.image = image_id
    if not wanted:
        return
    source = _pdf_source(rep.path)
    if source is None:
        return
    for image_id, (page_no, box, highlight, title, caption) in wanted.items():
        png = _render(source, page_no, box, highlight, title)
        if png:
            rep.images[image_id] = (caption, base64.b64encode(png).decode("ascii"))
    for f in rep.findings:
        if f.image and f.image not in rep.images:
            f.image = None


def _render(source: bytes | str, page: int, box: BBox | None, highlight: list[BBox], title: str | None) -> bytes | None:
    try:
        if box is None:
            return render_page(source, page, highlight, dpi=PAGE_DPI)
        return render_region(source, page, box, highlight, margin=MARGIN, title=title, dpi=IMAGE_DPI)
    except Exception:  # noqa: BLE001 - a file that moved or changed since ingest: no image, the findings still stand
        return None


# --------------------------------------------------------------------------------------------------
# HTML


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return str(value)


def _decision_text(d: Decision | Any | None) -> str:
    if d is None:
        return "未审核"
    text = DECISION_LABELS.get(d.decision, d.decision)
    if d.decision == "corrected":
        text += f"：更正值 {_num(d.value)}"
    return f"{text}（{d.decided_by}，{d.decided_at[:10]}）" + (f"：{d.note}" if d.note else "")


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #356;padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px}.meta{color:#666;font-size:13px}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #ccd;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#e8eef4;cursor:pointer;user-select:none;white-space:nowrap}th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
td.sev{white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
.sev-error{color:#b00020;font-weight:bold}.sev-warning{color:#a65f00;font-weight:bold}.sev-info{color:#2c5f8a}
tr.error td:first-child{border-left:4px solid #b00020}tr.warning td:first-child{border-left:4px solid #e0a000}tr.info td:first-child{border-left:4px solid #6a9cc9}
.filters{position:sticky;top:0;background:#fafafa;padding:8px 0;border-bottom:1px solid #ccd;z-index:2}
.filters label{margin-right:14px;font-size:14px}.filters select,.filters input{font-size:14px;padding:2px 4px}
.report{background:#fff;border:1px solid #dde;padding:8px 14px;margin:14px 0;border-radius:4px}
.fig{display:inline-block;margin:6px 10px 6px 0;vertical-align:top}.fig img{max-width:100%;border:1px solid #ccd}
.fig figcaption{font-size:12px;color:#555}.fp{font-family:monospace;font-size:11px;color:#777}
.decided{color:#1b6e2d}.undecided{color:#888}#count{font-size:13px;color:#555;margin-left:8px}
"""

_JS = """
(function(){
  var sev=document.getElementById('f-severity'), rule=document.getElementById('f-rule'),
      agency=document.getElementById('f-agency'), text=document.getElementById('f-text'),
      count=document.getElementById('count');
  function apply(){
    var shown=0;
    document.querySelectorAll('tr.finding').forEach(function(tr){
      var ok=(!sev.value||tr.dataset.severity===sev.value)&&(!rule.value||tr.dataset.rule===rule.value)
        &&(!agency.value||tr.dataset.agency===agency.value)
        &&(!text.value||tr.textContent.indexOf(text.value)>=0);
      tr.style.display=ok?'':'none'; if(ok)shown++;
    });
    document.querySelectorAll('section.report').forEach(function(s){
      var any=s.querySelector('tr.finding:not([style*="none"])');
      var agencyOk=!agency.value||s.dataset.agency===agency.value;
      s.style.display=(any||(!sev.value&&!rule.value&&!text.value&&agencyOk&&!s.querySelector('tr.finding')))&&agencyOk?'':'none';
    });
    document.querySelectorAll('#summary tbody tr').forEach(function(tr){
      tr.style.display=(!agency.value||tr.dataset.agency===agency.value)?'':'none';
    });
    count.textContent='显示 '+shown+' 条发现';
  }
  [sev,rule,agency].forEach(function(el){el.addEventListener('change',apply)});
  text.addEventListener('input',apply);
  document.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('th').forEach(function(th,i){
      th.addEventListener('click',function(){
        var body=table.tBodies[0], rows=Array.prototype.slice.call(body.rows);
        var asc=!th.classList.contains('sorted-asc');
        table.querySelectorAll('th').forEach(function(h){h.classList.remove('sorted-asc','sorted-desc')});
        th.classList.add(asc?'sorted-asc':'sorted-desc');
        rows.sort(function(a,b){
          var x=a.cells[i].dataset.sort||a.cells[i].textContent, y=b.cells[i].dataset.sort||b.cells[i].textContent;
          var nx=parseFloat(x), ny=parseFloat(y);
          var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y,'zh');
          return asc?c:-c;
        });
        rows.forEach(function(r){body.appendChild(r)});
      });
    });
  });
  apply();
})();
"""


def render_html(audit: Audit) -> str:
    """One self-contained HTML page (no external resources)."""
    out: list[str] = []
    w = out.append
    total = Counter()
    for rep in audit.reports:
        total += rep.counts()
    w("<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>")
    w("<meta name='viewport' content='width=device-width, initial-scale=1'>")
    w("<title>政府信息公开工作年度报告审核报告</title>")
    w(f"<style>{_CSS}</style></head><body>")
    w("<h1>政府信息公开工作年度报告审核报告</h1>")
    w(
        f"<p class='meta'>生成时间：{_e(audit.generated)}；数据库：{_e(os.path.basename(audit.db_path))}；"
        f"{_e(audit.intake())}；机构 {len(audit.agencies())} 个；"
        f"错误 {total['error']} 条，警告 {total['warning']} 条，提示 {total['info']} 条。</p>"
    )
    # filters
    agencies = audit.agencies()
    w("<div class='filters'>")
    w("<label>级别 <select id='f-severity'><option value=''>全部</option>")
    for sev, label in SEVERITY_LABELS.items():
        w(f"<option value='{sev}'>{label}</option>")
    w("</select></label><label>规则 <select id='f-rule'><option value=''>全部</option>")
    for rule in audit.rules():
        w(f"<option value='{_e(rule)}'>{_e(rule_title(rule))}（{_e(rule)}）</option>")
    w("</select></label><label>机构 <select id='f-agency'><option value=''>全部</option>")
    for key, name, _, _ in sorted(agencies, key=lambda a: a[1]):
        w(f"<option value='{_e(key)}'>{_e(name)}</option>")
    w("</select></label><label>搜索 <input id='f-text' type='search' placeholder='说明中的文字'></label>")
    w("<span id='count'></span></div>")
    # summary
    w("<h2>汇总：各机构发现数</h2>")
    w("<table id='summary' class='sortable'><thead><tr><th>机构</th><th>报告数</th><th>错误</th><th>警告</th><th>提示</th><th>已审核</th></tr></thead><tbody>")
    n_reports = Counter(r.agency_key for r in audit.reports)
    for key, name, counts, decided in agencies:
        w(
            f"<tr data-agency='{_e(key)}'><td><a href='#a-{_anchor(key)}'>{_e(name)}</a></td><td class='n'>{n_reports[key]}</td>"
            f"<td class='n sev-error'>{counts['error']}</td><td class='n sev-warning'>{counts['warning']}</td>"
            f"<td class='n sev-info'>{counts['info']}</td><td class='n'>{decided}</td></tr>"
        )
    w(f"</tbody><tfoot><tr><th>合计</th><th>{len(audit.reports)}</th><th>{total['error']}</th><th>{total['warning']}</th><th>{total['info']}</th>")
    w(f"<th>{sum(a[3] for a in agencies)}</th></tr></tfoot></table>")
    if audit.failed:
        w(f"<h2 id='failed'>未能读取的文件（{len(audit.failed)} 个）</h2>")
        w("<table id='failed-files' class='sortable'><thead><tr><th>文件</th><th>格式</th><th>状态</th><th>原因</th></tr></thead><tbody>")
        for f in audit.failed:
            w(f"<tr class='failed'><td>{_e(f.path)}</td><td>{_e(f.format)}</td><td>{_e(f.status)}</td><td>{_e(f.reason)}</td></tr>")
        w("</tbody></table>")
    # per report
    w("<h2>各报告发现</h2>")
    anchored: set[str] = set()
    for rep in audit.reports:
        anchor = ""
        if rep.agency_key not in anchored:
            anchored.add(rep.agency_key)
            anchor = f" id='a-{_anchor(rep.agency_key)}'"
        counts = rep.counts()
        w(f"<section class='report' data-agency='{_e(rep.agency_key)}'{anchor}>")
        w(f"<h3>{_e(rep.agency)} {_e(rep.year or '')}年度（{_e(rep.template or '格式未识别')} 年版格式）</h3>")
        w(
            f"<p class='meta'>来源文件：{_e(file_name(rep.path))}{_e(_copies_text(rep))}；错误 {counts['error']}，警告 {counts['warning']}，提示 {counts['info']}</p>"
        )
        if not rep.findings:
            w("<p>未发现问题。</p></section>")
            continue
        w("<table class='sortable findings'><thead><tr><th>级别</th><th>问题</th><th>说明</th><th>印出值</th><th>应为</th><th>页码</th><th>审核决定</th><th>规则编号</th><th>指纹</th></tr></thead><tbody>")
        for f in rep.findings:
            page = _e(f.page or "")
            if f.image:
                page = f"<a href='#{_e(f.image)}'>{page}</a>"
            decision = f"<span class='{'decided' if f.decision else 'undecided'}'>{_e(_decision_text(f.decision))}</span>"
            w(
                f"<tr class='finding {f.severity}' data-severity='{f.severity}' data-rule='{_e(f.rule)}' data-agency='{_e(rep.agency_key)}'>"
                f"<td class='sev sev-{f.severity}' data-sort='{SEVERITY_ORDER.get(f.severity, 3)}'>{SEVERITY_LABELS.get(f.severity, f.severity)}</td>"
                f"<td>{_e(rule_title(f.rule))}{'（跨报告）' if f.cross else ''}</td><td>{_e(f.message)}</td>"
                f"<td class='n'>{_e(_num(f.actual))}</td><td class='n'>{_e(_num(f.expected))}</td><td class='n'>{page}</td>"
                f"<td>{decision}</td><td class='fp'>{_e(f.rule)}</td><td class='fp'>{_e(f.fingerprint)}</td></tr>"
            )
        w("</tbody></table>")
        for image_id, (caption, data) in rep.images.items():
            w(f"<figure class='fig' id='{_e(image_id)}'><img alt='{_e(caption)}' src='data:image/png;base64,{data}'><figcaption>{_e(caption)}</figcaption></figure>")
        w("</section>")
    w(f"<script>{_JS}</script></body></html>")
    return "\n".join(out)


def _copies_text(rep: AuditReport) -> str:
    return f"（副本：{'、'.join(rep.copies)}）" if rep.copies else ""


def _anchor(key: str) -> str:
    return re.sub(r"[^0-9A-Za-z\u4e00-\u9fff]", "_", key)


# --------------------------------------------------------------------------------------------------
# Markdown and Excel


def render_markdown(audit: Audit) -> str:
    lines = ["# 政府信息公开工作年度报告审核报告", "", f"生成时间：{audit.generated}；{audit.intake()}。", ""]
    if audit.failed:
        lines += [f"## 未能读取的文件（{len(audit.failed)} 个）", "", "| 文件 | 格式 | 状态 | 原因 |", "|---|---|---|---|"]
        lines += [f"| {_md(f.path)} | {f.format} | {f.status} | {_md(f.reason)} |" for f in audit.failed]
        lines.append("")
    lines += ["## 汇总", "", "| 机构 | 错误 | 警告 | 提示 | 已审核 |", "|---|---:|---:|---:|---:|"]
    for _, name, counts, decided in audit.agencies():
        lines.append(f"| {_md(name)} | {counts['error']} | {counts['warning']} | {counts['info']} | {decided} |")
    for rep in audit.reports:
        lines += ["", f"## {_md(rep.agency)} {rep.year or ''}年度", "", f"来源文件：{_md(file_name(rep.path))}{_md(_copies_text(rep))}", ""]
        if not rep.findings:
            lines.append("未发现问题。")
            continue
        lines += ["| 级别 | 问题 | 说明 | 印出值 | 应为 | 页码 | 审核决定 | 规则编号 | 指纹 |", "|---|---|---|---:|---:|---:|---|---|---|"]
        for f in rep.findings:
            lines.append(
                f"| {SEVERITY_LABELS.get(f.severity, f.severity)} | {rule_title(f.rule)} | {_md(f.message)} | {_num(f.actual)} | "
                f"{_num(f.expected)} | {f.page or ''} | {_md(_decision_text(f.decision))} | `{f.rule}` | {f.fingerprint} |"
            )
    return "\n".join(lines) + "\n"


def _md(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


FINDING_HEADERS = ["指纹", "机构", "年度", "级别", "问题", "说明", "单元格", "印出值", "应为", "页码", "来源文件", "决定", "更正值", "审核人", "备注", "规则编号"]


def write_xlsx(audit: Audit, path: str) -> None:
    """Sheets 汇总 and 发现; the 决定 / 更正值 / 审核人 / 备注 columns are read back by `review --import`."""
    import openpyxl
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    summary = book.active
    summary.title = "汇总"
    summary.append(["机构", "报告数", "错误", "警告", "提示", "已审核"])
    n_reports = Counter(r.agency_key for r in audit.reports)
    for key, name, counts, decided in audit.agencies():
        summary.append([name, n_reports[key], counts["error"], counts["warning"], counts["info"], decided])
    sheet = book.create_sheet("发现")
    sheet.append(FINDING_HEADERS)
    fills = {"error": PatternFill("solid", fgColor="F8D7DA"), "warning": PatternFill("solid", fgColor="FFF3CD")}
    for rep in audit.reports:
        for f in rep.findings:
            d = f.decision
            sheet.append(
                [
                    f.fingerprint, rep.agency, rep.year, SEVERITY_LABELS.get(f.severity, f.severity), rule_title(f.rule), f.message,
                    ", ".join(f.codes), f.actual, f.expected, f.page, os.path.basename(rep.path),
                    DECISION_LABELS.get(d.decision) if d else None, d.value if d else None,
                    d.decided_by if d else None, d.note if d else None, f.rule,
                ]
            )  # fmt: skip
            if f.severity in fills:
                sheet.cell(sheet.max_row, 4).fill = fills[f.severity]
    choices = DataValidation(type="list", formula1='"确认,不成立,已更正"', allow_blank=True)
    sheet.add_data_validation(choices)
    if sheet.max_row > 1:
        choices.add(f"L2:L{sheet.max_row}")
    for ws in (summary, sheet):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    for col, width in zip("ABCDEFGHIJKLMNOP", [18, 28, 7, 7, 22, 70, 30, 9, 9, 6, 30, 10, 9, 10, 24, 26], strict=True):
        sheet.column_dimensions[col].width = width
    summary.column_dimensions["A"].width = 32
    summary.append([])
    summary.append([audit.intake()])
    unread = book.create_sheet("未能读取的文件")
    unread.append(["文件", "格式", "状态", "原因"])
    for f in audit.failed:
        unread.append([f.path, f.format, f.status, f.reason])
    for cell in unread[1]:
        cell.font = Font(bold=True)
    for col, width in zip("ABCD", [40, 10, 14, 90], strict=True):
        unread.column_dimensions[col].width = width
    book.save(path)


def write(audit: Audit, path: str) -> None:
    """Write the audit in the format named by the file extension (.html/.htm, .xlsx, .md)."""
    ext = os.path.splitext(path)[1].lower()
    if ext in (".html", ".htm"):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(render_html(audit))
    elif ext == ".xlsx":
        write_xlsx(audit, path)
    elif ext in (".md", ".markdown"):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(render_markdown(audit))
    else:
        raise AuditError(f"{path}: 不支持的输出类型（请用 .html、.xlsx 或 .md）")
