"""Command-line flags for the per-document limits, one per field of `Limits`, shared by the commands."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click

from extractor.readers.limits import DEFAULT_LIMITS, Limits

HELP = {
    "timeout": "Seconds per document.",
    "memory_mb": "Memory per document, in MB.",
    "max_file_mb": "Largest file, in MB.",
    "max_pages": "Most PDF pages.",
    "max_stream_mb": "Largest PDF stream once decompressed, in MB.",
    "max_unzipped_mb": "Most a DOCX/ZIP (or a PDF's streams) may decompress to, in MB.",
    "max_zip_ratio": "Highest compression ratio of a zip member over 1 MB.",
    "max_zip_members": "Most members in a DOCX/ZIP.",
    "max_megapixels": "Largest image or scanned page (PDF pages at 300 dpi), in megapixels.",
    "max_frames": "Most frames in a TIFF.",
    "max_html_mb": "Largest web page, in MB.",
    "max_html_depth": "Deepest element nesting of a web page.",
    "max_table_cells": "Most cells in one table after row and column spans.",
}


def limit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --timeout, --memory-mb, --max-pages, … (defaults from Limits) to a click command."""
    for field in reversed(dataclasses.fields(Limits)):
        default = getattr(DEFAULT_LIMITS, field.name)
        kind = click.FloatRange(min=0.1) if isinstance(default, float) else click.IntRange(min=1)
        text = f"{HELP.get(field.name, '')} [default: {default:,}]"
        command = click.option(Limits.flag(field.name), field.name, type=kind, default=None, help=text)(command)
    return command


def pop_limits(options: dict[str, Any]) -> Limits:
    """The Limits given on the command line (removed from `options`), the defaults for the rest."""
    names = [field.name for field in dataclasses.fields(Limits)]
    return DEFAULT_LIMITS.replace(**{name: options.pop(name, None) for name in names})
