"""The one place the store's schema is declared.

Primary data (never deleted by ``cru rebuild``): ``raw_mail``, ``raw_sources``
and ``checkpoints``. Everything else is derived from raw bytes and can be
dropped and re-derived at any time, so a better extractor improves the whole
history.
"""

from __future__ import annotations

import sqlite_utils

SCHEMA_VERSION = 1

#: (poll_status, digest_ledger and the web app's tables are created by their own modules; primary too.)
PRIMARY_TABLES = ("raw_mail", "raw_sources", "checkpoints", "meta", "poll_status", "digest_ledger",
                  "users", "api_tokens", "audit_log", "web_secrets")
DERIVED_TABLES = (
    "messages",
    "attachments",
    "message_attachments",
    "mentions",
    "log_links",
    "circulations",
    "threads",
    "quarantine",
)
#: Columns of ``messages`` indexed for full-text search (FTS5, kept in sync by triggers).
FTS_COLUMNS = ("subject", "body", "applicant_request", "advice", "attachment_text")


def create_schema(db: sqlite_utils.Database) -> None:
    """Create every table, index and FTS structure that does not exist yet (idempotent)."""
    db.conn.execute("PRAGMA journal_mode=WAL")
    db.conn.execute("PRAGMA foreign_keys=ON")
    if "meta" not in db.table_names():
        db["meta"].create({"key": str, "value": str}, pk="key")
        db["meta"].insert({"key": "schema_version", "value": str(SCHEMA_VERSION)})
    if "raw_mail" not in db.table_names():
        db["raw_mail"].create(
            {
                "sha256": str,
                "data": bytes,
                "size": int,
                "first_seen": str,
                "received_at": str,
                "container": str,
                # parsed | quarantined | oversize | duplicate
                "status": str,
                # sha256 of the raw message this one duplicates by Message-ID (cross-source copies)
                "duplicate_of": str,
                "message_id": str,
            },
            pk="sha256",
            not_null={"data", "size", "first_seen", "status"},
        )
        db["raw_mail"].create_index(["message_id"])
        db["raw_mail"].create_index(["first_seen"])
    if "raw_sources" not in db.table_names():
        db["raw_sources"].create(
            {"sha256": str, "source_ref": str, "seen_at": str},
            pk=("sha256", "source_ref"),
            foreign_keys=[("sha256", "raw_mail", "sha256")],
        )
    if "checkpoints" not in db.table_names():
        db["checkpoints"].create(
            {"account": str, "folder": str, "uidvalidity": int, "last_uid": int, "updated_at": str},
            pk=("account", "folder"),
        )
    _create_derived(db)


