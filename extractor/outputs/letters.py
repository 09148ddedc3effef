"""Rectification notices (整改通知): one letter per agency with something to correct, ready to send.

A letter is built as plain data first (`letters`: who it goes to, each item with its file, page or
section, what is wrong and what to correct), then written as Markdown and as a DOCX laid out like an
official letter (发文机关, 文号, title, 主送, body, 落款 with the date written 2026年12月1日). The
settings (sender, 文号, deadline, date) are plain data the CLI and the web workspace both pass.

Only reports of a known agency get a letter (a file whose agency was not found, or a blank template,
is not someone to write to); errors and warnings not dismissed by a reviewer are listed, each once;
info findings are notes for the reviewer, not sent. Paths never appear: a file is named by its own
name, as the agency knows it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date

from extractor.checks.cross import file_name
from extractor.lexicon.labels import rule_action, rule_title, section_heading, severity_label, wording
from extractor.outputs.audit import Audit, AuditReport
from extractor.store.catalog import FindingView

_CN_NUMBERS = "一二三四五六七八九十"
_DATE = re.compile(r"^\s*(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*(?:[-/.月])\s*(\d{1,2})\s*日?\s*$")


class LetterError(ValueError):
    """Letter settings that cannot be used (a date that is not one); one line, Chinese."""


def parse_date(text: str | date | None) -> date | None:
    """'2026-12-01', '2026/12/1', '2026年12月1日' → date; None stays None."""
    if text is None or isinstance(text, date):
        return text
    m = _DATE.match(str(text))
    if not m:
        raise LetterError(f"日期「{text}」无法识别，请写作 2026-12-01 或 2026年12月1日")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise LetterError(f"日期「{text}」不存在") from None


def chinese_date(day: date) -> str:
    """2026年12月1日 (no leading zeros, as official documents write it)."""
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class LetterSettings:
    """What the supervisor puts on every letter: her office (落款 and letterhead), the document number
    (文号, e.g. 政务公开办〔2026〕12号), the deadline for corrections and the letter's date (today
    when not given)."""

    sender: str = "政务公开办公室"
    doc_number: str = ""
    deadline: date | None = None
    date: date | None = None
    docx: bool = True

    @classmethod
    def make(cls, sender: str | None = None, doc_number: str | None = None, deadline: str | date | None = None,
             day: str | date | None = None, docx: bool = True) -> LetterSettings:
        """Settings from user input (dates as text), with one-line errors for bad dates."""
        return cls(sender=(sender or cls.sender).strip() or cls.sender, doc_number=(doc_number or "").strip(),
                   deadline=parse_date(deadline), date=parse_date(day), docx=docx)

    def letter_date(self) -> date:
        return self.date or date.today()


@dataclass
class LetterItem:
    """One problem to correct: where (file, year, page or section), what, and what to do."""

    severity: str
    title: str
    file: str
    year: int | None
    where: str
    what: str
    action: str


@dataclass
class Letter:
    agency: str
    items: list[LetterItem] = field(default_factory=list)

    def files(self) -> list[str]:
        return sorted({i.file for i in self.items})

    def years(self) -> list[int]:
        return sorted({i.year for i in self.items if i.year})


def _to_correct(rep: AuditReport) -> list[FindingView]:
    """Errors and warnings not dismissed by the reviewer: what the agency must fix or explain."""
    return [f for f in rep.findings if f.severity in ("error", "warning") and not (f.decision and f.decision.decision == "dismissed")]


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _item(rep: AuditReport, f: FindingView) -> LetterItem:
    if f.page:
        where = f"第 {f.page} 页"
    elif f.section:
        where = section_heading(f.section)
    else:
        where = "全文"
    what = re.sub(r"（第 \d+ 页）", "", f.message).rstrip("。")
    action = rule_action(f.rule)
    if f.decision and f.decision.decision == "corrected" and f.decision.value is not None:
        action += f"；经核，正确数值应为 {_num(f.decision.value)}"
    if f.decision and f.decision.note:
        action += f"（审核意见：{f.decision.note}）"
    return LetterItem(f.severity, rule_title(f.rule), file_name(rep.path), rep.year, where, what, action)


def letters(audit: Audit) -> list[Letter]:
    """One letter per agency with something to correct, each problem once (a finding shared by copies
    of one report, or repeated by a re-ingest, is listed once)."""
    by_agency: dict[str, list[AuditReport]] = {}
    for rep in audit.reports:
        if not rep.agency_found:
            continue  # no agency to write to: a blank template, a file whose agency was not found
        by_agency.setdefault(rep.agency_key, []).append(rep)
    out = []
    for _key, reps in sorted(by_agency.items()):
        letter = Letter(reps[-1].agency)
        seen: set[str] = set()
        for rep in reps:
            for f in _to_correct(rep):
                if f.fingerprint and f.fingerprint in seen:
                    continue
                seen.add(f.fingerprint)
                letter.items.append(_item(rep, f))
        if letter.items:
            out.append(letter)
    return out


def _paragraphs(letter: Letter, settings: LetterSettings) -> tuple[str, list[str], list[str]]:
    """(主送, body paragraphs, 落款 lines) of a letter."""
    words = wording()["letters"]
    years = "、".join(str(y) for y in letter.years())
    files = "、".join(f"《{f}》" for f in letter.files())
    deadline = f"{chinese_date(settings.deadline)}前" if settings.deadline else words["default_deadline"]
    body = [
        f"经审核，你单位报送的{years + '年度' if years else ''}政府信息公开工作年度报告（{files}）存在以下 {len(letter.items)} 处问题。"
        f"请于{deadline}逐项核实更正，将更正后的年度报告重新公开发布，并将整改情况书面报送{settings.sender}。"
    ]
    for i, item in enumerate(letter.items):
        number = _CN_NUMBERS[i] if i < 10 else str(i + 1)
        year = f"{item.year}年度报告" if item.year and len(letter.years()) > 1 else "报告"
        source = f"《{item.file}》" if len(letter.files()) > 1 else year
        body.append(f"{number}、{item.title}（{severity_label(item.severity)}）。位置：{source}{item.where}。问题：{item.what}。整改要求：{item.action}。")
    body += [words["closing"], "特此通知。"]
    return f"{letter.agency}：", body, [settings.sender, chinese_date(settings.letter_date())]


def to_markdown(letter: Letter, settings: LetterSettings) -> str:
    to, body, sign = _paragraphs(letter, settings)
    lines = [f"# {wording()['letters']['title']}", ""]
    if settings.doc_number:
        lines[1:1] = [f"<p align='center'>{settings.doc_number}</p>", ""]
    lines += [to, ""]
    for text in body:
        lines += [text, ""]
    lines += ["", *[f"<p align='right'>{s}</p>" for s in sign]]
    return "\n".join(lines) + "\n"


def to_docx(letter: Letter, settings: LetterSettings, path: str) -> None:
    """A DOCX laid out like an official letter: the sender as a red letterhead, the 文号 under it and
    a red rule, the title centred, 主送 flush left, the body in 仿宋 with two-character indents, the
    signature block (sender and date) at the right."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    document = docx.Document()
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.7), Cm(2.5)

    def paragraph(text: str, size: float = 16, font: str = "仿宋", bold: bool = False, align=None,
                  indent: bool = False, color: RGBColor | None = None, after: float = 0) -> object:
        p = document.add_paragraph()
        p.paragraph_format.space_after = Pt(after)
        p.paragraph_format.line_spacing = Pt(28)
        if align is not None:
            p.alignment = align
        if indent:
            p.paragraph_format.first_line_indent = Pt(size * 2)
        run = p.add_run(text)
        run.font.size, run.font.bold, run.font.name = Pt(size), bold, font
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        if color is not None:
            run.font.color.rgb = color
        return p

    red = RGBColor(0xC0, 0x00, 0x00)
    paragraph(settings.sender, size=30, font="宋体", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, color=red, after=12)
    rule = paragraph(settings.doc_number, align=WD_ALIGN_PARAGRAPH.CENTER, after=18)
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "18"), ("w:space", "6"), ("w:color", "C00000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    rule._p.get_or_add_pPr().append(border)  # type: ignore[attr-defined]
    paragraph(wording()["letters"]["title"], size=20, font="宋体", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=18)
    to, body, sign = _paragraphs(letter, settings)
    paragraph(to)
    for text in body:
        paragraph(text, indent=True)
    paragraph("")
    for text in sign:
        p = paragraph(text, align=WD_ALIGN_PARAGRAPH.RIGHT)
        p.paragraph_format.right_indent = Pt(32)  # type: ignore[attr-defined]
    document.save(path)


def _filename(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", text)[:80]


def write_letters(audit: Audit, directory: str, settings: LetterSettings | None = None) -> list[str]:
    """Write each letter as Markdown (and DOCX) into `directory`; returns the paths written."""
    settings = settings or LetterSettings()
    os.makedirs(directory, exist_ok=True)
    written = []
    for letter in letters(audit):
        stem = os.path.join(directory, _filename(f"整改通知_{letter.agency}"))
        with open(stem + ".md", "w", encoding="utf-8") as fh:
            fh.write(to_markdown(letter, settings))
        written.append(stem + ".md")
        if settings.docx:
            to_docx(letter, settings, stem + ".docx")
            written.append(stem + ".docx")
    return written
