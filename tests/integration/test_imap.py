"""IMAP polling against a real Dovecot on 127.0.0.1: incremental, crash-safe, exactly once.

Every test takes fresh Dovecot users (fresh mailboxes) and its own store, and
drives the real `cru poll --once` command (CliRunner) or the Poller it calls.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from config.loader import load_config
from pipeline.cli import cli
from pipeline.ingest import IngestOptions
from pipeline.poll import Poller
from pipeline.store import Store
from tests.conftest import FIXTURE_MAILBOX
from tests.dovecot import Dovecot
from tests.integration.conftest import account, generated, write_config

pytestmark = pytest.mark.usefixtures("imap_password")


@pytest.fixture
def imap_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRU_TEST_IMAP_PASSWORD", "secret")


def poll(cfg: Path, *extra: str) -> tuple[int, dict, str]:
    """`cru --config CFG poll --once --json`: (exit code, JSON result, stderr)."""
    r = CliRunner().invoke(cli, ["--config", str(cfg), "poll", "--once", "--json", *extra])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return r.exit_code, json.loads(r.stdout), r.stderr


def status(cfg: Path) -> dict:
    r = CliRunner().invoke(cli, ["--config", str(cfg), "status", "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def folder_status(cfg: Path, acct: str, folder: str = "INBOX") -> dict:
    return next(a for a in status(cfg)["accounts"] if a["account"] == acct and a["folder"] == folder)


def q(db: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def assert_exactly_once(db: Path, expected: int) -> None:
    """Every message in the store once: one raw row each, one root Message-ID each, all derived."""
    rows = q(db, "SELECT message_id, status FROM raw_mail")
    assert len(rows) == expected
    assert len({m for m, _ in rows}) == expected, "a Message-ID is held twice"
    assert {s for _, s in rows} == {"parsed"}, {s for _, s in rows}
    assert q(db, "SELECT COUNT(*) FROM messages WHERE relation = 'root'")[0][0] == expected


def checkpoint_uid(db: Path) -> int:
    """The highest checkpointed UID, 0 before the first commit (or before the store exists)."""
    try:
        rows = q(db, "SELECT MAX(last_uid) FROM checkpoints")
    except sqlite3.OperationalError:
        return 0
    return rows[0][0] or 0


def server_flags(server: Dovecot, user: str, folder: str = "INBOX") -> dict[int, set[bytes]]:
    with server.client(user) as c:
        c.select_folder(folder, readonly=True)
        return {uid: set(d[b"FLAGS"]) - {b"\\Recent"} for uid, d in c.fetch(c.search(), [b"FLAGS"]).items()}


def test_first_poll_of_1000_then_new_mail_nothing_twice(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.new_user()
    mails = generated(1010)
    dovecot.deliver(user, list(mails[:1000]))
    db = tmp_path / "cru.db"
    cfg = write_config(tmp_path / "cru.toml", db, [account(dovecot, user, batch_size=150)])

    code, result, _ = poll(cfg)
    assert code == 0 and result["ok"]
    (f,) = result["folders"]
    assert (f["fetched"], f["new"], f["duplicates"], f["quarantined"], f["last_uid"]) == (1000, 1000, 0, 0, 1000)
    assert_exactly_once(db, 1000)
    # The server's \Seen state is untouched (BODY.PEEK[]), the default action is none.
    assert all(b"\\Seen" not in flags for flags in server_flags(dovecot, user).values())

    code, result, _ = poll(cfg)  # nothing new: an empty poll
    assert code == 0 and result["folders"][0]["fetched"] == 0

    dovecot.deliver(user, list(mails[1000:]))
    code, result, _ = poll(cfg)
    assert code == 0 and result["folders"][0]["fetched"] == 10 and result["folders"][0]["new"] == 10
    assert_exactly_once(db, 1010)
    st = folder_status(cfg, user)
    assert st["last_uid"] == 1010 and st["messages_ingested"] == 1010 and st["last_error"] is None
    assert st["uidvalidity"] and st["last_success"]
    # source refs name account, folder, UIDVALIDITY and UID
    ref = q(db, "SELECT source_ref FROM raw_sources ORDER BY seen_at DESC LIMIT 1")[0][0]
    assert re.fullmatch(rf"imap://{user}/INBOX;UIDVALIDITY=\d+;UID=\d+", ref)


def _normalise(text: str | None) -> str | None:
    """Derived ids and keys embed the raw sha256, which differs (the server serves CRLF): mask them."""
    if text is None:
        return None
    text = re.sub(r"<cru-[0-9a-f]{16}-", "<cru-X-", text)
    return re.sub(r"\b[0-9a-f]{64}\b", "SHA", text)


def _snapshot(db: Path) -> dict[str, object]:
    messages = sorted(_normalise(e) for (e,) in q(db, "SELECT extraction FROM messages"))
    threads = sorted(tuple(_normalise(str(v)) for v in row) for row in q(
        db, "SELECT thread_id, log_number, subject, message_count, first_date, latest_date, marking, caveats "
            "FROM threads"))
    links = sorted(q(db, "SELECT from_log, to_log, kind, evidence, date FROM log_links"))
    circulations = sorted(tuple(_normalise(str(v)) for v in row) for row in q(db, "SELECT * FROM circulations"))
    copies = q(db, "SELECT COUNT(*) FROM messages WHERE copy_of IS NOT NULL")
    return {"messages": messages, "threads": threads, "links": links, "circulations": circulations,
            "copies": copies}


@pytest.fixture(scope="module")
def local_and_imap(dovecot: Dovecot, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fixture mailbox ingested locally into one store, and delivered over IMAP and polled into another."""
    tmp = tmp_path_factory.mktemp("same-store")
    local_db = tmp / "local.db"
    r = CliRunner().invoke(cli, ["--db", str(local_db), "ingest", "--json", str(FIXTURE_MAILBOX)])
    assert r.exit_code == 0, r.output
    user = dovecot.new_user()
    files = sorted((FIXTURE_MAILBOX / "cur").iterdir())
    dovecot.deliver(user, [p.read_bytes() for p in files])
    imap_db = tmp / "imap.db"
    cfg = write_config(tmp / "cru.toml", imap_db, [account(dovecot, user)])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRU_TEST_IMAP_PASSWORD", "secret")
        code, result, _ = poll(cfg)
    assert code == 0 and result["folders"][0]["new"] == len(files)
    return local_db, imap_db


