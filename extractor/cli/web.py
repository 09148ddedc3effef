"""`extractor users …` and `extractor serve`: accounts and the review workspace (extractor.web)."""

from __future__ import annotations

import sys

import click


def _fail(message: str) -> None:
    raise click.ClickException(" ".join(str(message).split()))


def _database(db: str):
    from extractor.store.database import StorageError, connect

    try:
        return connect(db)
    except StorageError as exc:  # an unusable database: one line, no traceback
        _fail(str(exc))


def _password(confirm: bool = True) -> str:
    """From standard input when it is not a terminal (one line), else asked twice without echo."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            _fail("no password on standard input")
        return line
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)


def _account(db: str, action, *args):
    """Run one accounts action in a transaction; its refusal is a one-line error."""
    from extractor.store import accounts

    try:
        with _database(db).begin() as conn:
            return action(conn, *args)
    except accounts.AccountError as exc:
        _fail(str(exc))


@click.group("users")
def users() -> None:
    """Accounts of the review workspace (extractor serve)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "reviewer", "viewer"]), required=True)
@click.option("--db", "db", required=True, help="The database (SQLite path or URL).")
def users_add(name: str, role: str, db: str) -> None:
    """Add a user; the password is read from standard input, or asked twice on a terminal."""
    from extractor.store import accounts

    user = _account(db, accounts.add_user, name, role, _password())
    click.echo(f"added {user.name} ({user.role})")


@users.command("list")
@click.option("--db", "db", required=True)
def users_list(db: str) -> None:
    """List users: name, role, active or disabled."""
    from extractor.store import accounts

    with _database(db).begin() as conn:
        rows = accounts.list_users(conn)
    for u in rows:
        click.echo(f"{u.name:<20} {u.role:<9} {'active' if u.active else 'disabled':<9} {u.created_at}")
    if not rows:
        click.echo("no users (add the first admin with: extractor users add NAME --role admin --db DB)")


@users.command("disable")
@click.argument("name")
@click.option("--db", "db", required=True)
def users_disable(name: str, db: str) -> None:
    """Disable a user (their sessions end at once)."""
    from extractor.store import accounts

    _account(db, accounts.set_active, name, False)
    click.echo(f"disabled {name}")


@users.command("passwd")
@click.argument("name")
@click.option("--db", "db", required=True)
def users_passwd(name: str, db: str) -> None:
    """Set a user's password (from standard input, or asked twice); their sessions end."""
    from extractor.store import accounts

    _account(db, accounts.set_password, name, _password())
    click.echo(f"password of {name} changed")


@click.command("serve")
@click.option("--db", "db", required=True, help="The database (SQLite path or URL); created if missing.")
@click.option("--data-dir", "data_dir", required=True, type=click.Path(file_okay=False), help="Uploaded originals, keys, temporary files.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--workers", type=int, default=None, help="Ingest worker processes (default: one per core).")
@click.option("--max-file-mb", type=int, default=100, show_default=True, help="Largest uploaded file.")
@click.option("--max-files", type=int, default=500, show_default=True, help="Most files in one upload.")
@click.option("--idle-minutes", type=int, default=60, show_default=True, help="A session unused this long ends.")
def serve(db: str, data_dir: str, host: str, port: int, workers: int | None, max_file_mb: int, max_files: int, idle_minutes: int) -> None:
    """Run the review workspace (web pages + JSON API) for a team of reviewers."""
    import uvicorn

    from extractor.web.app import create_app
    from extractor.web.settings import Settings

    settings = Settings(db=db, data_dir=data_dir, workers=workers, max_file_mb=max_file_mb, max_files=max_files,
                        idle_minutes=idle_minutes, max_upload_mb=max(2048, max_file_mb * 4))  # fmt: skip
    _database(db)
    try:
        app = create_app(settings)
    except OSError as exc:
        _fail(f"cannot use {data_dir}: {exc.strerror or exc}")
    with _database(db).begin() as conn:
        from extractor.store import accounts

        if not accounts.list_users(conn):
            click.echo(f"no users yet: create the first admin with  extractor users add NAME --role admin --db {db}", err=True)
    click.echo(f"审核工作台: http://{host}:{port}/   (Ctrl-C stops it)", err=False)
    sys.stdout.flush()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
