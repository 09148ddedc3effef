"""`extractor ingest`, `extractor compare` and `extractor export`: thin click wrappers over
extractor.store.ingest, extractor.outputs.compare and extractor.outputs.export.

Plain commands, registered on the main group by extractor/cli.py; `python -m extractor.cli.batch`
runs them on their own group too (useful in scripts and tests).
"""

from __future__ import annotations

import sys

import click

from extractor.cli.options import limit_options, pop_limits


def _fail(message: str) -> None:
    raise click.ClickException(" ".join(str(message).split()))


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--db",
    "db_path",
    default="reports.db",
    show_default=True,
    help="Database to write: a SQLite file, or a URL postgresql://user@host:port/db.",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per core).")
@click.option("--force", is_flag=True, help="Re-parse files already ingested with this parser version.")
@click.option(
    "--aliases",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV of name,key merging agency names (stored in the database for later runs).",
)
@click.option("--rules", "rules_path", type=click.Path(exists=True, dir_okay=False), help="TOML rules file (switch rules off, change tolerance or severity).")
@click.option(
    "--prefer",
    default=None,
    help="Which copy of an agency-year is canonical, e.g. 'complete,pdf,docx,html,scan' (the default; stored in the database).",
)
@click.option("--quiet", is_flag=True, help="No progress output, summary only.")
@click.option(
    "--cluster",
    "cluster",
    default=None,
    metavar="tcp://HOST:PORT",
    help="Parse on this Dask scheduler's workers (needs the cluster extra); --workers is then ignored.",
)
@click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="fsspec option for URL inputs, e.g. anon=true or endpoint_url=http://…; repeatable.",
)
@limit_options
def ingest(
    paths: tuple[str, ...],
    db_path: str,
    workers: int | None,
    force: bool,
    aliases: str | None,
    rules_path: str | None,
    prefer: str | None,
    quiet: bool,
    cluster: str | None,
    storage_options: tuple[str, ...],
    **limit_flags: object,
) -> None:
    """Parse report files, folders and .zip archives into a database; failures are recorded, not fatal.

    Each file is parsed by a worker under the per-document limits (time, memory, pages, sizes, …);
    a file over a limit is a failed row naming the flag that raises it. With --cluster, PATHS may
    also be fsspec URLs (s3://bucket/2024/, file:///shared/…), read by the workers.
    """
    import contextlib
    import os

    from extractor.api import ConfiguredParse
    from extractor.checks import settings as rules_config
    from extractor.store.cluster import ClusterError, DaskExecutor, is_url, parse_storage_options
    from extractor.store.copies import PreferenceError, parse_preference
    from extractor.store.database import StorageError
    from extractor.store.ingest import ingest as run

    for path in paths:
        if is_url(path):
            if cluster is None:
                _fail(f"{path}: URL inputs are read by cluster workers: add --cluster tcp://HOST:PORT")
        elif not os.path.exists(path):
            _fail(f"Path '{path}' does not exist.")
    limits = pop_limits(limit_flags)
    timeout, memory_mb = limits.timeout, limits.memory_mb

    try:
        parse_preference(prefer)
    except PreferenceError as exc:
        _fail(str(exc))
    extra = {}
    if rules_path:
        try:
            extra["parse_fn"] = ConfiguredParse(rules_config.load(rules_path), limits)
        except rules_config.RulesConfigError as exc:
            _fail(str(exc))
    executor: contextlib.AbstractContextManager = contextlib.nullcontext()
    if cluster is not None:
        try:
            options = parse_storage_options(storage_options)
        except ValueError as exc:
            _fail(str(exc))
        executor = DaskExecutor(cluster, timeout=timeout, memory_mb=memory_mb, storage_options=options, **extra)
    try:
        with executor as ex:
            summary = run(
                list(paths),
                db_path,
                workers=workers,
                timeout=timeout,
                memory_mb=memory_mb,
                force=force,
                aliases=aliases,
                progress="none" if quiet else "auto",
                executor=ex,
                limits=limits,
                prefer=prefer,
                **extra,
            )
    except (StorageError, ClusterError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        click.echo("interrupted: files finished so far are stored; run the same command again to continue", err=True)
        sys.exit(130)
    except OSError as exc:
        _fail(f"{exc.filename or ''}: {exc.strerror or exc}")
    click.echo(summary.text())


@click.command()
@click.option("--db", "db_path", required=True, help="Database made by ingest: a SQLite file or a postgresql:// URL.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="FILE.csv or FILE.xlsx.")
@click.option("--year", type=int, default=None, help="Only this report year.")
@click.option("--agency", default=None, help="Only agencies whose name or key contains this text.")
@click.option("--codes", default=None, help="Cell codes to show: glob pattern(s), comma-separated, e.g. 't3.*.total'.")
@click.option("--by-year", is_flag=True, help="One row per agency, years side by side with the change.")
def compare(
    db_path: str, out_path: str, year: int | None, agency: str | None, codes: str | None, by_year: bool
) -> None:
    """Write a comparison table of ingested reports (one row per report, or per agency with --by-year)."""
    from extractor.outputs.compare import CompareError
    from extractor.outputs.compare import compare as run

    try:
        n = run(db_path, out_path, year=year, agency=agency, codes=codes, by_year=by_year)
    except CompareError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {out_path}: {exc.strerror or exc}")
    click.echo(f"{n} rows written to {out_path}")


@click.command()
@click.option("--db", "db_path", required=True, help="Database made by ingest: a SQLite file or a postgresql:// URL.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder to write the tables into.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
def export(db_path: str, out_dir: str, fmt: str) -> None:
    """Write tidy tables for researchers: cells_long, reports_wide, findings, codebook (Parquet or CSV)."""
    from extractor.outputs.export import ExportError
    from extractor.outputs.export import export as run
    from extractor.store.database import StorageError

    try:
        counts = run(db_path, out_dir, fmt)
    except (ExportError, StorageError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {exc.filename or out_dir}: {exc.strerror or exc}")
    click.echo(", ".join(f"{name} {n} rows" for name, n in counts.items()) + f" written to {out_dir}")


@click.group()
def batch() -> None:
    """Batch commands (normally reached as `extractor ingest` / `extractor compare`)."""


batch.add_command(ingest)
batch.add_command(compare)
batch.add_command(export)

if __name__ == "__main__":
    batch()
