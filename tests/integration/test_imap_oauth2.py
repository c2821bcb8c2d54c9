"""XOAUTH2 against a real Dovecot (oauth2 passdb + a loopback token endpoint): the token command, and its re-run
when the server rejects an expired token."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli
from tests.dovecot import Dovecot
from tests.integration.conftest import TokenEndpoint, generated, write_config


def token_command(tmp_path: Path, tokens: list[str]) -> tuple[str, Path]:
    """A command printing the next token of ``tokens`` at each run (the last one forever); counts its runs."""
    state = tmp_path / "runs"
    script = tmp_path / "token.py"
    script.write_text(
        "import pathlib, sys\n"
        f"state = pathlib.Path({str(state)!r})\n"
        "n = int(state.read_text()) if state.exists() else 0\n"
        "state.write_text(str(n + 1))\n"
        f"tokens = {tokens!r}\n"
        "print(tokens[min(n, len(tokens) - 1)])\n"
    )
    return f"{sys.executable} {script}", state


def oauth_account(server: Dovecot, user: str, command: str) -> dict:
    return {"name": user, "host": "127.0.0.1", "port": server.tls_port, "security": "tls",
            "ca_file": str(server.cert), "username": user, "oauth2_token_command": command}


def poll(cfg: Path) -> tuple[int, dict, str]:
    r = CliRunner().invoke(cli, ["--config", str(cfg), "poll", "--once", "--json"])
    return r.exit_code, json.loads(r.stdout), r.stderr


def test_xoauth2_login_and_expired_token_rerun(oauth2_dovecot: tuple[Dovecot, TokenEndpoint],
                                               tmp_path: Path) -> None:
    server, endpoint = oauth2_dovecot
    user = server.new_user()
    server.deliver(user, list(generated(3, seed=31)))
    endpoint.valid["fresh-token"] = user
    command, runs = token_command(tmp_path, ["expired-token", "fresh-token"])
    cfg = write_config(tmp_path / "cru.toml", tmp_path / "cru.db", [oauth_account(server, user, command)])
    code, result, _ = poll(cfg)
    assert code == 0 and result["folders"][0]["new"] == 3
    assert runs.read_text() == "2"  # the first token was refused, the command was asked again
    assert endpoint.seen[-2:] == ["expired-token", "fresh-token"]


def test_xoauth2_bad_token_stops_the_account_with_a_clear_message(oauth2_dovecot: tuple[Dovecot, TokenEndpoint],
                                                                  tmp_path: Path) -> None:
    server, _ = oauth2_dovecot
    user = server.new_user()
    command, runs = token_command(tmp_path, ["never-valid"])
    cfg = write_config(tmp_path / "cru.toml", tmp_path / "cru.db", [oauth_account(server, user, command)])
    code, result, stderr = poll(cfg)
    assert code == 1 and result["auth_failed"] == [user]
    assert "authentication failed" in stderr and "oauth2_token_command" in stderr
    assert runs.read_text() == "2"


def test_failing_token_command_is_reported(oauth2_dovecot: tuple[Dovecot, TokenEndpoint], tmp_path: Path) -> None:
    server, _ = oauth2_dovecot
    user = server.new_user()
    cfg = write_config(tmp_path / "cru.toml", tmp_path / "cru.db",
                       [oauth_account(server, user, "echo 'az: not logged in' >&2; exit 3")])
    code, _, stderr = poll(cfg)
    assert code == 1 and "oauth2_token_command failed (exit 3): az: not logged in" in stderr
