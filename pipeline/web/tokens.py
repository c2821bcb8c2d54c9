"""API tokens for force systems: `cru token add NAME` prints a token once; only its hash is kept.

Why SHA-256 and not argon2: a token is 256 random bits, so a fast hash is already
unguessable, and a bearer check on every API call must be cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from pipeline.store import utcnow
from pipeline.web.auth import AuthError, check_name
from pipeline.web.db import write_connection

PREFIX = "cru_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_token(db_path: Path, name: str) -> str:
    """Create a named token and return it (the only time it is ever visible)."""
    check_name(name)
    token = PREFIX + secrets.token_urlsafe(32)
    with write_connection(db_path) as conn:
        if conn.execute("SELECT 1 FROM api_tokens WHERE name = ?", [name]).fetchone():
            raise AuthError(f"token {name!r} already exists (remove it first to issue a new one)")
        conn.execute("INSERT INTO api_tokens (name, token_hash, created_at) VALUES (?, ?, ?)",
                     [name, _hash(token), utcnow()])
    return token


def remove_token(db_path: Path, name: str) -> bool:
    with write_connection(db_path) as conn:
        return conn.execute("DELETE FROM api_tokens WHERE name = ?", [name]).rowcount == 1


def list_tokens(db_path: Path) -> list[tuple[str, str]]:
    with write_connection(db_path) as conn:
        return list(conn.execute("SELECT name, created_at FROM api_tokens ORDER BY name"))


def token_owner(db_path: Path, token: str) -> str | None:
    """The name of the token presented, or None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = _hash(token)
    with write_connection(db_path) as conn:
        row = conn.execute("SELECT name, token_hash FROM api_tokens WHERE token_hash = ?", [digest]).fetchone()
    return row[0] if row and hmac.compare_digest(row[1], digest) else None
