"""`extractor rules`, `extractor audit`, `extractor review`: thin click wrappers over
extractor.checks.rules / rules_config, extractor.outputs.audit and extractor.store.review.

Registered on the main group by extractor/cli.py (`_register_optional_commands`).
"""

from __future__ import annotations

import json

import click

from extractor.lexicon.labels import failure_text, rule_title, severity_label


def _fail(message: str) -> None:
    raise click.ClickException(" ".join(str(message).split()))


def _existing_db(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A SQLite path must exist (reviewing must not create an empty database); a URL is tried as is."""
    import os

    if "://" not in value and not os.path.isfile(value):
        raise click.BadParameter(f"database not found: {value}")
    return value


def _config(path: str | None):
    if not path:
        return None
    from extractor.checks.settings import RulesConfigError, load

    try:
        return load(path)
    except RulesConfigError as exc:
        _fail(str(exc))


def catalogue(config=None) -> list[dict]:
    """Every rule (single-report and cross-report) with the settings in effect."""
    from extractor.checks.cross import CROSS_RULES
    from extractor.checks.rules import RULES

    out = []
    for rule in [*RULES, *CROSS_RULES]:
        enabled = config.enabled(rule.id) if config else True
        severity = config.severity(rule.id, rule.severity) if config else rule.severity
        tolerance = config.tolerance(rule) if config else rule.tolerance
        out.append(
            {
                "id": rule.id,
                "title": rule.title,
                "severity": severity,
                "scope": rule.scope,
                "formula": rule.description,
                "tolerance": tolerance,
                "tolerance_unit": rule.tolerance_unit,
                "skipped": rule.skipped,
                "source": rule.source,
                "enabled": enabled,
            }
        )
    return out


@click.command("rules")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False), help="A rules TOML file: show the settings it gives.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md"]), default="text", show_default=True)
def rules(rules_path: str | None, fmt: str) -> None:
    """List every rule: id, scope, formula in words, tolerance, severity, when it is skipped."""
    rows = catalogue(_config(rules_path))
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if fmt == "md":
        click.echo("| 规则 | 规则编号 | 级别 | 范围 | 公式 / 内容 | 容差 | 不检查的情形 |")
        click.echo("|---|---|---|---|---|---|---|")
        for r in rows:
            click.echo(f"| {r['title']} | `{r['id']}` | {_severity(r)} | {r['scope']} | {r['formula']} | {_tolerance(r)} | {r['skipped'] or '—'} |")
        return
    for r in rows:
        click.echo(f"{r['id']:<30} {_severity(r):<4} {r['title']}（{r['scope']}）：{r['formula']}")
        details = []
        if r["tolerance"] is not None:
            details.append(f"容差 {_tolerance(r)}")
        if r["skipped"]:
            details.append(f"不检查：{r['skipped']}")
        if r["source"] == "parser":
            details.append("读表时产生（只能关闭或改级别）")
        if details:
            click.echo(" " * 31 + "；".join(details))


def _severity(row: dict) -> str:
    return severity_label(row["severity"]) if row["enabled"] else "关闭"


def _tolerance(row: dict) -> str:
    value = row["tolerance"]
    if value is None:
        return "—"
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text} {row['tolerance_unit']}".strip()


@click.command("audit")
@click.option("--db", "db_path", required=True, help="Database made by ingest: a SQLite file or a postgresql:// URL.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="FILE.html, FILE.xlsx or FILE.md.")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False), help="Rules TOML: switch rules off, change severities.")
@click.option("--agency", default=None, help="Only agencies whose name or key contains this text.")
@click.option("--year", type=int, default=None, help="Only this report year.")
@click.option("--return-letters", "letters", type=click.Path(file_okay=False), help="Write one 整改通知 (Markdown + DOCX) per agency here.")
@click.option("--sender", default=None, help="The issuing office, on the letterhead and the signature (default 政务公开办公室).")
@click.option("--doc-number", default=None, help="The letters' 文号, e.g. 政务公开办〔2026〕12号.")
@click.option("--deadline", default=None, help="Date by which to correct, e.g. 2026-12-15 (default: 15 working days).")
@click.option("--date", "letter_date", default=None, help="The letters' date, e.g. 2026-12-01 (default today).")
@click.option("--no-images", is_flag=True, help="Do not crop table images from the source PDFs.")
def audit(
    db_path: str,
    out_path: str,
    rules_path: str | None,
    agency: str | None,
    year: int | None,
    letters: str | None,
    sender: str | None,
    doc_number: str | None,
    deadline: str | None,
    letter_date: str | None,
    no_images: bool,
) -> None:
    """Write an audit report of a database: summary per agency, findings per report, decisions."""
    from extractor.outputs.audit import AuditError, collect, write
    from extractor.outputs.letters import LetterError, LetterSettings, write_letters
    from extractor.store.database import StorageError

    config = _config(rules_path)
    try:
        settings = LetterSettings.make(sender, doc_number, deadline, letter_date)
    except LetterError as exc:
        _fail(str(exc))
    try:
        data = collect(db_path, config=config, agency=agency, year=year, images=not no_images and out_path.lower().endswith((".html", ".htm")))
        write(data, out_path)
        written = write_letters(data, letters, settings) if letters else []
    except (AuditError, StorageError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"无法写入 {exc.filename or out_path}：{exc.strerror or exc}")
    n = sum(len(r.findings) for r in data.reports)
    click.echo(f"审核报告已写入 {out_path}：报告 {len(data.reports)} 份，发现 {n} 条")
    if letters:
        click.echo(f"整改通知 {len([p for p in written if p.endswith('.md')])} 份已写入 {letters}")


@click.command("review")
@click.option("--db", "db_path", required=True, callback=_existing_db, help="Database made by ingest: a SQLite file or a postgresql:// URL.")
@click.option("--fingerprint", "fp", default=None, help="The finding's fingerprint (see --list or the audit report).")
@click.option("--decision", type=click.Choice(["confirmed", "dismissed", "corrected"]), default=None)
@click.option("--value", default=None, help="The corrected value (with --decision corrected).")
@click.option("--by", "by", default=None, help="Reviewer's name.")
@click.option("--note", default=None, help="Why.")
@click.option("--import", "workbook", type=click.Path(dir_okay=False, exists=True), help="Read decisions from an audit workbook (.xlsx).")
@click.option("--list", "listing", is_flag=True, help="List findings with their fingerprints and decisions.")
@click.option("--undecided", is_flag=True, help="With --list: only findings without a decision.")
@click.option("--agency", default=None, help="With --list: agencies whose name or key contains this text.")
@click.option("--rule", default=None, help="With --list: one rule id (or a prefix such as 'narrative').")
@click.option("--year", type=int, default=None, help="With --list: one report year.")
def review(
    db_path: str,
    fp: str | None,
    decision: str | None,
    value: str | None,
    by: str | None,
    note: str | None,
    workbook: str | None,
    listing: bool,
    undecided: bool,
    agency: str | None,
    rule: str | None,
    year: int | None,
) -> None:
    """Record a reviewer's decision on a finding (confirmed / dismissed / corrected), or list them."""
    from extractor.store import review as rv
    from extractor.store.database import StorageError, connect

    try:
        conn = connect(db_path)
    except StorageError as exc:
        _fail(str(exc))
    try:
        if workbook:
            count, problems = rv.import_workbook(conn, workbook, by)
            for p in problems:
                click.echo(p, err=True)
            click.echo(f"已从 {workbook} 导入 {count} 条审核决定")
        elif fp or decision:
            if not (fp and decision):
                _fail("--fingerprint 与 --decision 须同时给出")
            d = rv.record(conn, fp, decision, by or "", note, value)  # type: ignore[arg-type]
            click.echo(f"{d.fingerprint}: {rv.DECISION_LABELS[d.decision]}" + (f" {d.value}" if d.value is not None else "") + f"（{d.decided_by}）")
        else:
            rows = rv.list_findings(conn, agency=agency, year=year, rule=rule, undecided=undecided)
            for r in rows:
                state = rv.DECISION_LABELS.get(r["decision"], "未审核") if r["decision"] else "未审核"
                click.echo(
                    f"{r['fingerprint']}  {severity_label(r['severity'])}  {rule_title(r['rule'])}（{r['rule']}）  "
                    f"{r['agency'] or ''} {r['year'] or ''}  [{state}]  {r['message']}"
                )
            if not rows:
                click.echo("没有符合条件的发现")
            failed = [] if (agency or year or rule) else rv.failed_files(conn)
            if failed:
                click.echo(f"未能读取的文件（{len(failed)} 个）：")
            for f in failed:
                click.echo(f"  {f['path']}：{failure_text(f['error'], f['kind'])}")
    except rv.ReviewError as exc:
        _fail(str(exc))
    finally:
        conn.close()
