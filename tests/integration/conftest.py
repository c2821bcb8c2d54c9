"""Fixtures for the IMAP integration tests: a real Dovecot on 127.0.0.1, generated mail, configs."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dovecot import Dovecot, available


def _running_dovecot() -> Iterator[Dovecot]:
    """A started Dovecot, cleaned up afterwards; the test is skipped with the reason where none is installed."""
    reason = available()
    if reason:
        pytest.skip(reason)
    server = Dovecot().start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One Dovecot for the session (plain, STARTTLS and implicit TLS); each test takes fresh users."""
    yield from _running_dovecot()


@pytest.fixture
def own_dovecot() -> Iterator[Dovecot]:
    """A Dovecot of the test's own, for tests that kill and restart the server."""
    yield from _running_dovecot()


@functools.cache
def generated(n: int, seed: int = 0) -> tuple[bytes, ...]:
    """``n`` generated CRU messages (unique Message-IDs), rendered once per session."""
    from fixtures.generate import generate_mails
    from fixtures.mailcompose import render_mime

    return tuple(render_mime(mail)[0] for mail in generate_mails(n, seed))


def write_config(path: Path, db: Path, accounts: list[dict], **schedule: object) -> Path:
    """A cru TOML file with [store], [schedule] (fast retries for tests) and the given [[accounts]]."""
    sched = {"poll_interval_seconds": 300, "retry_attempts": 3, "retry_initial_seconds": 0.2,
             "retry_max_seconds": 1.0, **schedule}
    lines = ["[store]", f"path = {str(db)!r}", "", "[schedule]"]
    lines += [f"{k} = {_toml(v)}" for k, v in sched.items()]
    for a in accounts:
        lines += ["", "[[accounts]]"] + [f"{k} = {_toml(v)}" for k, v in a.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def account(server: Dovecot, user: str, **over: object) -> dict:
    """An [[accounts]] table for a Dovecot user: plain IMAP on loopback, password from the environment."""
    return {"name": user, "host": "127.0.0.1", "port": server.port, "security": "none", "username": user,
            "password_env": "CRU_TEST_IMAP_PASSWORD", "folders": ["INBOX"], **over}


class TokenEndpoint:
    """A loopback OAuth2 introspection endpoint for Dovecot: tokens in ``valid`` map to a username."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.valid: dict[str, str] = {}
        self.seen: list[str] = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # Dovecot's introspection_mode = auth
                token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
                endpoint.seen.append(token)
                user = endpoint.valid.get(token)
                # An unknown token is reported inactive: Dovecot 2.3 turns an HTTP 401 from the endpoint into a
                # *temporary* failure ("No username returned"), whereas Exchange answers "AUTHENTICATE failed".
                body = json.dumps({"username": user or "unknown", "active": "true" if user else "false"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/userinfo"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def oauth2_dovecot() -> Iterator[tuple[Dovecot, TokenEndpoint]]:
    """A Dovecot whose XOAUTH2 logins are checked against a loopback token endpoint."""
    reason = available()
    if reason:
        pytest.skip(reason)
    endpoint = TokenEndpoint()
    server = Dovecot(oauth2_url=endpoint.url).start()
    try:
        yield server, endpoint
    finally:
        server.cleanup()
        endpoint.close()
