"""`cru serve/user/token/audit`, wired into a group exactly as the lead adds them to `cru`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import click
from click.testing import CliRunner

from pipeline.cli import Ctx
from pipeline.web import audit, auth, tokens
from pipeline.web.cli import COMMANDS


def _cru(db: Path) -> click.Group:
    @click.group()
    @click.pass_context
    def cru(ctx: click.Context) -> None:
        ctx.obj = Ctx(None, str(db))

    for command in COMMANDS:
        cru.add_command(command)
    return cru


def test_user_add_remove(tmp_path: Path) -> None:
    db = tmp_path / "cru.db"
    runner = CliRunner()
    result = runner.invoke(_cru(db), ["user", "add", "alice", "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    assert auth.verify_password(db, "alice", "a long enough password")
    assert not auth.verify_password(db, "alice", "wrong")
    again = runner.invoke(_cru(db), ["user", "add", "alice", "--password-stdin"], input="a long enough password\n")
    assert again.exit_code == 2 and "already exists" in again.output
    short = runner.invoke(_cru(db), ["user", "add", "bob", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "too short" in short.output
    prompted = runner.invoke(_cru(db), ["user", "add", "carol"], input="another good password\nanother good password\n")
    assert prompted.exit_code == 0 and auth.verify_password(db, "carol", "another good password")
    assert runner.invoke(_cru(db), ["user", "remove", "alice"]).exit_code == 0
    assert not auth.verify_password(db, "alice", "a long enough password")
    assert runner.invoke(_cru(db), ["user", "remove", "alice"]).exit_code == 2
    stored = auth.list_users(db)
    assert [n for n, _ in stored] == ["carol"]


def test_token_add_prints_token_last(tmp_path: Path) -> None:
    db = tmp_path / "cru.db"
    result = CliRunner().invoke(_cru(db), ["token", "add", "force-x"])
    assert result.exit_code == 0
    token = result.stdout.strip().splitlines()[-1]
    assert tokens.token_owner(db, token) == "force-x"
    assert token not in db.read_bytes().decode("latin-1")


def test_audit_command(tmp_path: Path) -> None:
    db = tmp_path / "cru.db"
    CliRunner().invoke(_cru(db), ["token", "add", "x"])  # creates the store and tables
    audit.record(db, user="alice", ip="127.0.0.1", action="search", method="GET", page="/search?q=palantir",
                 query="palantir", status=200)
    text = CliRunner().invoke(_cru(db), ["audit"])
    assert text.exit_code == 0 and "alice" in text.output and "q=palantir" in text.output
    rows = json.loads(CliRunner().invoke(_cru(db), ["audit", "--json"]).output)
    assert rows[-1]["user"] == "alice" and rows[-1]["query"] == "palantir"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_listens_and_requires_sign_in(tmp_path: Path) -> None:
    """`serve` in a real process: the sign-in page answers, a page redirects to it, the API says 401."""
    db = tmp_path / "cru.db"
    port = _free_port()
    code = ("import click, sys\nfrom pipeline.cli import Ctx\nfrom pipeline.web.cli import serve\n"
            "@click.group()\n@click.pass_context\ndef cru(ctx):\n    ctx.obj = Ctx(None, sys.argv[1])\n"
            "cru.add_command(serve)\ncru(sys.argv[2:])\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(base + "/login", timeout=2) as r:
                    assert r.status == 200 and r.headers["X-Frame-Options"] == "DENY"
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            raise AssertionError("server did not start: " + proc.stderr.read1().decode())
        try:
            urllib.request.urlopen(base + "/api/search?q=x", timeout=2)
            raise AssertionError("API answered without authentication")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
