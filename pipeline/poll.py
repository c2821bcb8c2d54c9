"""One poll pass over every configured IMAP account and folder: fetch what is new, ingest it, act on it.

Crash safety comes from ``ingest``'s ``on_commit`` hook: each batch's raw
messages and the folder's checkpoint (UIDVALIDITY, highest UID) land in one
SQLite transaction, so a kill at any point leaves a checkpoint that never
claims a message the store lacks. A message fetched twice (kill after the
commit, UIDVALIDITY change) is a duplicate by content hash or Message-ID, so
the store never holds it twice.

Post-ingest actions (keyword, \\Seen, move) run only after the commit, and
how far they got is recorded separately: after a crash the next poll applies
them to the committed UIDs they missed.

Failures: connection errors and timeouts are retried with capped exponential
backoff and jitter; an authentication failure stops that account (retrying a
bad password can lock a directory account) while the others go on; a folder
with a configuration problem is reported and the next folder polled.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from config.loader import AccountConfig, Config, ScheduleConfig
from pipeline import checkpoints
from pipeline.ingest import IngestOptions, IngestReport, ingest
from pipeline.sources import imap
from pipeline.sources.base import RawMail
from pipeline.store import Store

log = logging.getLogger("cru.poll")


@dataclass
class FolderResult:
    account: str
    folder: str
    ok: bool = False
    error: str | None = None
    #: "auth", "permanent", "transient" (retries exhausted) or None.
    error_kind: str | None = None
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    uidvalidity: int | None = None
    last_uid: int | None = None
    rescanned: bool = False
    attempts: int = 0


@dataclass
class PollResult:
    folders: list[FolderResult] = field(default_factory=list)
    #: Accounts whose login was refused in this pass.
    auth_failed: list[str] = field(default_factory=list)
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.folders)

    def as_json(self) -> dict:
        return {"ok": self.ok, "stopped": self.stopped, "auth_failed": self.auth_failed,
                "folders": [asdict(f) for f in self.folders]}


def backoff_delay(attempt: int, schedule: ScheduleConfig, rng: random.Random | None = None) -> float:
    """Delay before retry ``attempt`` (1-based): doubled per attempt, capped, with "equal jitter"
    so that several workers (or accounts) hitting one recovering server do not retry in step."""
    base = min(schedule.retry_max_seconds, schedule.retry_initial_seconds * 2 ** (attempt - 1))
    return base / 2 + (rng or random).uniform(0, base / 2)


class _FolderPoll:
    """Poll one folder on an open connection: select, ingest new UIDs with checkpoints, apply actions."""

    def __init__(self, store: Store, client, account: AccountConfig, folder: str, options: IngestOptions,
                 stop: threading.Event, result: FolderResult) -> None:
        self.store = store
        self.client = client
        self.account = account
        self.folder = folder
        self.options = options
        self.stop = stop
        self.result = result

    def run(self) -> None:
        name, folder = self.account.name, self.folder
        source = imap.ImapFolderSource(self.client, self.account, folder,
                                       readonly=self.account.after_ingest == "none", stop=self.stop)
        state = source.select()
        cp = checkpoints.get(self.store, name, folder)
        after = 0
        if cp is not None and cp.uidvalidity == state.uidvalidity:
            after = cp.last_uid
            if state.uidnext is not None and state.uidnext <= cp.last_uid:
                log.warning("%s/%s: UIDNEXT %d is not above the checkpoint UID %d with the same UIDVALIDITY: "
                            "rescanning the folder (duplicates are recognised by content)",
                            name, folder, state.uidnext, cp.last_uid)
                after = 0
                self.result.rescanned = True
        elif cp is not None:
            log.warning("%s/%s: UIDVALIDITY changed %d -> %d: rescanning the folder (messages already held are "
                        "recognised by content hash and Message-ID)", name, folder, cp.uidvalidity,
                        state.uidvalidity)
            self.result.rescanned = True
        self.result.uidvalidity = state.uidvalidity
        self._catch_up_actions(state.uidvalidity, cp)

        def on_commit(batch: list[RawMail]) -> None:
            # Inside the transaction that commits these raw messages: the checkpoint lands with them.
            checkpoints.put(self.store, name, folder, state.uidvalidity,
                            max(checkpoints.parse_uid(r.source_ref) for r in batch))

        report: IngestReport = ingest(self.store, source.messages(after), self.options, on_commit=on_commit)
        self.result.fetched += report.messages
        self.result.new += report.new
        self.result.duplicates += report.duplicates
        self.result.quarantined += report.quarantined
        final = checkpoints.get(self.store, name, folder)
        if final is None or final.uidvalidity != state.uidvalidity:
            # Empty (or emptied) folder: still record the UIDVALIDITY we have seen.
            with self.store.transaction():
                checkpoints.put(self.store, name, folder, state.uidvalidity, 0)
            final = checkpoints.get(self.store, name, folder)
        assert final is not None
        self.result.last_uid = final.last_uid
        self._apply_actions(state.uidvalidity, final.last_uid)

    def _catch_up_actions(self, uidvalidity: int, cp: checkpoints.Checkpoint | None) -> None:
        """Apply actions a crash left undone for messages committed by an earlier poll."""
        if cp is not None and cp.uidvalidity == uidvalidity:
            self._apply_actions(uidvalidity, cp.last_uid)

    def _apply_actions(self, uidvalidity: int, last_uid: int) -> None:
        action = self.account.after_ingest
        if action == "none" or last_uid <= 0:
            return
        done = checkpoints.actions_done(self.store, self.account.name, self.folder)
        first = done.last_uid + 1 if done is not None and done.uidvalidity == uidvalidity else 1
        if first > last_uid:
            return
        imap.apply_action(self.client, self.account, self.folder, action, first, last_uid)
        checkpoints.record_actions(self.store, self.account.name, self.folder, uidvalidity, last_uid)
        log.info("%s/%s: after_ingest %s applied to UIDs %d:%d", self.account.name, self.folder, action, first,
                 last_uid)


class Poller:
    """Polls accounts; remembers, across passes of one worker, which accounts a login failure stopped."""

    def __init__(self, config: Config, options: IngestOptions, stop: threading.Event | None = None,
                 environ: dict[str, str] | None = None, sleep: Callable[[float], bool] | None = None) -> None:
        self.config = config
        self.options = options
        self.stop = stop or threading.Event()
        self.environ = environ
        #: Accounts stopped by an authentication failure, with the message; cleared by a restart.
        self.stopped_accounts: dict[str, str] = {}
        self._sleep = sleep or self.stop.wait

    def poll(self, store: Store, accounts: Iterable[str] | None = None) -> PollResult:
        """One pass over the configured accounts (or those named)."""
        checkpoints.ensure_tables(store)
        wanted = set(accounts) if accounts else None
        result = PollResult()
        for account in self.config.accounts:
            if wanted is not None and account.name not in wanted:
                continue
            if self.stop.is_set():
                result.stopped = True
                break
            if account.name in self.stopped_accounts:
                for folder in account.folders:
                    result.folders.append(FolderResult(account.name, folder, error=self.stopped_accounts[account.name],
                                                       error_kind="auth"))
                continue
            self._poll_account(store, account, result)
        result.stopped = result.stopped or self.stop.is_set()
        return result

    def _poll_account(self, store: Store, account: AccountConfig, result: PollResult) -> None:
        client = None
        try:
            for i, folder in enumerate(account.folders):
                if self.stop.is_set():
                    return
                fr = FolderResult(account.name, folder)
                result.folders.append(fr)
                attempt = 0
                while True:
                    attempt += 1
                    fr.attempts = attempt
                    try:
                        if client is None:
                            client = imap.connect(account, self.environ)
                        _FolderPoll(store, client, account, folder, self.options, self.stop, fr).run()
                        fr.ok, fr.error, fr.error_kind = True, None, None
                        checkpoints.record_success(store, account.name, folder)
                        log.info("%s/%s: fetched %d, new %d, duplicates %d, quarantined %d (UIDVALIDITY %s, "
                                 "last UID %s)", account.name, folder, fr.fetched, fr.new, fr.duplicates,
                                 fr.quarantined, fr.uidvalidity, fr.last_uid)
                        break
                    except imap.ImapAuthError as exc:
                        self._auth_failed(store, account, account.folders[i:], str(exc), result)
                        return
                    except imap.ImapPermanentError as exc:
                        fr.error, fr.error_kind = str(exc), "permanent"
                        log.error("%s", exc)
                        checkpoints.record_error(store, account.name, folder, str(exc))
                        break
                    except imap.ImapTransientError as exc:
                        imap.close(client)
                        client = None
                        fr.error, fr.error_kind = str(exc), "transient"
                        if attempt >= self.config.schedule.retry_attempts or self.stop.is_set():
                            msg = f"{exc} (gave up after {attempt} attempts; retried at the next poll)"
                            fr.error = msg
                            log.error("%s", msg)
                            checkpoints.record_error(store, account.name, folder, msg)
                            break
                        delay = backoff_delay(attempt, self.config.schedule)
                        log.warning("%s; retrying in %.1fs (attempt %d of %d)", exc, delay, attempt + 1,
                                    self.config.schedule.retry_attempts)
                        if self._sleep(delay):  # stop requested while waiting
                            break
        finally:
            imap.close(client)

    def _auth_failed(self, store: Store, account: AccountConfig, folders: list[str], message: str,
                     result: PollResult) -> None:
        log.error("%s", message)
        self.stopped_accounts[account.name] = message
        result.auth_failed.append(account.name)
        for folder in folders:
            fr = next((f for f in result.folders if f.account == account.name and f.folder == folder), None)
            if fr is None:
                fr = FolderResult(account.name, folder)
                result.folders.append(fr)
            fr.ok, fr.error, fr.error_kind = False, message, "auth"
            checkpoints.record_error(store, account.name, folder, message)
