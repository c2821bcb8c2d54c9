"""IMAP: connect and log in (TLS, STARTTLS, password or XOAUTH2), and yield a folder's new mail as RawMail.

Like the local sources, nothing here parses a message: the bytes served by the
server go to the store verbatim. Fetches use ``BODY.PEEK[]`` so the server's
\\Seen state is untouched; the only writes to the server are the explicit
post-ingest actions (``apply_action``), which the poller calls after the commit.

Errors are sorted into three kinds so the poller knows what to do:
``ImapAuthError`` (stop this account: retrying a bad password can lock a
directory account), ``ImapPermanentError`` (configuration: missing folder,
untrusted certificate; retrying will not help) and ``ImapTransientError``
(network, timeouts, server restarts: back off and retry).
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import os
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from imapclient import IMAPClient
from imapclient import exceptions as imapx

from config.loader import AccountConfig
from pipeline.checkpoints import imap_ref
from pipeline.sources.base import RawMail

log = logging.getLogger("cru.imap")

FETCH_ITEMS = [b"BODY.PEEK[]", b"INTERNALDATE", b"RFC822.SIZE", b"FLAGS"]
#: UIDs per size-listing FETCH (IMAPClient 4 sends explicit UID lists; this keeps command lines short).
SIZE_CHUNK = 1000
#: How long a password/token command may run.
COMMAND_TIMEOUT = 60


class ImapError(Exception):
    """Base of the IMAP errors the poller handles; the message is meant for an operator."""


class ImapAuthError(ImapError):
    """Login refused, or the secret could not be obtained: the account is stopped, not retried."""


class ImapPermanentError(ImapError):
    """A configuration problem (missing folder, untrusted certificate, no STARTTLS): retrying will not help."""


class ImapTransientError(ImapError):
    """Connection refused or dropped, timeout, server restarting: retry with backoff."""


def classify(exc: BaseException, account: AccountConfig, doing: str) -> ImapError:
    """Turn a library/socket exception into one of the three kinds, with an actionable message."""
    where = f"{account.name} ({account.host}:{account.imap_port}): {doing}"
    if isinstance(exc, ImapError):
        return exc
    if isinstance(exc, imapx.LoginError) and "UNAVAILABLE" in str(exc).upper():
        return ImapTransientError(f"{where}: server cannot authenticate right now: {exc}")
    if isinstance(exc, imapx.LoginError):
        return ImapAuthError(_auth_message(account, str(exc)))
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ImapPermanentError(f"{where}: TLS certificate not trusted ({exc.verify_message}); "
                                  "set ca_file to the CA bundle that signed the server's certificate")
    if isinstance(exc, imapx.CapabilityError):
        return ImapPermanentError(f"{where}: {exc}")
    if isinstance(exc, imaplib.IMAP4.abort | socket.timeout | TimeoutError | OSError | EOFError):
        return ImapTransientError(f"{where}: {type(exc).__name__}: {exc}")
    if isinstance(exc, imaplib.IMAP4.error | imapx.IMAPClientError):
        return ImapPermanentError(f"{where}: server said: {exc}")
    return ImapTransientError(f"{where}: unexpected {type(exc).__name__}: {exc}")


def _auth_message(account: AccountConfig, detail: str) -> str:
    hint = {
        "password_env": f"check the password in the environment variable {account.password_env}",
        "password_command": "check what password_command prints",
        "oauth2_token_command": "check that oauth2_token_command prints a valid, unexpired access token "
                                "for this mailbox (Microsoft 365: IMAP.AccessAsUser.All or IMAP.AccessAsApp)",
    }[account.auth]
    return (f"{account.name}: authentication failed for {account.username!r} at {account.host}: {detail.strip()}; "
            f"{hint}. This account is not polled again until the worker is restarted.")


def run_secret_command(command: str, key: str, account: AccountConfig) -> str:
    """Run a password/token command (like mbsync's PassCmd) and return the first line it prints."""
    try:
        proc = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ImapAuthError(f"{account.name}: {key} did not finish within {COMMAND_TIMEOUT}s") from None
    secret = proc.stdout.strip().splitlines()[0].strip() if proc.stdout.strip() else ""
    if proc.returncode != 0 or not secret:
        why = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no output"
        raise ImapAuthError(f"{account.name}: {key} failed (exit {proc.returncode}): {why}")
    return secret


def password(account: AccountConfig, environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    if account.password_env:
        value = env.get(account.password_env)
        if not value:
            raise ImapAuthError(f"{account.name}: the environment variable {account.password_env} "
                                "(password_env) is not set or empty")
        return value
    return run_secret_command(account.password_command, "password_command", account)


def ssl_context(account: AccountConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=os.path.expanduser(account.ca_file) if account.ca_file else None)


def connect(account: AccountConfig, environ: dict[str, str] | None = None) -> IMAPClient:
    """Open a logged-in connection (implicit TLS, STARTTLS or plain on loopback)."""
    try:
        ctx = ssl_context(account) if account.security != "none" else None
        client = IMAPClient(account.host, port=account.imap_port, ssl=account.security == "tls",
                            ssl_context=ctx, timeout=account.timeout_seconds)
    except Exception as exc:
        raise classify(exc, account, "connect") from exc
    try:
        client.normalise_times = False  # aware INTERNALDATE
        if account.security == "starttls":
            client.starttls(ctx)
        _login(client, account, environ)
        return client
    except BaseException as exc:
        _close(client)
        if isinstance(exc, Exception):
            raise classify(exc, account, "login") from exc
        raise


def _login(client: IMAPClient, account: AccountConfig, environ: dict[str, str] | None) -> None:
    if account.oauth2_token_command:
        token = run_secret_command(account.oauth2_token_command, "oauth2_token_command", account)
        try:
            client.oauth2_login(account.username, token)
        except imapx.LoginError as first:
            # Access tokens expire (Microsoft 365: about an hour): the command refreshes; ask again once.
            log.info("%s: XOAUTH2 token refused (%s); re-running oauth2_token_command", account.name, first)
            token = run_secret_command(account.oauth2_token_command, "oauth2_token_command", account)
            client.oauth2_login(account.username, token)
        return
    client.login(account.username, password(account, environ))


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()


def close(client: IMAPClient | None) -> None:
    """Log out politely; never raises (the connection may already be dead)."""
    if client is not None:
        _close(client)


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    uidnext: int | None
    exists: int


class ImapFolderSource:
    """The new messages of one folder, in UID order, as RawMail (the Source protocol).

    ``select`` first (it tells the caller the UIDVALIDITY), then iterate. New
    UIDs and their sizes come from one ``UID FETCH n:* (RFC822.SIZE)``; bodies
    are fetched in batches cut by count and by bytes. Iteration stops early,
    between two messages, when ``stop`` is set (SIGTERM), so that ingest
    commits what it holds.
    """

    def __init__(self, client: IMAPClient, account: AccountConfig, folder: str, readonly: bool = True,
                 stop: threading.Event | None = None) -> None:
        self.client = client
        self.account = account
        self.folder = folder
        self.readonly = readonly
        self.stop = stop or threading.Event()
        self.state: FolderState | None = None
        self.after_uid = 0
        #: Messages yielded so far (for progress logs).
        self.yielded = 0

    def select(self) -> FolderState:
        try:
            info = self.client.select_folder(self.folder, readonly=self.readonly)
        except Exception as exc:
            raise classify(exc, self.account, f"select folder {self.folder!r}") from exc
        self.state = FolderState(int(info[b"UIDVALIDITY"]), int(info[b"UIDNEXT"]) if b"UIDNEXT" in info else None,
                                 int(info.get(b"EXISTS", 0)))
        return self.state

    def new_uids(self, after_uid: int) -> list[tuple[int, int]]:
        """(UID, size) of every message with UID > after_uid, ascending."""
        assert self.state is not None, "select() first"
        if self.state.exists == 0 or (self.state.uidnext is not None and self.state.uidnext <= after_uid + 1):
            return []  # nothing new: an empty poll costs no FETCH
        try:
            # "n:*" always matches the highest UID, even when it is below n: filter.
            uids = sorted(u for u in self.client.search(["UID", f"{after_uid + 1}:*"]) if u > after_uid)
            sizes: dict[int, int] = {}
            for i in range(0, len(uids), SIZE_CHUNK):
                chunk = uids[i : i + SIZE_CHUNK]
                for uid, d in self.client.fetch(chunk, [b"RFC822.SIZE"]).items():
                    sizes[uid] = int(d.get(b"RFC822.SIZE", 0))
        except Exception as exc:
            raise classify(exc, self.account, f"list new messages in {self.folder!r}") from exc
        return [(uid, sizes.get(uid, 0)) for uid in uids]

    def batches(self, new: list[tuple[int, int]]) -> Iterator[list[int]]:
        batch: list[int] = []
        size = 0
        for uid, n in new:
            if batch and (len(batch) >= self.account.batch_size or size + n > self.account.batch_bytes):
                yield batch
                batch, size = [], 0
            batch.append(uid)
            size += n
        if batch:
            yield batch

    def messages(self, after_uid: int) -> Iterator[RawMail]:
        assert self.state is not None, "select() first"
        new = self.new_uids(after_uid)
        if new:
            log.info("%s/%s: %d new messages after UID %d", self.account.name, self.folder, len(new), after_uid)
        for uids in self.batches(new):
            if self.stop.is_set():
                return
            try:
                fetched = self.client.fetch(uids, FETCH_ITEMS)
            except Exception as exc:
                raise classify(exc, self.account, f"fetch from {self.folder!r}") from exc
            for uid in uids:
                if self.stop.is_set():
                    return
                item = fetched.get(uid)
                if item is None or b"BODY[]" not in item:
                    log.warning("%s/%s: UID %d vanished before it was fetched (expunged on the server)",
                                self.account.name, self.folder, uid)
                    continue
                received = item.get(b"INTERNALDATE")
                self.yielded += 1
                yield RawMail(
                    imap_ref(self.account.name, self.folder, self.state.uidvalidity, uid),
                    bytes(item[b"BODY[]"]),
                    received if isinstance(received, datetime) else None,
                )


def apply_action(client: IMAPClient, account: AccountConfig, folder: str, action: str, first_uid: int,
                 last_uid: int) -> None:
    """Apply a post-ingest action to UIDs first_uid..last_uid of the selected (read-write) folder.

    Idempotent, so re-applying after a crash is harmless: adding a flag twice
    changes nothing, and a moved message is no longer in the range.
    """
    if action == "none" or first_uid > last_uid:
        return
    kind, _, arg = action.partition(":")
    try:
        present = sorted(u for u in client.search(["UID", f"{first_uid}:{last_uid}"]) if first_uid <= u <= last_uid)
        if kind == "move" and present and not client.folder_exists(arg):
            client.create_folder(arg)
        for i in range(0, len(present), SIZE_CHUNK):
            uids = present[i : i + SIZE_CHUNK]
            if kind == "seen":
                client.add_flags(uids, [b"\\Seen"], silent=True)
            elif kind == "keyword":
                client.add_flags(uids, [arg.encode()], silent=True)
            elif kind == "move":
                if client.has_capability("MOVE"):
                    client.move(uids, arg)
                else:
                    client.copy(uids, arg)
                    client.add_flags(uids, [b"\\Deleted"], silent=True)
                    if client.has_capability("UIDPLUS"):
                        client.uid_expunge(uids)
                    else:
                        client.expunge()
    except Exception as exc:
        raise classify(exc, account, f"after_ingest {action!r} on {folder!r}") from exc
