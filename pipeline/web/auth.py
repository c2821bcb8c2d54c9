"""Local accounts, sign-in checks, login rate limiting and the trusted reverse-proxy identity.

Why argon2id: the store may be copied off the machine; a copied users table must not
give away passwords. Why a per (user, address) limiter: it stops password guessing
against one account without letting one noisy address lock everyone out. Unknown
names cost one hash verification too, so response time does not reveal which names exist.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipeline.store import utcnow
from pipeline.web.db import write_connection

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("cru-dummy-password-for-timing")
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 12


def now_precise() -> str:
    """Microsecond timestamps for sessions: signing out must end a session begun in the same second."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class AuthError(ValueError):
    """A user-management problem the operator can fix; one line."""


def check_name(name: str) -> str:
    if not USER_NAME.match(name or ""):
        raise AuthError(f"invalid user name {name!r}: letters, digits and . _ @ - (up to 64)")
    return name


def add_user(db_path: Path, name: str, password: str) -> None:
    """Create a local account (refuses an existing name and short passwords)."""
    check_name(name)
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"password too short: at least {MIN_PASSWORD} characters")
    with write_connection(db_path) as conn:
        if conn.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
            raise AuthError(f"user {name!r} already exists (remove it first to reset the password)")
        conn.execute("INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
                     [name, _hasher.hash(password), utcnow()])


def remove_user(db_path: Path, name: str) -> bool:
    """Delete an account; its sessions stop working at their next request."""
    with write_connection(db_path) as conn:
        return conn.execute("DELETE FROM users WHERE name = ?", [name]).rowcount == 1


def list_users(db_path: Path) -> list[tuple[str, str]]:
    with write_connection(db_path) as conn:
        return list(conn.execute("SELECT name, created_at FROM users ORDER BY name"))


def verify_password(db_path: Path, name: str, password: str) -> bool:
    """True when the account exists and the password matches; constant work either way."""
    with write_connection(db_path) as conn:
        row = conn.execute("SELECT password_hash FROM users WHERE name = ?", [name]).fetchone()
    try:
        ok = _hasher.verify(row[0] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if ok and row and _hasher.check_needs_rehash(row[0]):
        with write_connection(db_path) as conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", [_hasher.hash(password), name])
    return bool(ok and row)


def session_valid(db_path: Path, name: str, signed_in_at: str) -> bool:
    """A session stays valid while its user exists and has not signed out everywhere since."""
    with write_connection(db_path) as conn:
        row = conn.execute("SELECT sessions_valid_after FROM users WHERE name = ?", [name]).fetchone()
    return row is not None and signed_in_at >= (row[0] or "")


def end_sessions(db_path: Path, name: str) -> None:
    """Invalidate every session of a user signed in before now (signing out ends stolen cookies too)."""
    with write_connection(db_path) as conn:
        conn.execute("UPDATE users SET sessions_valid_after = ? WHERE name = ?", [now_precise(), name])


def session_secret(db_path: Path) -> str:
    """The cookie-signing key: created once, kept in the store so every server process shares it."""
    with write_connection(db_path) as conn:
        conn.execute("INSERT OR IGNORE INTO web_secrets (name, value) VALUES ('session', ?)",
                     [secrets.token_urlsafe(48)])
        return conn.execute("SELECT value FROM web_secrets WHERE name = 'session'").fetchone()[0]


@dataclass
class RateLimiter:
    """Failed sign-ins per (user name, client address) in a sliding window, in memory (one server process)."""

    max_attempts: int = 5
    window_seconds: int = 900

    def __post_init__(self) -> None:
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self.window_seconds:
            q.popleft()
        return q

    def blocked(self, name: str, ip: str) -> bool:
        with self._lock:
            return len(self._recent((name.lower(), ip), time.monotonic())) >= self.max_attempts

    def failed(self, name: str, ip: str) -> None:
        with self._lock:
            self._recent((name.lower(), ip), time.monotonic()).append(time.monotonic())
            if len(self._failures) > 10_000:  # bound memory under a spray of names
                self._failures = {k: v for k, v in self._failures.items() if v}

    def succeeded(self, name: str, ip: str) -> None:
        with self._lock:
            self._failures.pop((name.lower(), ip), None)


def from_trusted_proxy(remote_addr: str | None, proxies: tuple[str, ...]) -> bool:
    """True when the direct peer is one of the configured reverse proxies (addresses or networks)."""
    if not remote_addr or not proxies:
        return False
    try:
        addr = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(p, strict=False) for p in proxies)
