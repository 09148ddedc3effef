"""Read Chinese government information-disclosure annual reports and check their statistics.

The names below are imported on first use (PEP 562): `import extractor.cli` or any one stage does not
pay for the whole pipeline, and the `extractor` command can set up the garbage collector before the
pipeline's modules are imported (see extractor.cli.run).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "parse": "extractor.api",
    "parse_document": "extractor.api",
    "READ_ERROR_KINDS": "extractor.document",
    "ReadError": "extractor.document",
    "parse_guarded": "extractor.guard",
    "Limits": "extractor.readers.limits",
    "Report": "extractor.report",
    "Cell": "extractor.report",
    "Finding": "extractor.report",
    "Section": "extractor.report",
    "PARSER_VERSION": "extractor.version",
    "__version__": "extractor.version",
}
__all__ = ["parse", "parse_guarded", "parse_document", "Limits", "ReadError", "READ_ERROR_KINDS", "Report", "Cell", "Finding", "Section", "PARSER_VERSION", "__version__"]

if TYPE_CHECKING:
    from extractor.api import parse, parse_document
    from extractor.document import READ_ERROR_KINDS, ReadError
    from extractor.guard import parse_guarded
    from extractor.readers.limits import Limits
    from extractor.report import Cell, Finding, Report, Section
    from extractor.version import PARSER_VERSION, __version__


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'extractor' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
