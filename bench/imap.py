"""Benchmark: `cru poll --once` (IMAP fetch + ingest) against `mbsync` pulling the same folder, and worker memory.

Loads N generated messages (default 5,000) into a loopback Dovecot, then prints
from one run: the seconds for `cru poll --once` (a fresh store), the seconds
for `mbsync` (Debian package isync) pulling the same folder to a Maildir, their
ratio, and the worker's RSS after the first and after 1,000 empty polls (the
worker's own poll job, in a fresh process, against the already-filled store).

Run as root (Dovecot's mail_uid needs it): ``python bench/imap.py [-n 5000] [--polls 1000]``.
Needs dovecot-imapd; mbsync is skipped with a note when isync is absent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.dovecot import PASSWORD, Dovecot, available  # noqa: E402
from tests.integration.conftest import account, write_config  # noqa: E402

ENV_VAR = "CRU_BENCH_IMAP_PASSWORD"

# FSync no: cru's SQLite (WAL, synchronous=NORMAL) does not fsync per message either.
MBSYNC_CONF = """\
FSync no

IMAPAccount bench
Host 127.0.0.1
Port {port}
User {user}
Pass {password}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path {dest}/
Inbox {dest}/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
"""


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def rss_child(cfg: str, polls: int) -> None:
    """In a fresh process: the worker's poll job ``polls`` times; print RSS after the first and the last."""
    os.environ.setdefault(ENV_VAR, PASSWORD)
    from config.loader import load_config
    from pipeline.ingest import IngestOptions
    from pipeline.worker import Worker

    config = load_config(cfg)
    worker = Worker(config, config.store_path, IngestOptions())
    worker.poll_job()
    first = rss_kib()
    t0 = time.perf_counter()
    for _ in range(polls - 1):
        worker.poll_job()
    elapsed = time.perf_counter() - t0
    assert worker.last_result is not None and worker.last_result.ok, worker.last_result
    print(f"{first} {rss_kib()} {elapsed:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=5000, help="messages (default 5000)")
    ap.add_argument("--polls", type=int, default=1000, help="empty polls for the memory check (default 1000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rss-child", nargs=2, metavar=("CONFIG", "POLLS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        rss_child(args.rss_child[0], int(args.rss_child[1]))
        return
    reason = available()
    if reason:
        sys.exit(f"bench/imap.py: {reason}")

    from fixtures.generate import generate_mails
    from fixtures.mailcompose import render_mime

    work = Path(tempfile.mkdtemp(prefix="cru-bench-imap-"))
    server = Dovecot().start()
    try:
        user = server.new_user()
        t0 = time.perf_counter()
        mails = [render_mime(m)[0] for m in generate_mails(args.n, args.seed)]
        server.deliver(user, mails, chunk=500)
        print(f"loaded {len(mails)} messages ({sum(map(len, mails)) / 1e6:.1f} MB) into Dovecot "
              f"in {time.perf_counter() - t0:.1f}s")

        env = {**os.environ, ENV_VAR: PASSWORD}
        db = work / "cru.db"
        cfg = write_config(work / "cru.toml", db, [account(server, user, password_env=ENV_VAR)])
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", str(cfg), "poll", "--once"],
                              cwd=REPO, env=env, capture_output=True, text=True)
        cru_s = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"cru poll --once failed ({proc.returncode}): {proc.stderr[-2000:]}")
        print(f"cru poll --once (fetch + ingest, fresh store): {cru_s:.2f}s  "
              f"({args.n / cru_s:.0f} messages/s)  {proc.stdout.strip()}")

        # Where the time goes: cru's IMAP source alone (fetch, no ingest) on the same folder.
        from config.loader import load_config
        from pipeline.sources import imap

        acct = load_config(cfg).accounts[0]
        os.environ.setdefault(ENV_VAR, PASSWORD)
        t0 = time.perf_counter()
        client = imap.connect(acct)
        src = imap.ImapFolderSource(client, acct, "INBOX")
        src.select()
        fetched = sum(1 for _ in src.messages(0))
        imap.close(client)
        fetch_s = time.perf_counter() - t0
        print(f"  of which cru's IMAP fetch alone (no ingest): {fetch_s:.2f}s for {fetched} messages")

        mbsync = shutil.which("mbsync")
        if mbsync:
            dest = work / "mbsync"
            dest.mkdir()
            conf = work / "mbsyncrc"
            conf.write_text(MBSYNC_CONF.format(port=server.port, user=user, password=PASSWORD, dest=dest))
            t0 = time.perf_counter()
            m = subprocess.run([mbsync, "-c", str(conf), "-q", "bench"], capture_output=True, text=True)
            mb_s = time.perf_counter() - t0
            pulled = sum(1 for _ in (dest / "INBOX" / "cur").iterdir()) + sum(
                1 for _ in (dest / "INBOX" / "new").iterdir())
            if m.returncode != 0 or pulled != args.n:
                print(f"mbsync failed ({m.returncode}, {pulled} pulled): {m.stderr[-1000:]}")
            else:
                print(f"mbsync pull to a Maildir (fetch only): {mb_s:.2f}s  ({args.n / mb_s:.0f} messages/s)")
                print(f"ratio cru / mbsync: {cru_s / mb_s:.1f}x")
        else:
            print("mbsync not installed (apt-get install isync): comparison skipped")

        child = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--rss-child", str(cfg),
                                str(args.polls)], cwd=REPO, env=env, capture_output=True, text=True)
        if child.returncode != 0:
            sys.exit(f"memory check failed: {child.stderr[-2000:]}")
        first, last, elapsed = child.stdout.split()
        print(f"worker RSS after 1 empty poll: {int(first) / 1024:.1f} MiB; after {args.polls}: "
              f"{int(last) / 1024:.1f} MiB (growth {(int(last) - int(first)) / 1024:+.1f} MiB; "
              f"{float(elapsed) / max(1, args.polls - 1) * 1000:.1f} ms per empty poll)")
    finally:
        server.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
