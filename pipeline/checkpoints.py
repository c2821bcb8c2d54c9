"""Poll checkpoints and poll status: where each (account, folder) got to, and how its last poll went.

The checkpoint (UIDVALIDITY + highest ingested UID) is primary data: it is
written inside the same transaction as the raw messages it covers, so after a
crash the store and the checkpoint always agree. ``poll_status`` is operational
bookkeeping for `cru status` (last success, last error, how far post-ingest
actions got). Neither is derived, so `cru rebuild` never drops them (rebuild only
drops the tables in ``pipeline.schema.DERIVED_TABLES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.store import Store, utcnow

POLL_STATUS_COLUMNS = {
    "account": str,
    "folder": str,
    "last_attempt": str,
    "last_success": str,
    "last_error": str,
    "last_error_at": str,
    #: Post-ingest actions (keyword, \\Seen, move) have been applied up to this UID (same UIDVALIDITY).
    "actions_uidvalidity": int,
    "actions_uid": int,
}


@dataclass(frozen=True)
class Checkpoint:
    uidvalidity: int
    last_uid: int


def ensure_tables(store: Store) -> None:
    """Create ``poll_status`` if missing (``checkpoints`` is part of the main schema)."""
    if "poll_status" not in store.db.table_names():
        store.db["poll_status"].create(POLL_STATUS_COLUMNS, pk=("account", "folder"), if_not_exists=True)


def imap_ref(account: str, folder: str, uidvalidity: int, uid: int) -> str:
    """The source_ref of one IMAP message: stable for as long as the server keeps its UIDVALIDITY."""
    return f"{ref_prefix(account, folder)}UIDVALIDITY={uidvalidity};UID={uid}"


def ref_prefix(account: str, folder: str) -> str:
    return f"imap://{account}/{folder};"


def parse_uid(source_ref: str) -> int:
    """The UID at the end of an imap:// source_ref."""
    return int(source_ref.rsplit(";UID=", 1)[1])


def get(store: Store, account: str, folder: str) -> Checkpoint | None:
    row = store.db.execute(
        "SELECT uidvalidity, last_uid FROM checkpoints WHERE account = ? AND folder = ?", [account, folder]
    ).fetchone()
    return Checkpoint(row[0], row[1]) if row else None


def put(store: Store, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
    """Write a checkpoint; call inside the transaction that commits the messages it covers."""
    store.db.conn.execute(
        "INSERT INTO checkpoints (account, folder, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(account, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, "
        "last_uid = excluded.last_uid, updated_at = excluded.updated_at",
        (account, folder, uidvalidity, last_uid, utcnow()),
    )


def _upsert(store: Store, account: str, folder: str, **values: Any) -> None:
    ensure_tables(store)
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    sets = ", ".join(f"{c} = excluded.{c}" for c in values)
    with store.transaction():
        store.db.conn.execute(
            f"INSERT INTO poll_status (account, folder, {cols}) VALUES (?, ?, {marks}) "
            f"ON CONFLICT(account, folder) DO UPDATE SET {sets}",
            (account, folder, *values.values()),
        )


def record_success(store: Store, account: str, folder: str) -> None:
    now = utcnow()
    _upsert(store, account, folder, last_attempt=now, last_success=now, last_error=None, last_error_at=None)


def record_error(store: Store, account: str, folder: str, error: str) -> None:
    now = utcnow()
    _upsert(store, account, folder, last_attempt=now, last_error=error[:1000], last_error_at=now)


def actions_done(store: Store, account: str, folder: str) -> Checkpoint | None:
    """How far post-ingest actions got (UIDVALIDITY, UID), or None if never applied."""
    ensure_tables(store)
    row = store.db.execute("SELECT actions_uidvalidity, actions_uid FROM poll_status WHERE account = ? AND folder = ?",
                           [account, folder]).fetchone()
    return Checkpoint(row[0], row[1]) if row and row[0] is not None else None


def record_actions(store: Store, account: str, folder: str, uidvalidity: int, uid: int) -> None:
    _upsert(store, account, folder, actions_uidvalidity=uidvalidity, actions_uid=uid)


def report(store: Store, pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Per (account, folder): checkpoint, last success/error, counts. ``pairs`` are the configured folders;
    folders known only to the store (removed from the config) are listed after them."""
    ensure_tables(store)
    known = list(pairs)
    for account, folder in store.db.execute(
        "SELECT account, folder FROM checkpoints UNION SELECT account, folder FROM poll_status ORDER BY 1, 2"
    ):
        if (account, folder) not in known:
            known.append((account, folder))
    rows = []
    for account, folder in known:
        cp = get(store, account, folder)
        st = store.db.execute(
            "SELECT last_success, last_error, last_error_at FROM poll_status WHERE account = ? AND folder = ?",
            [account, folder],
        ).fetchone() or (None, None, None)
        # Counted from the store itself (every raw message keeps the imap:// refs it was fetched under),
        # so the figures survive crashes and rebuilds.
        prefix = ref_prefix(account, folder)
        ingested, quarantined = store.db.execute(
            "SELECT COUNT(DISTINCT r.sha256), COUNT(DISTINCT CASE WHEN r.status IN ('quarantined', 'oversize') "
            "THEN r.sha256 END) FROM raw_sources s JOIN raw_mail r ON r.sha256 = s.sha256 "
            "WHERE substr(s.source_ref, 1, ?) = ?", [len(prefix), prefix]
        ).fetchone()
        rows.append({
            "account": account,
            "folder": folder,
            "configured": (account, folder) in pairs,
            "uidvalidity": cp.uidvalidity if cp else None,
            "last_uid": cp.last_uid if cp else None,
            "last_success": st[0],
            "last_error": st[1],
            "last_error_at": st[2],
            "messages_ingested": ingested,
            "quarantined": quarantined,
        })
    return rows
