"""The audit log: who looked at what, and when (user, time, page, query) — every search, view, download,
API call and sign-in attempt. `cru audit` prints it.

Why in the store: the audit trail must travel with the OFFICIAL-SENSITIVE data it describes,
and it is primary data (never dropped by `cru rebuild`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.store import utcnow
from pipeline.web.db import write_connection

COLUMNS = ("id", "at", "user", "ip", "action", "method", "page", "query", "status")


def record(db_path: Path, *, user: str | None, ip: str | None, action: str, method: str, page: str,
           query: str | None, status: int) -> None:
    """Append one row (committed before the response is sent)."""
    with write_connection(db_path) as conn:
        conn.execute(
            "INSERT INTO audit_log (at, user, ip, action, method, page, query, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [utcnow(), user, ip, action, method, page[:2000], (query or "")[:2000] or None, status],
        )


def entries(db_path: Path, limit: int | None = None, user: str | None = None) -> list[dict[str, Any]]:
    """Most recent last, like a log file."""
    sql = f"SELECT {', '.join(COLUMNS)} FROM audit_log"
    params: list[Any] = []
    if user:
        sql += " WHERE user = ?"
        params.append(user)
    sql += " ORDER BY id DESC"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    with write_connection(db_path) as conn:
        rows = [dict(zip(COLUMNS, r, strict=True)) for r in conn.execute(sql, params)]
    return list(reversed(rows))
