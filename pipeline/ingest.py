"""The one orchestration path: raw → store (raw first) → parse → extract → link → commit.

The CLI, the worker and the tests all call ``ingest``; ``rebuild`` re-derives
every table from the stored raw bytes through the same ``derive`` step.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from parsers.dispatch import ParseLimits, parse_mail
from parsers.errors import ParseError
from pipeline.extract import extract_tree, is_derived_id
from pipeline.linking import MessageRecord, link
from pipeline.sources.base import RawMail, SourceProblem
from pipeline.store import Store, sha256_hex

log = logging.getLogger("cru.ingest")

#: Raw messages committed per transaction: large enough to be fast, small enough to lose little on a kill.
BATCH = 200


@dataclass
class IngestReport:
    """What one ingest run did; ``messages == new + duplicates + quarantined``."""

    files: int = 0
    messages: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, int]:
        d = asdict(self)
        d.pop("problems")
        return d


@dataclass(frozen=True)
class IngestOptions:
    limits: ParseLimits = field(default_factory=ParseLimits)
    max_message_bytes: int = 50 * 1024 * 1024


def derive(store: Store, sha: str, data: bytes, container: str | None, source_ref: str,
           options: IngestOptions) -> str:
    """Parse and extract one stored raw message; return its status.

    "parsed", "duplicate" (its root Message-ID is already held by another raw
    message), "quarantined" (could not be parsed) or "oversize".
    """
    if len(data) > options.max_message_bytes:
        store.quarantine(sha, source_ref, f"oversize: {len(data)} bytes > limit {options.max_message_bytes}",
                         status="oversize")
        return "oversize"
    name = source_ref.rsplit("/", 1)[-1]
    try:
        tree = parse_mail(data, container, name, options.limits)
        items = extract_tree(tree, sha)
    except ParseError as exc:
        store.quarantine(sha, source_ref, str(exc))
        return "quarantined"
    except Exception as exc:  # a parser bug must not block the queue: keep the bytes, report, go on
        log.exception("unexpected failure parsing %s", source_ref)
        store.quarantine(sha, source_ref, f"unexpected {type(exc).__name__}: {exc}")
        return "quarantined"
    root_id = items[0].message_id
    if not is_derived_id(root_id):
        owner = store.root_id_owner(root_id)
        if owner and owner != sha:
            store.set_raw_status(sha, "duplicate", root_id, duplicate_of=owner)
            return "duplicate"
    store.write_tree(sha, items)
    store.set_raw_status(sha, "parsed", root_id)
    return "parsed"


def ingest(
    store: Store,
    source: Iterable[RawMail | SourceProblem],
    options: IngestOptions | None = None,
    on_message: Callable[[RawMail | SourceProblem], None] | None = None,
    on_commit: Callable[[list[RawMail]], None] | None = None,
) -> IngestReport:
    """Ingest every message a source yields; idempotent; never stops on a bad message.

    ``on_commit`` is called inside each batch's transaction with the raw mails it
    covers, so a caller (the IMAP worker) can commit its checkpoint atomically
    with the messages.
    """
    options = options or IngestOptions()
    report = IngestReport()
    batch: list[RawMail] = []
    changed = False

    def flush() -> None:
        nonlocal changed
        if not batch:
            return
        with store.transaction():
            for raw in batch:
                changed |= _one(store, raw, options, report)
            if on_commit is not None:
                on_commit(list(batch))
        batch.clear()

    for item in source:
        if on_message is not None:
            on_message(item)
        if isinstance(item, SourceProblem):
            report.problems.append({"source_ref": item.source_ref, "error": item.error})
            log.warning("cannot read %s: %s", item.source_ref, item.error)
            continue
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    flush()
    report.files = getattr(source, "files_read", report.messages)
    if changed:
        relink(store)
    return report


def _one(store: Store, raw: RawMail, options: IngestOptions, report: IngestReport) -> bool:
    report.messages += 1
    sha = sha256_hex(raw.data)
    if store.has_raw(sha):
        store.add_source(sha, raw.source_ref)
        report.duplicates += 1
        return False
    store.add_raw(raw.data, raw.source_ref, raw.received_at, raw.container)
    status = derive(store, sha, raw.data, raw.container, raw.source_ref, options)
    if status == "parsed":
        report.new += 1
    elif status == "duplicate":
        report.duplicates += 1
    else:
        report.quarantined += 1
    return True


def relink(store: Store) -> None:
    """Recompute threads, copies, log links and circulations over the whole store."""
    records = load_records(store)
    result = link(records)
    with store.transaction():
        store.apply_links(result)


def load_records(store: Store) -> list[MessageRecord]:
    rows = store.db.execute(
        "SELECT m.key, r.rowid, m.relation, m.parent_key, m.message_id, m.subject, m.norm_subject, m.date, "
        "m.in_reply_to, m.references_json, m.thread_topic, m.kind, m.log_numbers, m.marking, m.caveats, "
        "m.stance, m.exemptions, m.logged_with, m.applicant_request, m.advice, m.circulation_date, m.body "
        "FROM messages m JOIN raw_mail r ON r.sha256 = m.raw_sha256 ORDER BY r.rowid, m.path"
    ).fetchall()
    referenced: dict[str, list[tuple[str, str]]] = {}
    for key, number, source in store.db.execute(
        "SELECT message_key, log_number, source FROM mentions WHERE role = 'referenced'"
    ):
        referenced.setdefault(key, []).append((number, source))
    records = []
    for i, row in enumerate(rows):
        (key, _rowid, relation, parent_key, message_id, subject, norm_subject, date, in_reply_to, refs,
         topic, kind, logs, marking, caveats, stance, exemptions, logged_with, request, advice, circ_date,
         body) = row
        records.append(
            MessageRecord(
                key=key, order=i, relation=relation, parent_key=parent_key, message_id=message_id,
                derived_id=is_derived_id(message_id), subject=subject or "", norm_subject=norm_subject or "",
                date=date, in_reply_to=in_reply_to, references=json.loads(refs or "[]"), thread_topic=topic,
                kind=kind, about=json.loads(logs or "[]"), referenced=referenced.get(key, []),
                marking=marking, caveats=json.loads(caveats or "[]"), stance=stance,
                exemptions=json.loads(exemptions or "[]"), logged_with=logged_with,
                applicant_request=request, advice=advice, circulation_date=circ_date, body=body or "",
            )
        )
    return records


def rebuild(store: Store, options: IngestOptions | None = None,
            progress: Callable[[int, int], None] | None = None) -> IngestReport:
    """Drop every derived table and re-derive it all from the stored raw bytes."""
    options = options or IngestOptions()
    report = IngestReport()
    with store.transaction():
        store.reset_derived()
    total = store.raw_count()
    rows = list(store.db.execute("SELECT sha256 FROM raw_mail ORDER BY rowid"))
    for start in range(0, len(rows), BATCH):
        with store.transaction():
            for (sha,) in rows[start : start + BATCH]:
                data, container, source_ref = store.db.execute(
                    "SELECT r.data, r.container, (SELECT source_ref FROM raw_sources s WHERE s.sha256 = r.sha256 "
                    "ORDER BY seen_at LIMIT 1) FROM raw_mail r WHERE sha256 = ?", [sha]
                ).fetchone()
                report.messages += 1
                status = derive(store, sha, data, container, source_ref or "", options)
                if status == "parsed":
                    report.new += 1
                elif status == "duplicate":
                    report.duplicates += 1
                else:
                    report.quarantined += 1
        if progress:
            progress(min(start + BATCH, total), total)
    relink(store)
    return report
