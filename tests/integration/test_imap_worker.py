"""The `cru run` worker as a real process against a real Dovecot: SIGKILL, SIGTERM, the lock file, the schedule."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.dovecot import Dovecot
from tests.integration.conftest import account, generated, write_config

ENV = {**os.environ, "CRU_TEST_IMAP_PASSWORD": "secret", "PYTHONUNBUFFERED": "1"}


def cru(cfg: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", str(cfg), *args], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=timeout)


def start_worker(cfg: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--config", str(cfg), "run"], cwd=REPO, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=log.open("w"))


def q(db: Path, sql: str) -> list[tuple]:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    except sqlite3.OperationalError:
        return []
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # the worker has not created the schema yet
        return []
    finally:
        conn.close()


def wait_for(what: Callable[[], bool], timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None,
             step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"worker exited {proc.returncode}: {log.read_text()[-2000:] if log else ''}")
        time.sleep(step)
    pytest.fail(f"timed out after {timeout}s{': ' + log.read_text()[-2000:] if log else ''}")


def checkpoint(db: Path) -> int:
    rows = q(db, "SELECT MAX(last_uid) FROM checkpoints")
    return (rows[0][0] or 0) if rows else 0


def raw_count(db: Path) -> int:
    rows = q(db, "SELECT COUNT(*) FROM raw_mail")
    return rows[0][0] if rows else 0


def assert_exactly_once(db: Path, expected: int) -> None:
    rows = q(db, "SELECT message_id, status FROM raw_mail")
    assert len(rows) == expected and len({m for m, _ in rows}) == expected
    assert {s for _, s in rows} == {"parsed"}


def assert_checkpoint_covered(db: Path, user: str) -> None:
    """The invariant a kill must not break: every UID up to the checkpoint has its raw message stored."""
    last = checkpoint(db)
    refs = {int(r.rsplit("=", 1)[1]) for (r,) in q(db, f"SELECT source_ref FROM raw_sources "
                                                      f"WHERE source_ref LIKE 'imap://{user}/%'")}
    assert set(range(1, last + 1)) <= refs


def test_worker_sigkilled_mid_poll_then_restarted(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.new_user()
    n = 1000
    dovecot.deliver(user, list(generated(n, seed=21)))
    db = tmp_path / "cru.db"
    cfg = write_config(tmp_path / "cru.toml", db, [account(dovecot, user, batch_size=50)])
    log = tmp_path / "worker.log"
    worker = start_worker(cfg, log)
    try:
        wait_for(lambda: checkpoint(db) > 0, 60, worker, log, step=0.005)
        worker.kill()  # SIGKILL: no handler runs, no cleanup
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    at_kill = checkpoint(db)
    assert 0 < at_kill < n, f"the kill came too late (checkpoint {at_kill})"
    assert_checkpoint_covered(db, user)

    # The kernel released the lock with the process: a fresh poll runs and completes the folder.
    done = cru(cfg, "poll", "--once", "--json")
    assert done.returncode == 0, done.stderr
    assert_exactly_once(db, n)
    assert checkpoint(db) == n
    again = json.loads(cru(cfg, "poll", "--once", "--json").stdout)
    assert again["folders"][0]["fetched"] == 0


def test_run_with_a_1s_interval_picks_up_new_mail_and_stops_on_sigterm(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.new_user()
    mails = list(generated(12, seed=23))
    dovecot.deliver(user, mails[:4])
    db = tmp_path / "cru.db"
    cfg = write_config(tmp_path / "cru.toml", db, [account(dovecot, user)], poll_interval_seconds=1)
    log = tmp_path / "worker.log"
    worker = start_worker(cfg, log)
    try:
        wait_for(lambda: raw_count(db) == 4, 30, worker, log)
        status = json.loads(cru(cfg, "status", "--json").stdout)
        assert status["worker"]["running"] and status["worker"]["pid"] == worker.pid
        (folder,) = status["accounts"]
        assert folder["account"] == user and folder["last_success"] and folder["messages_ingested"] == 4

        # A second poller on the same store is refused while the worker holds the lock.
        second = cru(cfg, "poll", "--once")
        assert second.returncode == 2 and "another cru worker" in second.stderr and str(worker.pid) in second.stderr

        for i in range(4, 12, 4):  # mail delivered while the worker runs
            dovecot.deliver(user, mails[i : i + 4])
            wait_for(lambda i=i: raw_count(db) == i + 4, 30, worker, log)

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(15) == 0, log.read_text()[-2000:]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert_exactly_once(db, 12)
    status = json.loads(cru(cfg, "status", "--json").stdout)
    assert status["worker"]["running"] is False
    assert "SIGTERM received" in log.read_text()


def test_sigterm_mid_poll_commits_and_exits_promptly(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.new_user()
    n = 1000
    dovecot.deliver(user, list(generated(n, seed=25)))
    db = tmp_path / "cru.db"
    cfg = write_config(tmp_path / "cru.toml", db, [account(dovecot, user, batch_size=50)])
    log = tmp_path / "worker.log"
    worker = start_worker(cfg, log)
    try:
        wait_for(lambda: checkpoint(db) > 0, 60, worker, log, step=0.005)
        worker.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        assert worker.wait(30) == 0, log.read_text()[-2000:]
        stopped_in = time.monotonic() - t0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert stopped_in < 15
    stopped_at = checkpoint(db)
    assert_checkpoint_covered(db, user)
    # Everything fetched before the signal was committed and derived (no 'pending' left behind).
    assert q(db, "SELECT COUNT(*) FROM raw_mail WHERE status = 'pending'")[0][0] == 0
    assert raw_count(db) == stopped_at
    done = cru(cfg, "poll", "--once")
    assert done.returncode == 0, done.stderr
    assert_exactly_once(db, n)
