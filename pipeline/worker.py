"""`cru run`: the unattended worker. A blocking APScheduler with the poll job, signal handling, a lock file.

The poll job calls the same ``Poller`` as `cru poll --once`. SIGTERM/SIGINT
set a stop flag that the IMAP source checks between messages: the message in
hand is finished, the batch committed with its checkpoint, and the process
exits 0. A lock file next to the store (``cru.db.lock``, an flock that the
kernel releases even on SIGKILL) keeps a second worker, or a `cru poll` from
cron, off the same store. Further jobs (the weekly digest) join with
``Worker.scheduler.add_job`` under the same executor.
"""

from __future__ import annotations

import fcntl
import json
import logging
import logging.handlers
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from config.loader import Config, LoggingConfig
from pipeline.digest.job import schedule_digest
from pipeline.ingest import IngestOptions
from pipeline.poll import Poller, PollResult
from pipeline.store import Store

log = logging.getLogger("cru.worker")


# ---- lock file ---------------------------------------------------------------
class LockHeld(RuntimeError):
    """Another process (a worker or a `cru poll`) holds the store's lock."""


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


class StoreLock:
    """An exclusive, non-blocking flock on ``<store>.lock``, holding the owner's pid.

    flock rather than a pid file alone: the kernel drops it when the process
    dies however it dies, so a SIGKILLed worker never leaves a stale lock.
    """

    def __init__(self, db: Path) -> None:
        self.path = lock_path(db)
        self._fd: int | None = None

    def acquire(self) -> StoreLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = _read_pid(self.path)
            raise LockHeld(f"another cru worker{f' (pid {pid})' if pid else ''} is polling this store "
                           f"(lock {self.path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def lock_holder(db: Path) -> dict[str, object]:
    """Whether a worker (or `cru poll`) holds the store's lock now, and its pid, for `cru status`."""
    path = lock_path(db)
    if not path.exists():
        return {"running": False, "pid": None, "lock": str(path)}
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return {"running": True, "pid": _read_pid(path), "lock": str(path)}
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return {"running": False, "pid": None, "lock": str(path)}
    finally:
        os.close(fd)


# ---- logging -------------------------------------------------------------------
class JsonLines(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(cfg: LoggingConfig) -> Callable[[], None]:
    """stderr always (the journal under systemd), plus an optional rotating file.

    Returns a function that removes these handlers again, so that in-process
    callers (tests, CliRunner) do not leave handlers on closed streams behind.
    """
    fmt: logging.Formatter = JsonLines() if cfg.json else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if cfg.file:
        path = Path(cfg.file).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(path, maxBytes=cfg.max_bytes,
                                                             backupCount=cfg.backup_count, encoding="utf-8"))
    root = logging.getLogger()
    previous_level = root.level
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    root.setLevel(cfg.level.upper())
    for noisy in ("apscheduler", "imapclient"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

    def teardown() -> None:
        for h in handlers:
            root.removeHandler(h)
            h.close()
        root.setLevel(previous_level)

    return teardown


# ---- the worker -------------------------------------------------------------------
class Worker:
    """The scheduled poll loop of `cru run`."""

    def __init__(self, config: Config, db: Path, options: IngestOptions) -> None:
        self.config = config
        self.db = db
        self.stop = threading.Event()
        self.poller = Poller(config, options, stop=self.stop)
        #: Held while a poll runs, so shutdown can wait for the message in hand to be committed.
        self.busy = threading.Lock()
        self.polls = 0
        self.last_result: PollResult | None = None
        s = config.schedule
        self.scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": s.misfire_grace_seconds},
            timezone=UTC,
        )
        self.scheduler.add_job(self.poll_job, "interval", seconds=s.poll_interval_seconds, id="poll",
                               name="poll mailboxes", next_run_time=datetime.now(UTC))
        # The weekly digest joins the same scheduler (a no-op when no [digest] recipients are configured).
        schedule_digest(self.scheduler, self.db, config.smtp, config.digest)

    def poll_job(self) -> None:
        """One poll pass; never raises (an exception in a job would only be logged by APScheduler)."""
        if self.stop.is_set():  # a signal that came before the scheduler was running
            self.scheduler.shutdown(wait=False)
            return
        with self.busy:
            try:
                with Store(self.db) as store:
                    self.last_result = self.poller.poll(store)
                self.polls += 1
            except Exception:
                log.exception("poll failed")

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("%s received: finishing the message in hand, committing, exiting", signal.Signals(signum).name)
        self.stop.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def run(self) -> None:
        """Block until SIGTERM/SIGINT; hold the store lock throughout."""
        with StoreLock(self.db):
            previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
            try:
                log.info("worker started: %d account(s), polling every %ds, store %s", len(self.config.accounts),
                         self.config.schedule.poll_interval_seconds, self.db)
                if not self.stop.is_set():
                    self.scheduler.start()
            finally:
                self.stop.set()
                with self.busy:  # the poll in hand commits what it fetched, then we go
                    pass
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
            log.info("worker stopped after %d polls", self.polls)