def _create_derived(db: sqlite_utils.Database) -> None:
    names = set(db.table_names())
    if "messages" not in names:
        db["messages"].create(
            {
                "key": str,  # raw sha256 + "/" + tree path ("0", "0.1", "0.1.q1")
                "raw_sha256": str,
                "path": str,
                "parent_key": str,
                "relation": str,  # root | attached | quoted
                "container": str,
                "message_id": str,
                "subject": str,
                "norm_subject": str,
                "date": str,  # ISO 8601, aware
                "sender": str,
                "in_reply_to": str,
                "references_json": str,
                "thread_topic": str,
                "kind": str,
                "log_numbers": str,  # JSON list, logs the message is about
                "referenced_log_numbers": str,  # JSON list
                "marking": str,  # effective: highest of own, attached and quoted
                "own_marking": str,
                "marking_as_written": str,
                "caveats": str,  # JSON list
                "descriptors": str,  # JSON list
                "distribution_restriction": str,
                "exemptions": str,  # JSON list
                "redaction_markers": str,  # JSON list
                "stance": str,
                "logged_with": str,
                "case_worker": str,
                "circulation_date": str,
                "foi_refs": str,  # JSON list
                "applicant_request": str,
                "advice": str,
                "topic": str,
                "topics": str,  # JSON list: every topic, plus supplier_technology_ncnd where it applies
                "suppliers": str,  # JSON list
                "body": str,  # indexed text: own text, boilerplate stripped
                "body_original": str,  # own text as written
                "attachment_text": str,
                "attachment_names": str,  # JSON list
                "defects": str,  # JSON list
                "thread_id": str,
                "copy_of": str,  # key of the canonical message when this is an attached/quoted copy
                "extraction": str,  # the JSON contract object, as `cru extract` prints it
            },
            pk="key",
        )
        for cols in (["raw_sha256"], ["message_id"], ["thread_id"], ["date"], ["parent_key"], ["norm_subject"]):
            db["messages"].create_index(cols)
        db["messages"].enable_fts(list(FTS_COLUMNS), create_triggers=True, tokenize="porter unicode61")
        # sqlite-utils' update trigger re-indexes a row on ANY update; linking updates
        # thread_id/copy_of on every ingest, so re-index only when an indexed column is set.
        columns = ", ".join(f'"{c}"' for c in FTS_COLUMNS)
        old = ", ".join(f'old."{c}"' for c in FTS_COLUMNS)
        new = ", ".join(f'new."{c}"' for c in FTS_COLUMNS)
        db.conn.execute('DROP TRIGGER IF EXISTS "messages_au"')  # not executescript: it would COMMIT
        db.conn.execute(
            f'CREATE TRIGGER "messages_au" AFTER UPDATE OF {columns} ON "messages" BEGIN '
            f"INSERT INTO \"messages_fts\" (\"messages_fts\", rowid, {columns}) VALUES('delete', old.rowid, {old}); "
            f'INSERT INTO "messages_fts" (rowid, {columns}) VALUES (new.rowid, {new}); END'
        )
    if "attachments" not in names:
        db["attachments"].create(
            {"sha256": str, "data": bytes, "size": int, "content_type": str, "text": str, "note": str},
            pk="sha256",
        )
    if "message_attachments" not in names:
        db["message_attachments"].create(
            {"message_key": str, "position": int, "sha256": str, "filename": str, "content_type": str,
             "is_message": int, "note": str},
            pk=("message_key", "position"),
        )
        db["message_attachments"].create_index(["sha256"])
    if "mentions" not in names:
        db["mentions"].create(
            {"message_key": str, "log_number": str, "role": str, "source": str, "log_date": str,
             "internal_review": int},
            pk=("message_key", "log_number", "role", "source"),
        )
        db["mentions"].create_index(["log_number"])
    if "log_links" not in names:
        db["log_links"].create(
            {"from_log": str, "to_log": str, "kind": str, "evidence": str, "message_key": str, "date": str,
             "score": float},
            pk=("from_log", "to_log", "kind", "message_key"),
        )
        db["log_links"].create_index(["to_log"])
    if "circulations" not in names:
        db["circulations"].create(
            {
                "log_number": str,
                "subject": str,
                "first_date": str,
                "latest_date": str,
                "circulation_date": str,
                "marking": str,
                "caveats": str,
                "stance": str,
                "exemptions": str,
                "logged_with": str,
                "applicant_request": str,
                "advice": str,
                "topic": str,
                "topics": str,
                "suppliers": str,
                "kinds": str,
                "message_count": int,
                "thread_id": str,
            },
            pk="log_number",
        )
    if "threads" not in names:
        db["threads"].create(
            {"thread_id": str, "log_number": str, "subject": str, "root_key": str, "message_count": int,
             "first_date": str, "latest_date": str, "marking": str, "caveats": str},
            pk="thread_id",
        )
        db["threads"].create_index(["log_number"])
    if "quarantine" not in names:
        db["quarantine"].create(
            {"sha256": str, "source_ref": str, "error": str, "at": str},
            pk="sha256",
        )


def drop_derived(db: sqlite_utils.Database) -> None:
    """Drop every derived table (and the FTS index) so they can be rebuilt from raw."""
    for name in ("messages_fts",):
        if name in db.table_names():
            db[name].drop()
    for trigger in db.conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        db.conn.execute(f"DROP TRIGGER IF EXISTS [{trigger[0]}]")
    for name in DERIVED_TABLES:
        if name in db.table_names():
            db[name].drop()
    _create_derived(db)
