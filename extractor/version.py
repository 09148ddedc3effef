"""The package version, which is also the parser version stored with every report (a change of parser
re-parses stored reports)."""

__version__ = "0.1.0"
PARSER_VERSION = __version__
