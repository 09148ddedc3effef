"""Read Chinese government information-disclosure annual reports and check their statistics."""

from extractor.api import parse, parse_document
from extractor.document import READ_ERROR_KINDS, ReadError
from extractor.guard import parse_guarded
from extractor.readers.limits import Limits
from extractor.report import Cell, Finding, Report, Section
from extractor.version import PARSER_VERSION, __version__

__all__ = ["parse", "parse_guarded", "parse_document", "Limits", "ReadError", "READ_ERROR_KINDS", "Report", "Cell", "Finding", "Section", "PARSER_VERSION", "__version__"]
