"""Command line: a thin layer over the Python API. Bad input → one line on stderr, exit code 2."""

from __future__ import annotations

import sys

import click

from extractor import PARSER_VERSION
from extractor.api import parse
from extractor.document import ReadError
from extractor.outputs import RENDERERS

EXIT_BAD_INPUT = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(PARSER_VERSION, prog_name="extractor")
def main() -> None:
    """Read and audit Chinese government information-disclosure annual reports (政府信息公开工作年度报告)."""


@main.command("parse")
@click.argument("path", type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file instead of standard output.")
def parse_command(path: str, fmt: str, output: str | None) -> None:
    """Extract sections, tables and findings from one report (PDF, DOCX, HTML or text)."""
    try:
        report = parse(path)
    except ReadError as exc:
        click.echo(f"extractor: {path}: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # never show a traceback to a user; say what broke and where
        click.echo(f"extractor: {path}: could not be parsed ({exc.__class__.__name__}: {exc})", err=True)
        sys.exit(EXIT_BAD_INPUT)
    rendered = RENDERERS[fmt](report)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(rendered)
    else:
        stream = click.get_text_stream("stdout")
        stream.write(rendered)


@main.command("rules")
def rules_command() -> None:
    """List the rules the checks apply."""
    from extractor.checks import RULES

    for rule in RULES:
        click.echo(f"{rule.id:<22} {rule.severity:<8} {rule.scope:<5} {rule.description}")


def _register_optional_commands() -> None:
    """Commands from modules that may not be installed in every build (batch, audit)."""
    try:
        from extractor import cli_batch
    except ImportError:
        return
    for name in ("ingest", "compare"):
        command = getattr(cli_batch, name, None)
        if isinstance(command, click.Command):
            main.add_command(command, name)


_register_optional_commands()

if __name__ == "__main__":
    main()
