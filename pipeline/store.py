"""The only code that writes the SQLite store (through sqlite-utils).

Raw bytes go in first; derived rows (messages, attachments, mentions, links,
threads, circulations) are written from extraction results and can all be
dropped and re-derived by ``rebuild``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from pipeline.extract import ExtractedMessage, normalise_subject
from pipeline.linking import LinkResult
from pipeline.schema import create_schema, drop_derived


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class StoreError(RuntimeError):
    """The store file cannot be opened or is not a cru store."""


class Store:
    """A cru SQLite store. Use as a context manager or call ``close``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            create_schema(self.db)
            conn.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed transaction
            conn.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache: FTS index merges stay in memory
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA wal_autocheckpoint=4000")  # checkpoint every ~16 MB of WAL, not 4 MB
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a usable SQLite store: {exc}") from None
        # Derived rows are buffered and written per transaction (executemany), the
        # ingest hot path's largest saving; see flush_pending.
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._pending_root_ids: dict[str, str] = {}
        self._status_updates: list[tuple[str, str | None, str | None, str]] = []

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work: everything in it lands, or nothing does."""
        self.db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.flush_pending()
        except BaseException:
            self._pending.clear()
            self._pending_root_ids.clear()
            self._status_updates.clear()
            self.db.conn.execute("ROLLBACK")
            raise
        else:
            self.db.conn.execute("COMMIT")

    def _buffer(self, table: str, rows: list[dict[str, Any]]) -> None:
        self._pending.setdefault(table, []).extend(rows)

    def flush_pending(self) -> None:
        """Write buffered derived rows with one executemany per table."""
        for table, rows in self._pending.items():
            if not rows:
                continue
            columns = list(rows[0])
            # Never REPLACE a message: a replace deletes without firing the FTS delete trigger.
            verb = "INSERT OR REPLACE" if table == "message_attachments" else "INSERT OR IGNORE"
            sql = (f"{verb} INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
                   f"VALUES ({', '.join('?' for _ in columns)})")
            self.db.conn.executemany(sql, [tuple(r[c] for c in columns) for r in rows])
        if self._status_updates:
            self.db.conn.executemany(
                "UPDATE raw_mail SET status = ?, message_id = ?, duplicate_of = ? WHERE sha256 = ?",
                self._status_updates,
            )
        self._pending.clear()
        self._pending_root_ids.clear()
        self._status_updates.clear()

    # ---- primary data -------------------------------------------------
    def has_raw(self, sha256: str) -> bool:
        return self.db.execute("SELECT 1 FROM raw_mail WHERE sha256 = ?", [sha256]).fetchone() is not None

    def add_source(self, sha256: str, source_ref: str) -> None:
        self.db.conn.execute(
            "INSERT OR IGNORE INTO raw_sources (sha256, source_ref, seen_at) VALUES (?, ?, ?)",
            (sha256, source_ref, utcnow()),
        )

    def add_raw(self, data: bytes, source_ref: str, received_at: datetime | None, container: str | None,
                sha: str | None = None) -> bool:
        """Store raw bytes (first, before any parsing) and where they came from.

        Returns False when these exact bytes were already stored (only the new
        source is recorded): the identity of a message is the sha256 of its bytes.
        """
        sha = sha or sha256_hex(data)
        cursor = self.db.conn.execute(
            "INSERT OR IGNORE INTO raw_mail (sha256, data, size, first_seen, received_at, container, status) "
            "VALUES (?, ?, ?, ?, ?, ?, 'pending')",
            (sha, data, len(data), utcnow(), received_at.isoformat() if received_at else None, container),
        )
        self.add_source(sha, source_ref)
        return cursor.rowcount == 1

    def set_raw_status(self, sha256: str, status: str, message_id: str | None = None,
                       duplicate_of: str | None = None) -> None:
        """Record what became of a raw message (buffered: written with the transaction)."""
        self._status_updates.append((status, message_id, duplicate_of, sha256))

    def quarantine(self, sha256: str, source_ref: str, error: str, status: str = "quarantined") -> None:
        """Keep a message that could not be parsed: its raw bytes stay, the error is recorded."""
        self.db["quarantine"].insert(
            {"sha256": sha256, "source_ref": source_ref, "error": error[:2000], "at": utcnow()}, replace=True
        )
        self.set_raw_status(sha256, status)

    def raw_count(self) -> int:
        return self.db["raw_mail"].count

    # ---- derived data -------------------------------------------------
    def root_id_owner(self, message_id: str) -> str | None:
        """The raw message already holding this Message-ID at its root, if any."""
        if message_id in self._pending_root_ids:
            return self._pending_root_ids[message_id]
        row = self.db.execute(
            "SELECT raw_sha256 FROM messages WHERE message_id = ? AND relation = 'root' LIMIT 1", [message_id]
        ).fetchone()
        return row[0] if row else None

    def write_tree(self, raw_sha256: str, rows: TreeRows) -> None:
        """Queue one raw message's derived rows; written with the transaction (see flush_pending)."""
        self._pending_root_ids.setdefault(rows.root_message_id, raw_sha256)
        for table, table_rows in rows.tables.items():
            self._buffer(table, table_rows)

    def apply_links(self, result: LinkResult) -> None:
        """Replace threads, copies, log links and circulations with a fresh linking result."""
        current = {key: (thread_id, copy_of) for key, thread_id, copy_of in
                   self.db.execute("SELECT key, thread_id, copy_of FROM messages")}
        # Only rows whose thread or copy status changed are written: a poll that adds one
        # message rewrites a handful of rows, not the whole history.
        changes = [
            (thread_id, copy_of, key)
            for key, (thread_id, copy_of) in (
                (key, (result.thread_of.get(key), result.copy_of.get(key))) for key in current
            )
            if current[key] != (thread_id, copy_of)
        ]
        self.db.conn.executemany("UPDATE messages SET thread_id = ?, copy_of = ? WHERE key = ?", changes)
        self.db.execute("DELETE FROM log_links")
        self.db.execute("DELETE FROM threads")
        self.db.execute("DELETE FROM circulations")
        if result.links:
            self.db["log_links"].insert_all(result.links, ignore=True)
        if result.threads:
            self.db["threads"].insert_all(result.threads, replace=True)
        if result.circulations:
            self.db["circulations"].insert_all(result.circulations, replace=True)

    def reset_derived(self) -> None:
        drop_derived(self.db)
        self.db.execute("UPDATE raw_mail SET status = 'pending', duplicate_of = NULL, message_id = NULL")


