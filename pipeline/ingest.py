"""The one orchestration path: raw → store (raw first) → parse → extract → link → commit.

The CLI, the worker and the tests all call ``ingest``; ``rebuild`` re-derives
every table from the stored raw bytes through the same ``derive`` step.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace

from parsers.cru import extract_stance, stance_text
from parsers.dispatch import ParseLimits, parse_mail
from parsers.errors import ParseError
from pipeline.classify import PRELOAD_ENV, ClassifySettings, classify_message, preload_env, warm
from pipeline.extract import ExtractedMessage, classify_items, extract_nodes, finish, is_derived_id, prime_chunk
from pipeline.linking import MessageRecord, link
from pipeline.sources.base import RawMail, SourceProblem
from pipeline.store import Store, TreeRows, sha256_hex, tree_rows

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
    #: Worker processes for large batches; 0 means one per core.
    workers: int = 0
    #: Topic/supplier classification (None: leave topic and suppliers empty).
    classify: ClassifySettings | None = field(default_factory=ClassifySettings)
    #: Earlier circulations at least this similar are linked as "similar".
    similarity_threshold: float = 0.3


#: A batch with at least this many new messages is parsed in worker processes.
PARALLEL_MIN = 64

Derived = tuple[str, "TreeRows | str"]


def derive_one(data: bytes, container: str | None, source_ref: str, sha: str, options: IngestOptions) -> Derived:
    """Parse and extract one raw message (pure, so it can run in a worker process).

    Returns ("parsed", rows), ("quarantined", error) or ("oversize", reason).
    """
    return _derive_chunk([(data, container, source_ref, sha, options)])[0]


Staged = tuple[str, "list[ExtractedMessage] | str", str, str]


def _stage(data: bytes, container: str | None, source_ref: str, sha: str, options: IngestOptions) -> Staged:
    """Parse and extract, not yet classified: ("staged", items, ...) or a final ("quarantined"/"oversize", why)."""
    if len(data) > options.max_message_bytes:
        return "oversize", f"oversize: {len(data)} bytes > limit {options.max_message_bytes}", source_ref, sha
    name = source_ref.rsplit("/", 1)[-1]
    try:
        tree = parse_mail(data, container, name, options.limits)
        return "staged", extract_nodes(tree, sha), source_ref, sha
    except ParseError as exc:
        return "quarantined", str(exc), source_ref, sha
    except Exception as exc:  # a parser bug must not block the queue: keep the bytes, report, go on
        log.exception("unexpected failure parsing %s", source_ref)
        return "quarantined", f"unexpected {type(exc).__name__}: {exc}", source_ref, sha


def _finish(staged: Staged, options: IngestOptions) -> Derived:
    status, payload, source_ref, sha = staged
    if status != "staged":
        return status, str(payload)
    assert isinstance(payload, list)
    try:
        if options.classify is not None:
            classify_items(payload, options.classify)
        return "parsed", tree_rows(sha, finish(payload))
    except Exception as exc:  # as in _stage: one message's failure is reported, the rest go on
        log.exception("unexpected failure deriving %s", source_ref)
        return "quarantined", f"unexpected {type(exc).__name__}: {exc}"


def _derive_job(job: tuple[bytes, str | None, str, str, IngestOptions]) -> Derived:
    return derive_one(*job)


def _derive_chunk(jobs: list[tuple[bytes, str | None, str, str, IngestOptions]]) -> list[Derived]:
    """Derive a chunk of messages: parse and extract each, score all their topics in one batch, finish each."""
    staged = [_stage(*job) for job in jobs]
    if jobs and jobs[0][4].classify is not None:
        items = [item for st in staged if st[0] == "staged" for item in st[1]]
        try:
            prime_chunk(items, jobs[0][4].classify)
        except Exception:  # only an optimisation: each message is then scored on its own in _finish
            log.exception("batch topic scoring failed; scoring message by message")
    return [_finish(st, job[4]) for st, job in zip(staged, jobs, strict=True)]


def store_derived(store: Store, sha: str, source_ref: str, result: Derived) -> str:
    """Write one derivation result; return the raw message's final status.

    "parsed", "duplicate" (its root Message-ID is already held by another raw
    message: kept raw, not derived twice), "quarantined" or "oversize".
    """
    status, payload = result
    if status != "parsed":
        store.quarantine(sha, source_ref, str(payload), status=status)
        return status
    rows = payload
    assert isinstance(rows, TreeRows)
    root_id = rows.root_message_id
    if not is_derived_id(root_id):
        owner = store.root_id_owner(root_id)
        if owner and owner != sha:
            store.set_raw_status(sha, "duplicate", root_id, duplicate_of=owner)
            return "duplicate"
    store.write_tree(sha, rows)
    store.set_raw_status(sha, "parsed", root_id)
    return "parsed"


class _Deriver:
    """Runs derive_one inline for small batches and in worker processes for large ones.

    Parsing and extraction are pure and CPU-bound, so large ingests (a first
    import, a rebuild) use every core; the single SQLite writer stays in this
    process. Workers come from a forkserver (not fork) so a threaded caller
    such as the scheduler is safe.
    """

    def __init__(self, options: IngestOptions) -> None:
        self.options = options
        self.pool: ProcessPoolExecutor | None = None

    def submit(self, jobs: list[tuple[bytes, str | None, str, str]]) -> Callable[[], list[Derived]]:
        """Start deriving; return a function that waits for and returns the results in order.

        Submitting the next batch before writing the previous one keeps the
        workers busy while this process writes SQLite.
        """
        full = [(*job, self.options) for job in jobs]
        workers = self.options.workers or (os.cpu_count() or 1)
        if len(full) < PARALLEL_MIN or workers < 2:
            done = [_derive_job(job) for job in full]
            return lambda: done
        try:
            if self.pool is None:
                preload = ["pipeline.ingest"]
                if self.options.classify is not None:
                    warm(self.options.classify)  # train/load here once, so workers only read it
                    # The forkserver (started once per process, on first use) loads it too, so
                    # the workers it forks start with it loaded: see pipeline/preload.py.
                    os.environ[PRELOAD_ENV] = preload_env(self.options.classify)
                    preload.append("pipeline.preload")
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(preload)
                self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
            chunk = max(1, len(full) // (workers * 4))
            futures = [self.pool.submit(_derive_chunk, full[i : i + chunk]) for i in range(0, len(full), chunk)]
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            return self._inline_after(exc, full)

        def wait() -> list[Derived]:
            try:
                return [result for f in futures for result in f.result()]
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                return self._inline_after(exc, full)()

        return wait

    def _inline_after(self, exc: BaseException, full: list) -> Callable[[], list[Derived]]:
        """A worker pool that cannot start or died (killed by the OOM killer ...): go on in this process."""
        log.warning("worker processes unavailable (%s): parsing in the main process", exc)
        self.options = replace(self.options, workers=1)
        self.close()
        done = [_derive_job(job) for job in full]
        return lambda: done

    def run(self, jobs: list[tuple[bytes, str | None, str, str]]) -> list[Derived]:
        return self.submit(jobs)()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


def _count(report: IngestReport, status: str) -> None:
    if status == "parsed":
        report.new += 1
    elif status == "duplicate":
        report.duplicates += 1
    else:
        report.quarantined += 1


def ingest(
    store: Store,
    source: Iterable[RawMail | SourceProblem],
    options: IngestOptions | None = None,
    on_message: Callable[[RawMail | SourceProblem], None] | None = None,
    on_commit: Callable[[list[RawMail]], None] | None = None,
) -> IngestReport:
    """Ingest every message a source yields; idempotent; never stops on a bad message.

    Per batch, raw bytes are committed first (with ``on_commit``, so a caller
    such as the IMAP worker commits its checkpoint atomically with the raw
    messages it covers), then parsed and their derived rows committed. Raw
    messages left "pending" by a crash between the two are derived at the
    start of the next run.
    """
    options = options or IngestOptions()
    report = IngestReport()
    batch: list[RawMail] = []
    deriver = _Deriver(options)
    changed = _resume_pending(store, deriver) > 0

    inflight: tuple[list[tuple[str, RawMail]], Callable[[], list[Derived]]] | None = None

    def write(done: tuple[list[tuple[str, RawMail]], Callable[[], list[Derived]]]) -> None:
        fresh, wait = done
        results = wait()
        with store.transaction():
            for (sha, raw), result in zip(fresh, results, strict=True):
                _count(report, store_derived(store, sha, raw.source_ref, result))

    def flush() -> None:
        nonlocal changed, inflight
        if not batch:
            return
        fresh: list[tuple[str, RawMail]] = []
        with store.transaction():
            for raw in batch:
                report.messages += 1
                sha = sha256_hex(raw.data)
                if not store.add_raw(raw.data, raw.source_ref, raw.received_at, raw.container, sha):
                    report.duplicates += 1
                    continue
                fresh.append((sha, raw))
            if on_commit is not None:
                on_commit(list(batch))
        batch.clear()
        if not fresh:
            return
        started = (fresh, deriver.submit([(raw.data, raw.container, raw.source_ref, sha) for sha, raw in fresh]))
        if inflight is not None:
            write(inflight)
        inflight = started
        changed = True

    try:
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
        if inflight is not None:
            write(inflight)
    finally:
        deriver.close()
    report.files = getattr(source, "files_read", report.messages)
    if changed:
        relink(store, options.similarity_threshold)
    return report


def _derive_stored(store: Store, shas: list[str], deriver: _Deriver, report: IngestReport | None = None) -> None:
    """Derive raw messages already in the store, in batches."""
    for start in range(0, len(shas), BATCH):
        chunk = shas[start : start + BATCH]
        jobs = []
        for sha in chunk:
            data, container, source_ref = store.db.execute(
                "SELECT r.data, r.container, (SELECT source_ref FROM raw_sources s WHERE s.sha256 = r.sha256 "
                "ORDER BY seen_at LIMIT 1) FROM raw_mail r WHERE sha256 = ?", [sha]
            ).fetchone()
            jobs.append((data, container, source_ref or "", sha))
        results = deriver.run(jobs)
        with store.transaction():
            for job, result in zip(jobs, results, strict=True):
                status = store_derived(store, job[3], job[2], result)
                if report is not None:
                    report.messages += 1
                    _count(report, status)


def _resume_pending(store: Store, deriver: _Deriver) -> int:
    """Derive raw messages a crash left stored but not yet parsed."""
    pending = [sha for (sha,) in store.db.execute("SELECT sha256 FROM raw_mail WHERE status = 'pending' "
                                                   "ORDER BY rowid")]
    if pending:
        log.info("deriving %d raw messages left pending by an interrupted run", len(pending))
        _derive_stored(store, pending, deriver)
    return len(pending)


def relink(store: Store, similarity_threshold: float = 0.3, reuse_similar: bool = True) -> None:
    """Recompute threads, copies, log links (similar ones too) and circulations over the whole store.

    Similar links are reused when no circulation's request changed, unless ``reuse_similar``
    is False (after a threshold, model or taxonomy change).
    """
    records = load_records(store)
    previous_requests = dict(store.db.execute(
        "SELECT log_number, applicant_request FROM circulations WHERE applicant_request IS NOT NULL"
    ).fetchall())
    previous_links = [
        dict(zip(("from_log", "to_log", "kind", "evidence", "message_key", "date", "score"), row, strict=True))
        for row in store.db.execute(
            "SELECT from_log, to_log, kind, evidence, message_key, date, score FROM log_links WHERE kind = 'similar'"
        )
    ]
    result = link(records, similarity_threshold, (previous_requests, previous_links) if reuse_similar else None)
    with store.transaction():
        store.apply_links(result)


def load_records(store: Store) -> list[MessageRecord]:
    rows = store.db.execute(
        "SELECT m.key, r.rowid, m.relation, m.parent_key, m.message_id, m.subject, m.norm_subject, m.date, "
        "m.in_reply_to, m.references_json, m.thread_topic, m.kind, m.log_numbers, m.marking, m.caveats, "
        "m.stance, m.exemptions, m.logged_with, m.applicant_request, m.advice, m.circulation_date, m.body, "
        "m.attachment_names, m.topic, m.topics, m.suppliers "
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
         body, attachment_names, primary_topic, topics, suppliers) = row
        records.append(
            MessageRecord(
                key=key, order=i, relation=relation, parent_key=parent_key, message_id=message_id,
                derived_id=is_derived_id(message_id), subject=subject or "", norm_subject=norm_subject or "",
                date=date, in_reply_to=in_reply_to, references=json.loads(refs or "[]"), thread_topic=topic,
                kind=kind, about=json.loads(logs or "[]"), referenced=referenced.get(key, []),
                marking=marking, caveats=json.loads(caveats or "[]"), stance=stance,
                exemptions=json.loads(exemptions or "[]"), logged_with=logged_with,
                applicant_request=request, advice=advice, circulation_date=circ_date, body=body or "",
                attachment_names=json.loads(attachment_names or "[]"),
                topic=primary_topic, topics=json.loads(topics or "[]"), suppliers=json.loads(suppliers or "[]"),
            )
        )
    return records


def rebuild(store: Store, options: IngestOptions | None = None) -> IngestReport:
    """Drop every derived table and re-derive it all from the stored raw bytes."""
    options = options or IngestOptions()
    report = IngestReport()
    with store.transaction():
        store.reset_derived()
    shas = [sha for (sha,) in store.db.execute("SELECT sha256 FROM raw_mail ORDER BY rowid")]
    deriver = _Deriver(options)
    try:
        _derive_stored(store, shas, deriver, report)
    finally:
        deriver.close()
    relink(store, options.similarity_threshold)
    return report


def reclassify(store: Store, options: IngestOptions | None = None,
               progress: Callable[[int, int], None] | None = None) -> int:
    """Re-run classification over every stored message (after a model or taxonomy change).

    Reads the extracted fields already in the store (no re-fetching, no
    re-parsing), rewrites topic/topics/suppliers and the extraction JSON only
    where they changed, then relinks (similar links). Idempotent: returns the
    number of messages whose classification changed.
    """
    options = options or IngestOptions()
    settings = options.classify or ClassifySettings()
    warm(settings)
    rows = store.db.execute(
        "SELECT key, subject, applicant_request, advice, body_original, stance, log_numbers, topic, topics, "
        "suppliers, extraction FROM messages ORDER BY key"
    ).fetchall()
    changed = 0
    for start in range(0, len(rows), BATCH):
        with store.transaction():
            for key, subject, request, advice, body, stance, logs, topic, topics, suppliers, extraction in \
                    rows[start : start + BATCH]:
                # The rules' stance is read again from the stored text: the stored one may be a
                # previous model's refinement, and reclassifying must not build on it.
                source = stance_text(advice, request, body or "")
                c = classify_message(subject or "", request, advice, body or "", extract_stance(source),
                                     bool(json.loads(logs or "[]")), settings, stance_source=source)
                new = (c.topic, json.dumps(list(c.topics)), json.dumps(list(c.suppliers), ensure_ascii=False),
                       c.stance)
                if new == (topic, topics, suppliers, stance):
                    continue
                contract = json.loads(extraction)
                contract["topic"], contract["suppliers"], contract["stance"] = c.topic, list(c.suppliers), c.stance
                store.db.execute(
                    "UPDATE messages SET topic = ?, topics = ?, suppliers = ?, stance = ?, extraction = ? "
                    "WHERE key = ?",
                    [*new, json.dumps(contract, ensure_ascii=False), key],
                )
                changed += 1
        if progress:
            progress(min(start + BATCH, len(rows)), len(rows))
    relink(store, options.similarity_threshold, reuse_similar=False)
    return changed
