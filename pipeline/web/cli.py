"""`cru serve`, `cru user`, `cru token`, `cru audit`: the web app's commands.

They expect the `cru` group's context object (``ctx.obj``) to offer ``.db_path``, ``.store()``
and ``.config`` (with ``.web``: config.web.WebSettings; the defaults are used when it is absent).
Errors the user can fix are one line on stderr with exit status 2, as everywhere in `cru`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from config.web import WebSettings
from pipeline.web import audit as audit_log
from pipeline.web import auth, tokens
from pipeline.web.db import create_web_tables


def _fail(message: str) -> NoReturn:
    click.echo(f"cru: error: {' '.join(message.split())}", err=True)
    sys.exit(2)


def web_settings(obj: Any) -> WebSettings:
    return getattr(obj.config, "web", None) or WebSettings()


def _db(obj: Any) -> Path:
    """The store path, with the store and the app's tables created when missing."""
    with obj.store():
        pass
    create_web_tables(obj.db_path)
    return Path(obj.db_path)


@click.command("serve")
@click.option("--host", help="Address to listen on (default: [web] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: [web] port, 8080).")
@click.pass_obj
def serve(obj: Any, host: str | None, port: int | None) -> None:
    """Serve the officers' web app (search, threads, JSON API); sign-in required."""
    from pipeline.web.app import create_app
    from pipeline.web.server import make_server

    settings = web_settings(obj)
    db = _db(obj)
    search = getattr(obj.config, "search", None)
    app = create_app(db, settings, search_limit=getattr(search, "limit", 20))
    host = host or settings.host
    try:
        server = make_server(app, host, port or settings.port, settings.threads)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port or settings.port}: {exc.strerror or exc}")
    if not auth.list_users(db) and not settings.trusted_user_header:
        click.echo("cru: no users yet: add one with `cru user add NAME` to sign in", err=True)
    click.echo(f"cru: serving {db} on http://{host}:{server.effective_port}/ (Ctrl-C to stop)", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@click.group("user")
def user() -> None:
    """Local web accounts (passwords are stored as argon2id hashes)."""


@user.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_obj
def user_add(obj: Any, name: str, password_stdin: bool) -> None:
    """Create a web account NAME (password from --password-stdin or a prompt)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        auth.add_user(_db(obj), name, password)
    except auth.AuthError as exc:
        _fail(str(exc))
    click.echo(f"user {name} added")


@user.command("remove")
@click.argument("name")
@click.pass_obj
def user_remove(obj: Any, name: str) -> None:
    """Delete a web account; its open sessions end at their next request."""
    if not auth.remove_user(_db(obj), name):
        _fail(f"no user {name!r}")
    click.echo(f"user {name} removed")


@user.command("list")
@click.pass_obj
def user_list(obj: Any) -> None:
    """List web accounts."""
    for name, created in auth.list_users(_db(obj)):
        click.echo(f"{name}\t{created}")


@click.group("token")
def token() -> None:
    """API tokens for force systems (sent as Authorization: Bearer TOKEN)."""


@token.command("add")
@click.argument("name")
@click.pass_obj
def token_add(obj: Any, name: str) -> None:
    """Create an API token NAME; the token is printed once, as the last line (only its hash is kept)."""
    try:
        value = tokens.add_token(_db(obj), name)
    except auth.AuthError as exc:
        _fail(str(exc))
    click.echo(f"token {name} created; keep it now, it cannot be shown again:", err=True)
    click.echo(value)


@token.command("remove")
@click.argument("name")
@click.pass_obj
def token_remove(obj: Any, name: str) -> None:
    """Revoke an API token."""
    if not tokens.remove_token(_db(obj), name):
        _fail(f"no token {name!r}")
    click.echo(f"token {name} removed")


@token.command("list")
@click.pass_obj
def token_list(obj: Any) -> None:
    """List API token names (never the tokens)."""
    for name, created in tokens.list_tokens(_db(obj)):
        click.echo(f"{name}\t{created}")


@click.command("audit")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of audit rows.")
@click.option("--limit", type=click.IntRange(1), help="Only the most recent N rows.")
@click.option("--user", "user_name", help="Only this user's rows.")
@click.pass_obj
def audit(obj: Any, as_json: bool, limit: int | None, user_name: str | None) -> None:
    """Print the web audit log: who searched, viewed or downloaded what, and when."""
    rows = audit_log.entries(_db(obj), limit, user_name)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['at']}  {r['user'] or '-'}  {r['ip'] or '-'}  {r['action']}  {r['status']}  "
                   f"{r['page']}" + (f"  q={r['query']}" if r["query"] else ""))


#: What the `cru` group adds: ``for command in COMMANDS: cli.add_command(command)``.
COMMANDS = (serve, user, token, audit)