@dataclass
class TreeRows:
    """Derived rows of one raw message, by table, ready for executemany."""

    root_message_id: str
    tables: dict[str, list[dict[str, Any]]]


def tree_rows(raw_sha256: str, items: list[ExtractedMessage]) -> TreeRows:
    """The rows one raw message derives to (pure: runs in worker processes, off the writer's path)."""
    messages: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    mentions: list[dict[str, Any]] = []
    attachment_rows: list[dict[str, Any]] = []
    for item in items:
        key = f"{raw_sha256}/{item.path}"
        node = item.node
        f = item.fields
        c = item.contract
        messages.append(
            {
                "key": key,
                "raw_sha256": raw_sha256,
                "path": item.path,
                "parent_key": f"{raw_sha256}/{item.parent_path}" if item.parent_path else None,
                "relation": node.relation,
                "container": node.container,
                "message_id": item.message_id,
                "subject": node.subject,
                "norm_subject": normalise_subject(node.subject),
                "date": c["date"],
                "sender": node.sender,
                "in_reply_to": node.in_reply_to,
                "references_json": _j(node.references),
                "thread_topic": node.thread_topic,
                "kind": f.kind,
                "log_numbers": _j(c["log_numbers"]),
                "referenced_log_numbers": _j(c["referenced_log_numbers"]),
                "marking": item.marking.level,
                "own_marking": item.own_marking.level,
                "marking_as_written": item.own_marking.as_written,
                "caveats": _j(list(item.marking.caveats)),
                "descriptors": _j(list(item.marking.descriptors)),
                "distribution_restriction": item.marking.distribution_restriction,
                "exemptions": _j(c["exemptions"]),
                "redaction_markers": _j(c["redaction_markers"]),
                "stance": f.stance,
                "logged_with": f.sections.logged_with,
                "case_worker": f.sections.case_worker,
                "circulation_date": f.sections.circulation_date.isoformat()
                if f.sections.circulation_date
                else None,
                "foi_refs": _j(c["foi_refs"]),
                "applicant_request": f.sections.applicant_request,
                "advice": f.sections.advice,
                "topic": c["topic"],
                "topics": _j(list(item.classification.topics)),
                "suppliers": _j(c["suppliers"]),
                "body": item.body_indexed,
                "body_original": node.body_text,
                "attachment_text": item.attachment_text,
                "attachment_names": _j(item.attachment_names),
                "defects": _j(node.defects),
                "thread_id": None,
                "copy_of": None,
                "extraction": _j(c),
            }
        )
        for position, att in enumerate(node.attachments):
            if att.data:
                attachment_rows.append(
                    {"sha256": att.sha256, "data": att.data, "size": att.size,
                     "content_type": att.content_type, "text": att.text, "note": att.note}
                )
            links.append(
                {"message_key": key, "position": position, "sha256": att.sha256 if att.data else None,
                 "filename": att.filename, "content_type": att.content_type,
                 "is_message": int(att.is_message), "note": att.note}
            )
        for ref in f.log_numbers.refs:
            role = "about" if ref.number in f.log_numbers.about else "referenced"
            mentions.append(
                {"message_key": key, "log_number": ref.number, "role": role, "source": ref.source,
                 "log_date": ref.date.isoformat() if ref.date else None,
                 "internal_review": int(ref.internal_review)}
            )
        for number in f.log_numbers.about:
            if not any(m["message_key"] == key and m["log_number"] == number for m in mentions):
                mentions.append({"message_key": key, "log_number": number, "role": "about",
                                 "source": "subject", "log_date": None, "internal_review": 0})
    return TreeRows(
        root_message_id=items[0].message_id,
        tables={"messages": messages, "message_attachments": links, "mentions": mentions,
                "attachments": attachment_rows},
    )
