"""The digest ledger: which week went to whom, when, under which Message-ID.

PRIMARY data (like raw mail): it records facts about the outside world that
cannot be re-derived, so ``cru rebuild`` must never drop it (the lead adds
``digest_ledger`` to ``pipeline.schema.PRIMARY_TABLES``). The table is created
here with CREATE TABLE IF NOT EXISTS so the digest works on any store.

One row per (week, recipient). Sending is claim, send, confirm:

* ``claim`` atomically turns "no row" or a ``failed`` row into ``sending``;
  a second process (the worker and a `cru digest --send` at the same time)
  finds the row taken and skips, so nobody gets a week twice;
* ``confirm`` marks it ``sent`` with the Message-ID; ``fail`` marks it
  ``failed`` (retried on the next run);
* a ``sending`` row left by a crash mid-send is NOT retried automatically,
  since the server may have accepted the mail: it is reported, and
  ``--resend`` settles it. Never twice beats always.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.store import Store

TABLE = "digest_ledger"
_CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    week TEXT NOT NULL,
    recipient TEXT NOT NULL,
    view TEXT NOT NULL,
    status TEXT NOT NULL,
    message_id TEXT,
    marking TEXT,
    items INTEGER,
    withheld INTEGER,
    claimed_at TEXT NOT NULL,
    sent_at TEXT,
    sends INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    PRIMARY KEY (week, recipient)
)
"""


@dataclass(frozen=True)
class LedgerRow:
    week: str
    recipient: str
    view: str
    status: str  # sending | sent | failed
    message_id: str | None
    marking: str | None
    items: int | None
    withheld: int | None
    claimed_at: str
    sent_at: str | None
    sends: int
    error: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Ledger:
    def __init__(self, store: Store) -> None:
        self.conn = store.db.conn
        self.conn.execute(_CREATE)

    def status(self, week: str, recipient: str) -> str | None:
        row = self.conn.execute(f"SELECT status FROM {TABLE} WHERE week = ? AND recipient = ?",
                                (week, recipient)).fetchone()
        return row[0] if row else None

    def claim(self, week: str, recipient: str, view: str, *, force: bool = False) -> bool:
        """Take (week, recipient) for sending; False when another run has it or it was already sent.

        ``force`` (``--resend``) takes a ``sent`` or stuck ``sending`` row too.
        """
        taken = ("'failed', 'sent', 'sending'" if force else "'failed'")
        now = _now()
        cursor = self.conn.execute(
            f"INSERT INTO {TABLE} (week, recipient, view, status, claimed_at) VALUES (?, ?, ?, 'sending', ?) "
            f"ON CONFLICT (week, recipient) DO UPDATE SET status = 'sending', view = excluded.view, "
            f"claimed_at = excluded.claimed_at, error = NULL WHERE {TABLE}.status IN ({taken})",
            (week, recipient, view, now),
        )
        return cursor.rowcount == 1

    def confirm(self, week: str, recipient: str, message_id: str, marking: str, items: int, withheld: int,
                sent_at: datetime | None = None) -> None:
        self.conn.execute(
            f"UPDATE {TABLE} SET status = 'sent', message_id = ?, marking = ?, items = ?, withheld = ?, "
            f"sent_at = ?, sends = sends + 1, error = NULL WHERE week = ? AND recipient = ?",
            (message_id, marking, items, withheld,
             (sent_at or datetime.now(UTC)).isoformat(timespec="seconds"), week, recipient),
        )

    def fail(self, week: str, recipient: str, error: str) -> None:
        self.conn.execute(f"UPDATE {TABLE} SET status = 'failed', error = ? WHERE week = ? AND recipient = ?",
                          (error[:2000], week, recipient))

    def rows(self, week: str | None = None) -> list[LedgerRow]:
        sql = (f"SELECT week, recipient, view, status, message_id, marking, items, withheld, claimed_at, sent_at, "
               f"sends, error FROM {TABLE}")
        params: tuple[str, ...] = ()
        if week:
            sql += " WHERE week = ?"
            params = (week,)
        return [LedgerRow(*r) for r in self.conn.execute(sql + " ORDER BY week, recipient", params)]

    def stuck(self) -> list[LedgerRow]:
        """Rows a crashed run left in ``sending``: delivery unknown, so never retried automatically."""
        return [r for r in self.rows() if r.status == "sending"]
