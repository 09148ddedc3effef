"""Read Chinese government information-disclosure annual reports and check their statistics."""

from extractor.api import parse, parse_document
from extractor.document import ReadError
from extractor.report import Cell, Finding, Report, Section
from extractor.version import PARSER_VERSION, __version__

__all__ = ["parse", "parse_document", "ReadError", "Report", "Cell", "Finding", "Section", "PARSER_VERSION", "__version__"]
