"""The public API: `parse(path) -> Report`. The CLI and every output are thin layers over this."""

from __future__ import annotations

from extractor.checks.ocr import annotate_identity_findings, confirm_by_identities, review_findings
from extractor.checks.rules import run_checks
from extractor.checks.settings import RulesConfig
from extractor.checks.settings import apply as apply_rules
from extractor.document import Document
from extractor.lexicon.labels import section_heading
from extractor.readers import Progress, Source, read
from extractor.readers.limits import DEFAULT_LIMITS, Limits
from extractor.reading.interpret import TableResult, interpret
from extractor.reading.locate import SECTION_ORDER, Layout, locate
from extractor.reading.meta import find_agency_year
from extractor.reading.narrative import extract_statements
from extractor.reading.sentences import extract_sentences, extract_table_boxes
from extractor.report import Finding, Report, Section

TABLE_NAMES = {"t2": ("表二", "主动公开政府信息情况", "active"), "t3": ("表三", "收到和处理政府信息公开申请情况", "requests"), "t4": ("表四", "政府信息公开行政复议、行政诉讼情况", "review")}


def parse(source: Source, ocr: str = "auto", progress: Progress | None = None, limits: Limits = DEFAULT_LIMITS) -> Report:
    """Read a report of any supported format and return its Report (raises ReadError).

    `source`: a path, the file's bytes or a binary file object. `ocr`: "auto" reads pages without a
    text layer by OCR (needs the `ocr` extra), "always" OCRs every PDF page, "never" refuses scans.
    `progress(page, pages)` is called after each OCR'd page. `limits`: the page, size, pixel and
    nesting limits checked before heavy work; for the time and memory limits as well, in a child
    process, use `extractor.parse_guarded`.
    """
    return parse_document(read(source, ocr=ocr, progress=progress, limits=limits))


def parse_document(doc: Document) -> Report:
    from extractor.version import PARSER_VERSION

    layout = locate(doc)
    tables = interpret(layout)
    agency, year = find_agency_year(layout.rows, doc.path, doc.title)
    report = Report(
        path=doc.path,
        sha256=doc.sha256,
        format=doc.format,
        pages=doc.pages,
        agency=agency,
        year=year,
        parser_version=PARSER_VERSION,
    )
    report.sections = _sections(layout)
    report.statements = extract_statements(layout)
    report.sentences, report.table_boxes = extract_sentences(layout), extract_table_boxes(doc, layout)
    printed = [result for result in tables.values() if result.cells]
    for result in printed:
        report.cells.extend(result.cells)
    if not printed and year is not None and year < 2019:
        # 2008-2018 reports had no national table template: nothing to code, nothing to demand
        report.template = "pre2019"
        findings = [
            Finding(
                rule="structure.pre2019",
                severity="info",
                message=f"{year} 年报告早于 2019 年统一格式，未按格式提取统计表；章节与表格不作缺失检查",
            )
        ]
    else:
        report.template = tables["t2"].template or tables["t3"].template
        findings = _structure_findings(layout, tables)
    findings.extend(run_checks(report))
    confirm_by_identities(doc, report)  # OCR: a doubtful reading the table's arithmetic pins down is sure
    annotate_identity_findings(doc, report, findings)  # OCR: an identity broken by one doubtful cell says so
    findings.extend(review_findings(doc, report))  # OCR: values to check against the scan
    findings.extend(Finding(rule="document.note", severity="info", message=note) for note in doc.notes)
    report.findings = findings
    return report


def _structure_findings(layout: Layout, tables: dict[str, TableResult]) -> list[Finding]:
    """Missing sections and tables, blank tables, and what the interpreter noticed in each table."""
    findings: list[Finding] = []
    for code in SECTION_ORDER:
        if code not in layout.sections:
            findings.append(
                Finding(
                    rule="structure.missing_section",
                    severity="error",
                    message=f"缺少第{section_heading(code)[0]}部分「{section_heading(code)}」" + _and_table(code, tables),
                    section=code,
                )
            )
    all_blank = all(result.empty for result in tables.values())
    for key, result in tables.items():
        name, title, section = TABLE_NAMES[key]
        if not result.cells:
            if section in layout.sections:  # else reported once, with its missing section
                findings.append(Finding(rule="structure.missing_table", severity="error", message=f"未找到{name}（{title}）的数据", section=section))
            continue
        findings.extend(result.findings)
        if result.empty:
            # a blank table is read as zeros, but a report with every table blank was not filled in; a blank
            # 表四 alone is the usual way to say there were no review or court cases
            severity = "error" if all_blank else "info" if key == "t4" else "warning"
            findings.append(
                Finding(
                    rule="structure.empty_table",
                    severity=severity,
                    message=f"{name}（{title}）所有数值单元格均为空"
                    + ("：报告未填写统计表" if all_blank else "，按 0 计（无复议、诉讼案件时常整表留空）" if key == "t4" else "，按 0 计；请确认是否漏填"),
                    codes=[c.code for c in result.cells],
                    section=section,
                    page=result.cells[0].page,
                )
            )
    return findings


def _and_table(section: str, tables: dict) -> str:
    for key, (name, _, table_section) in TABLE_NAMES.items():
        if table_section == section and not tables[key].cells:
            return f"，{name}也未找到"
    return ""


def _sections(layout: Layout) -> list[Section]:
    out = []
    for code in SECTION_ORDER:
        hit = layout.sections.get(code)
        if hit:
            out.append(Section(code=code, heading=hit.heading, page=hit.page, found=True))
        else:
            out.append(Section(code=code, heading=section_heading(code), page=None, found=False))
    return out


class ConfiguredParse:
    """A picklable `parse` under a rules file, for `ingest(parse_fn=…)` worker processes."""

    def __init__(self, config: RulesConfig, limits: Limits = DEFAULT_LIMITS) -> None:
        self.config, self.limits = config, limits

    def __call__(self, path: str) -> Report:
        return apply_rules(parse(path, progress=lambda page, pages: None, limits=self.limits), self.config)