def test_fixture_mailbox_over_imap_gives_the_same_store_as_local_ingest(local_and_imap: tuple[Path, Path]) -> None:
    local, remote = (_snapshot(db) for db in local_and_imap)
    assert remote["threads"] and remote["circulations"] and remote["messages"]
    for key in ("messages", "threads", "circulations", "copies"):
        assert remote[key] == local[key], key
    assert {(f, t, k) for f, t, k, _e, _d in remote["links"]} == {(f, t, k) for f, t, k, _e, _d in local["links"]}
    # the same thread views (messages, markings, caveats; links without their evidence text)
    for log in ("995/24", "157/25", "1750/22"):
        views = []
        for db in local_and_imap:
            view = json.loads(CliRunner().invoke(cli, ["--db", str(db), "thread", log, "--json"]).stdout)
            view["links"] = sorted({(x["from"], x["to"], x["kind"]) for x in view["links"]})
            views.append(_normalise(json.dumps(view, sort_keys=True)))
        assert views[0] == views[1], log


def test_fixture_mailbox_over_imap_same_indexed_text_and_link_evidence(local_and_imap: tuple[Path, Path]) -> None:
    local, remote = (_snapshot(db) for db in local_and_imap)
    assert remote["links"] == local["links"]
    views = [_normalise(CliRunner().invoke(cli, ["--db", str(db), "thread", "995/24", "--json"]).stdout)
             for db in local_and_imap]
    assert views[0] == views[1]
    bodies = [sorted((_normalise(m), b) for m, b in q(db, "SELECT message_id, body FROM messages"))
              for db in local_and_imap]
    assert bodies[0] == bodies[1]


def test_dovecot_killed_mid_fetch_then_restarted(own_dovecot: Dovecot, tmp_path: Path) -> None:
    server = own_dovecot
    user = server.new_user()
    server.deliver(user, list(generated(1000, seed=3)))
    db = tmp_path / "cru.db"
    cfg = load_config(write_config(tmp_path / "cru.toml", db, [account(server, user, batch_size=25, timeout_seconds=5)],
                                   retry_attempts=8, retry_initial_seconds=0.3, retry_max_seconds=1.0))
    poller = Poller(cfg, IngestOptions())
    results = []

    def run() -> None:
        with Store(db) as store:
            results.append(poller.poll(store))

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait for the first committed batch, then pull the plug
        if checkpoint_uid(db) > 0:
            break
        time.sleep(0.02)
    killed_at = q(db, "SELECT last_uid FROM checkpoints")[0][0]
    server.kill()
    assert killed_at < 1000, "the poll finished before Dovecot was killed"
    time.sleep(0.5)
    server.start()
    t.join(120)
    assert not t.is_alive()
    (result,) = results
    (f,) = result.folders
    assert f.ok and f.attempts >= 2, f  # the poll saw the failure and retried
    assert_exactly_once(db, 1000)
    # A further poll finds nothing new.
    with Store(db) as store:
        again = poller.poll(store)
    assert again.ok and again.folders[0].fetched == 0
    assert_exactly_once(db, 1000)


