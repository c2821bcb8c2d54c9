"""Connections for the web app: read-only for the store, short read-write ones for the app's own tables.

Why read-only: the worker ingests into the same SQLite file (WAL), and a face must
never write mail data. A ``mode=ro`` URI connection makes that a property of the
connection rather than a promise of the code. The app's own tables (users, tokens,
audit log, session secret) are primary data written through brief read-write
connections so that they never hold the writer lock for long.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

#: The app's tables: PRIMARY data (they must survive `cru rebuild`).
WEB_TABLES = ("users", "api_tokens", "audit_log", "web_secrets")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created_at TEXT NOT NULL,"
    " sessions_valid_after TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE IF NOT EXISTS api_tokens (name TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,"
    " created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT,"
    " ip TEXT, action TEXT NOT NULL, method TEXT, page TEXT, query TEXT, status INTEGER)",
    "CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at)",
    "CREATE TABLE IF NOT EXISTS web_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


class ReadOnlyStore:
    """The duck-typed ``Store`` the query layer needs (``.db``, ``.path``), on a read-only connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        self.conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
        self.conn.execute("PRAGMA query_only=ON")
        self.db = sqlite_utils.Database(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ReadOnlyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def write_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A short read-write connection; commits on success. Only for the app's own tables."""
    conn = sqlite3.connect(str(path), timeout=30)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def create_web_tables(path: Path) -> None:
    """Create the app's tables when missing (idempotent; never touches mail data)."""
    with write_connection(path) as conn:
        for statement in _SCHEMA:
            conn.execute(statement)
