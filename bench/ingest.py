"""Benchmark: bare mail-parser parsing vs. `cru ingest` end to end, on the same generated files.

Prints messages/s for both and their ratio (aim: end to end at least half the
bare parse rate). Run: ``python bench/ingest.py [-n 5000] [--keep DIR]``.
Generated data goes to a temporary directory (or --keep DIR), never into git.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mailparser

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fixtures.generate import generate_corpus  # noqa: E402
from pipeline.classify import ClassifySettings, prepare  # noqa: E402
from pipeline.ingest import IngestOptions, ingest  # noqa: E402
from pipeline.sources.local import LocalSource  # noqa: E402
from pipeline.store import Store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=5000, help="messages to generate (default 5000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="directory to keep the corpus and store in")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is printed")
    ap.add_argument("--no-classify", action="store_true", help="also time ingest without topic/supplier "
                    "classification, to show what classification adds")
    ap.add_argument("--timed-run", nargs=2, metavar=("DB", "CORPUS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.timed_run:
        timed_run(Path(args.timed_run[0]), Path(args.timed_run[1]), classify=not args.no_classify)
        return

    work = args.keep or Path(tempfile.mkdtemp(prefix="cru-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "maildir"
    if corpus.exists():
        shutil.rmtree(corpus)
    t0 = time.perf_counter()
    files = generate_corpus(corpus, args.n, seed=args.seed)
    gen_s = time.perf_counter() - t0
    total_bytes = sum(p.stat().st_size for p in files)
    print(f"generated {len(files)} messages ({total_bytes / 1e6:.1f} MB) in {gen_s:.1f}s at {corpus}")

    # Warm the page cache so both measurements read from memory.
    for p in files:
        p.read_bytes()

    def bare() -> float:
        t0 = time.perf_counter()
        for p in files:
            mail = mailparser.parse_from_bytes(p.read_bytes())
            _ = (mail.subject, mail.text_plain, mail.attachments)
        return time.perf_counter() - t0

    db = work / "bench.db"
    # Each end-to-end run is a fresh process, as each `cru ingest` is: its worker pool, forkserver
    # and caches start cold, and one run's preloaded forkserver cannot serve the next.
    def end_to_end(options: IngestOptions) -> tuple[float, dict]:
        cmd = [sys.executable, __file__, "--timed-run", str(db), str(corpus)]
        if options.classify is None:
            cmd.append("--no-classify")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        return result["seconds"], result["report"]

    prepare(ClassifySettings())  # train the default model once, outside the timings
    bare_runs, e2e_runs, plain_runs = [], [], []
    for _ in range(args.repeat):  # interleaved, so background load hits all alike
        bare_runs.append(bare())
        if args.no_classify:
            plain_runs.append(end_to_end(IngestOptions(classify=None))[0])
        e2e_runs.append(end_to_end(IngestOptions()))
    bare_s = statistics.median(bare_runs)
    e2e_s = statistics.median(t for t, _ in e2e_runs)
    report = e2e_runs[-1][1]
    bare_rate = len(files) / bare_s
    e2e_rate = report['messages'] / e2e_s

    t0 = time.perf_counter()
    with Store(db) as store:
        again = ingest(store, LocalSource([corpus]))
    reingest_s = time.perf_counter() - t0

    print(f"median of {args.repeat} runs each")
    print(f"bare mail-parser parse : {bare_rate:8.1f} messages/s ({bare_s:.2f}s)")
    print(f"cru ingest end to end  : {e2e_rate:8.1f} messages/s ({e2e_s:.2f}s; new {report['new']}, "
          f"duplicates {report['duplicates']}, quarantined {report['quarantined']})")
    print(f"ratio end-to-end/bare  : {e2e_rate / bare_rate:8.2f} (aim >= 0.50)")
    if plain_runs:
        plain_s = statistics.median(plain_runs)
        print(f"without classification : {report['messages'] / plain_s:8.1f} messages/s ({plain_s:.2f}s); "
              f"classification adds {100 * (e2e_s - plain_s) / plain_s:.0f}% (aim <= 25%)")
    print(f"re-ingest (all known)  : {again.messages / reingest_s:8.1f} messages/s ({reingest_s:.2f}s; "
          f"new {again.new})")
    print(f"store size             : {db.stat().st_size / 1e6:.1f} MB")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def timed_run(db: Path, corpus: Path, classify: bool) -> None:
    """One `cru ingest` into a new store, timed from the first message read to the last commit.

    Printed as JSON on the last line of stdout.
    """
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    options = IngestOptions() if classify else IngestOptions(classify=None)
    if options.classify is not None:
        prepare(options.classify)  # loading the trained model is start-up, as in the CLI, not per message
    t0 = time.perf_counter()
    with Store(db) as store:
        report = ingest(store, LocalSource([corpus]), options)
    print(json.dumps({"seconds": time.perf_counter() - t0, "report": report.as_json()}))


if __name__ == "__main__":
    main()