def test_uidvalidity_change_rescans_without_duplicates(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.new_user()
    mails = list(generated(8, seed=5))
    dovecot.deliver(user, mails[:5], folder="CRU")
    db = tmp_path / "cru.db"
    cfg = write_config(tmp_path / "cru.toml", db, [account(dovecot, user, folders=["CRU"])])
    code, result, _ = poll(cfg)
    assert code == 0 and result["folders"][0]["new"] == 5
    before = result["folders"][0]["uidvalidity"]

    with dovecot.client(user) as c:  # the mailbox is recreated: same messages, plus three new ones
        c.delete_folder("CRU")
    time.sleep(1.1)  # UIDVALIDITY is time-based
    dovecot.deliver(user, mails, folder="CRU")

    code, result, _ = poll(cfg)
    (f,) = result["folders"]
    assert code == 0 and f["rescanned"] and f["uidvalidity"] != before
    assert (f["fetched"], f["new"], f["duplicates"]) == (8, 3, 5)
    assert_exactly_once(db, 8)
    st = folder_status(cfg, user, "CRU")
    assert st["uidvalidity"] == f["uidvalidity"] and st["last_uid"] == 8


def test_wrong_password_is_clear_and_other_accounts_go_on(dovecot: Dovecot, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    good, bad = dovecot.new_user(), dovecot.new_user()
    dovecot.deliver(good, list(generated(3, seed=7)))
    dovecot.deliver(bad, list(generated(3, seed=8)))
    monkeypatch.setenv("CRU_BAD_PASSWORD", "not-the-password")
    db = tmp_path / "cru.db"
    cfg = write_config(tmp_path / "cru.toml", db, [
        account(dovecot, bad, password_env="CRU_BAD_PASSWORD"),
        account(dovecot, good),
    ])
    code, result, stderr = poll(cfg)
    assert code == 1
    assert result["auth_failed"] == [bad]
    by_account = {f["account"]: f for f in result["folders"]}
    assert by_account[good]["ok"] and by_account[good]["new"] == 3
    assert by_account[bad]["error_kind"] == "auth" and by_account[bad]["attempts"] == 1  # never retried
    assert "authentication failed" in stderr and "CRU_BAD_PASSWORD" in stderr
    st = folder_status(cfg, bad)
    assert "authentication failed" in st["last_error"] and "CRU_BAD_PASSWORD" in st["last_error"]
    assert folder_status(cfg, good)["last_error"] is None

    # A missing environment variable is as clear.
    monkeypatch.delenv("CRU_BAD_PASSWORD")
    code, _, stderr = poll(cfg, "--account", bad)
    assert code == 1 and "CRU_BAD_PASSWORD" in stderr and "not set" in stderr


@pytest.mark.parametrize("mode", ["tls", "starttls"])
def test_tls_and_starttls_with_a_configured_ca(dovecot: Dovecot, tmp_path: Path, mode: str) -> None:
    user = dovecot.new_user()
    dovecot.deliver(user, list(generated(2, seed=9)))
    port = dovecot.tls_port if mode == "tls" else dovecot.port
    db = tmp_path / "cru.db"
    acct = account(dovecot, user, security=mode, port=port, ca_file=str(dovecot.cert))
    code, result, _ = poll(write_config(tmp_path / "ok.toml", db, [acct]))
    assert code == 0 and result["folders"][0]["new"] == 2

    # Without the CA the self-signed certificate is refused, with a message that says what to do.
    del acct["ca_file"]
    code, result, stderr = poll(write_config(tmp_path / "noca.toml", db, [acct]))
    assert code == 1 and result["folders"][0]["error_kind"] == "permanent"
    assert "certificate" in stderr and "ca_file" in stderr


@pytest.mark.parametrize("action", ["keyword:$CruIngested", "seen", "move:Processed"])
def test_post_ingest_actions_are_seen_on_the_server(dovecot: Dovecot, tmp_path: Path, action: str) -> None:
    user = dovecot.new_user()
    mails = list(generated(6, seed=11))
    dovecot.deliver(user, mails[:3])
    db = tmp_path / "cru.db"
    # First without an action: nothing changes on the server.
    code, _, _ = poll(write_config(tmp_path / "none.toml", db, [account(dovecot, user)]))
    assert code == 0
    assert all(not flags for flags in server_flags(dovecot, user).values())
    # Then with the action: it catches up on the three already ingested, and applies to new mail.
    dovecot.deliver(user, mails[3:])
    cfg = write_config(tmp_path / "act.toml", db, [account(dovecot, user, after_ingest=action)])
    code, result, _ = poll(cfg)
    assert code == 0 and result["folders"][0]["new"] == 3
    flags = server_flags(dovecot, user)
    if action == "move:Processed":
        assert flags == {}
        assert len(server_flags(dovecot, user, "Processed")) == 6
    else:
        want = b"$CruIngested" if action.startswith("keyword") else b"\\Seen"
        assert len(flags) == 6 and all(want in f for f in flags.values())
        if want != b"\\Seen":
            assert all(b"\\Seen" not in f for f in flags.values())
    code, result, _ = poll(cfg)
    assert code == 0 and result["folders"][0]["fetched"] == 0
    assert_exactly_once(db, 6)


def test_malformed_message_is_quarantined_and_does_not_block_later_ones(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.new_user()
    good = list(generated(4, seed=13))
    junk = b"\x7f\x01\x02 this is not a mail message at all\r\n" * 5
    dovecot.deliver(user, [good[0], junk, good[1]])
    db = tmp_path / "cru.db"
    cfg = write_config(tmp_path / "cru.toml", db, [account(dovecot, user)])
    code, result, _ = poll(cfg)
    f = result["folders"][0]
    assert code == 0 and (f["new"], f["quarantined"], f["last_uid"]) == (2, 1, 3)
    dovecot.deliver(user, good[2:])
    code, result, _ = poll(cfg)
    assert code == 0 and result["folders"][0]["new"] == 2
    assert q(db, "SELECT status, COUNT(*) FROM raw_mail GROUP BY status ORDER BY 1") == [("parsed", 4),
                                                                                       ("quarantined", 1)]
    assert q(db, "SELECT data FROM raw_mail WHERE status = 'quarantined'")[0][0].startswith(b"\x7f\x01\x02")
    st = folder_status(cfg, user)
    assert st["quarantined"] == 1 and st["messages_ingested"] == 5


def test_oversize_message_is_stored_raw_and_flagged(dovecot: Dovecot, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    user = dovecot.new_user()
    mails = list(generated(3, seed=17))
    big = max(mails, key=len)
    dovecot.deliver(user, mails)
    monkeypatch.setenv("CRU_INGEST_MAX_MESSAGE_BYTES", str(len(big) - 1))
    db = tmp_path / "cru.db"
    code, result, _ = poll(write_config(tmp_path / "cru.toml", db, [account(dovecot, user)]))
    assert code == 0 and result["folders"][0]["fetched"] == 3
    assert ("oversize",) in q(db, "SELECT status FROM raw_mail")
    assert q(db, "SELECT COUNT(*) FROM raw_mail")[0][0] == 3


def test_server_down_retries_then_fails_cleanly(tmp_path: Path) -> None:
    from tests.dovecot import free_port

    db = tmp_path / "cru.db"
    acct = {"name": "down", "host": "127.0.0.1", "port": free_port(), "security": "none", "username": "x",
            "password_env": "CRU_TEST_IMAP_PASSWORD"}
    cfg = write_config(tmp_path / "cru.toml", db, [acct], retry_attempts=3, retry_initial_seconds=0.05)
    t0 = time.monotonic()
    code, result, stderr = poll(cfg)
    assert code == 1 and result["folders"][0]["attempts"] == 3
    assert result["folders"][0]["error_kind"] == "transient" and "gave up after 3 attempts" in stderr
    assert time.monotonic() - t0 < 10


def test_rebuild_keeps_checkpoints_and_poll_status(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.new_user()
    dovecot.deliver(user, list(generated(5, seed=19)))
    db = tmp_path / "cru.db"
    cfg = write_config(tmp_path / "cru.toml", db, [account(dovecot, user, after_ingest="keyword:$CruIngested")])
    assert poll(cfg)[0] == 0
    before = folder_status(cfg, user)
    r = CliRunner().invoke(cli, ["--config", str(cfg), "rebuild", "--json"])
    assert r.exit_code == 0, r.output
    after = folder_status(cfg, user)
    assert after == before and after["last_uid"] == 5 and after["last_success"]
    assert q(db, "SELECT actions_uid FROM poll_status") == [(5,)]
    code, result, _ = poll(cfg)
    assert code == 0 and result["folders"][0]["fetched"] == 0
    assert_exactly_once(db, 5)


def test_status_for_humans_names_folders_errors_and_the_worker(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.new_user()
    dovecot.deliver(user, list(generated(2, seed=29)))
    db = tmp_path / "cru.db"
    cfg = write_config(tmp_path / "cru.toml", db, [account(dovecot, user, folders=["INBOX", "Missing"])])
    code, result, stderr = poll(cfg)
    assert code == 1  # one folder does not exist: reported, the other polled
    by_folder = {f["folder"]: f for f in result["folders"]}
    assert by_folder["INBOX"]["ok"] and by_folder["INBOX"]["new"] == 2
    assert by_folder["Missing"]["error_kind"] == "permanent" and "Missing" in stderr
    out = CliRunner().invoke(cli, ["--config", str(cfg), "status"]).stdout
    assert "worker: not running" in out
    assert f"{user}/INBOX: last success 20" in out and "last UID 2" in out and "ingested 2" in out
    assert f"{user}/Missing: last success never" in out and "last error" in out
