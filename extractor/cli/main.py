"""Command line: a thin layer over the Python API. Bad input → one line on stderr, exit code 2."""

from __future__ import annotations

import sys

import click

from extractor.checks import settings as rules_config
from extractor.cli import audit as cli_audit
from extractor.cli import batch as cli_batch
from extractor.cli import web as cli_web
from extractor.cli.options import limit_options, pop_limits
from extractor.document import ReadError
from extractor.guard import parse_guarded
from extractor.lexicon.labels import failure_text
from extractor.outputs.render import RENDERERS
from extractor.readers import printable
from extractor.version import PARSER_VERSION

EXIT_BAD_INPUT = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(PARSER_VERSION, prog_name="extractor")
def main() -> None:
    """Read and audit Chinese government information-disclosure annual reports (政府信息公开工作年度报告)."""


@main.command("parse")
@click.argument("path", type=str)
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file instead of standard output.")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False), help="TOML file that switches rules off or changes their tolerance or severity.")
@click.option("--ocr", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True, help="OCR for pages without a text layer (needs the ocr extra).")
@limit_options
def parse_command(path: str, fmt: str, output: str | None, rules_path: str | None, ocr: str, **limit_flags: object) -> None:
    """Extract sections, tables and findings from one report (PDF, DOCX, DOC/WPS/RTF, HTML, text, scans).

    The report is parsed in a child process under the time and memory limits; each limit exceeded
    is a one-line error naming the flag that raises it (exit code 2).
    """
    config = _load_rules(rules_path)
    limits = pop_limits(limit_flags)
    shown = printable(path)
    try:
        report = parse_guarded(path, limits, ocr=ocr, rules=config)
    except ReadError as exc:  # said in Chinese first, the engine's own words after (as the pages say it)
        click.echo(f"extractor: {shown}: {failure_text(str(exc), exc.kind)} [{exc.kind}]", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # never show a traceback to a user; say what broke and where
        reason = f"could not be parsed ({exc.__class__.__name__}: {exc})"
        click.echo(f"extractor: {shown}: {failure_text(reason, 'corrupt')}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    rendered = RENDERERS[fmt](report)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(rendered)
    else:
        click.echo(rendered, nl=False)


def _load_rules(rules_path: str | None) -> rules_config.RulesConfig | None:
    if rules_path is None:
        return None
    try:
        return rules_config.load(rules_path)
    except rules_config.RulesConfigError as exc:
        click.echo(f"extractor: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)


for _name, _command in (
    ("ingest", cli_batch.ingest),
    ("compare", cli_batch.compare),
    ("export", cli_batch.export),
    ("rules", cli_audit.rules),
    ("audit", cli_audit.audit),
    ("review", cli_audit.review),
    ("users", cli_web.users),
    ("serve", cli_web.serve),
):
    main.add_command(_command, _name)

if __name__ == "__main__":
    main()
