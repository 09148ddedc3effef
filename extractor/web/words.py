"""Reasons from the engine (English, one line) said in Chinese for the pages; the original follows."""

from __future__ import annotations

import re

# first match wins: (pattern on the English reason, what a reviewer reads)
_REASONS: tuple[tuple[str, str], ...] = (
    (r"encrypted", "文件有密码保护，无法读取"),
    (r"no text layer.*needs OCR|needs OCR|it needs OCR", "扫描件（没有文字层），需要文字识别，本机未安装或未启用"),
    (r"OCR found no text", "扫描件中识别不出文字"),
    (r"^empty file|is empty|has no text|has no pages|nothing to read", "文件是空的或没有文字"),
    (r"not an annual report|JSON data file", "不是政府信息公开年度报告"),
    (r"corrupt|unreadable|cannot parse|cannot tell the text encoding|broken", "文件已损坏或无法解析"),
    (r"took longer than|timeout|did not convert the file within", "读取超时"),
    (r"more than .* MB of memory|out of memory", "读取所需内存超过上限"),
    (r"the limit is", "超过文件大小、页数或内容上限"),
    (r"needs LibreOffice|LibreOffice could not be started", "读取 DOC/WPS/RTF 需要 LibreOffice，本机未安装"),
    (r"not a supported report format|not supported|office document that is not DOCX", "不支持的文件格式"),
    (r"^image \(|image \(GIF\)", "图片文件（无法作为报告读取）"),
    (r"executable|SQLite database", "不是报告文件"),
    (r"already ingested", "此前已入库"),
    (r"worker crashed", "读取进程异常退出"),
    (r"cannot store", "解析结果无法保存"),
    (r"member larger than", "压缩包中的文件过大"),
    (r"zip nested too deep", "压缩包嵌套过深"),
    (r"cannot extract from archive|broken zip", "压缩包损坏，无法解压"),
    (r"not found", "找不到文件"),
)


def reason(text: str | None) -> str:
    """'文件已损坏或无法解析（corrupt or unreadable PDF …）' — Chinese first, the engine's words after."""
    if not text:
        return ""
    if re.search(r"[\u4e00-\u9fff]", text[:8]):
        return text  # already Chinese (our own reasons)
    for pattern, words in _REASONS:
        if re.search(pattern, text, flags=re.IGNORECASE):
            return f"{words}（{text}）"
    return text
