"""Benchmark: search latency on a large store, for the query layer and for the rendered web page.

Generates N circulations (fixtures.generate), ingests them into a temporary store (a few minutes
for 100,000; ``--db EXISTING`` reuses a store, e.g. one kept from an earlier run with ``--keep``),
then prints p50/p95 latency of typical queries: words, a phrase-like pair of words, a log number,
and a supplier name with a facet filter. Measured: (a) the query functions themselves
(pipeline.queries.search, the `cru search`/API path, without the facet, and search_threads, the web page's path with
facets and pagination) and (b) the rendered search page through the app's test client (sign-in
session, HTML rendering and the audit-log write included). Aim: p95 < 50 ms (a), < 150 ms (b).

Run: ``python bench/search.py [-n 100000] [--keep DIR | --db PATH] [--repeat 30]``.
The app writes a temporary user and audit rows into the store it measures: use a bench store.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fixtures.generate import generate_corpus  # noqa: E402
from pipeline import queries  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402
from pipeline.sources.local import LocalSource  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.web import auth  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.db import ReadOnlyStore  # noqa: E402


def build(n: int, seed: int, work: Path) -> Path:
    corpus = work / "maildir"
    db = work / "cru.db"
    t0 = time.perf_counter()
    files = generate_corpus(corpus, n, seed=seed)
    print(f"generated {len(files)} messages in {time.perf_counter() - t0:.0f}s")
    t0 = time.perf_counter()
    with Store(db) as store:
        report = ingest(store, LocalSource([corpus]))
    print(f"ingested {report.messages} messages ({report.new} new, {report.quarantined} quarantined) "
          f"in {time.perf_counter() - t0:.0f}s into {db}")
    return db


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds, after two warm-up calls."""
    for _ in range(2):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


def workload(store: ReadOnlyStore) -> list[tuple[str, str, dict[str, str]]]:
    """(label, query, facet params): typical searches, with a real log number and supplier from the store."""
    log = store.db.execute("SELECT log_number FROM threads WHERE log_number IS NOT NULL "
                           "ORDER BY message_count DESC LIMIT 1").fetchone()[0]
    supplier = store.db.execute("SELECT s.value, COUNT(*) FROM messages m, json_each(m.suppliers) s "
                                "GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
    year = store.db.execute(
        "SELECT substr(m.date, 1, 4), COUNT(*) FROM messages m, json_each(m.suppliers) s WHERE s.value = ? "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 1", [supplier[0] if supplier else ""]).fetchone()
    work = [("word", "palantir", {}), ("two words", "drone deployments", {}), ("log number", log, {})]
    if supplier:
        work.append(("supplier + facet", f'"{supplier[0]}"', {"year": year[0]} if year else {}))
    return work


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=100_000, help="messages to generate (default 100,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--db", type=Path, help="reuse this store instead of generating and ingesting")
    ap.add_argument("--keep", type=Path, help="directory to keep the corpus and store in (default: a temp dir)")
    ap.add_argument("--repeat", type=int, default=30, help="timed runs per query (default 30)")
    args = ap.parse_args()

    if args.db:
        db = args.db
    else:
        work = args.keep or Path(tempfile.mkdtemp(prefix="cru-bench-search-"))
        work.mkdir(parents=True, exist_ok=True)
        db = build(args.n, args.seed, work)
    store = ReadOnlyStore(db)
    counts = store.db.execute("SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM threads)").fetchone()
    print(f"store {db}: {counts[0]} messages, {counts[1]} threads; {args.repeat} runs per query\n")

    app = create_app(db)
    name, password = f"bench-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    auth.add_user(db, name, password)
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as s:
        token = s["csrf"]
    assert client.post("/login", data={"name": name, "password": password, "csrf_token": token}).status_code == 303

    print(f"{'query':<34} {'hits':>6}  {'search() p50/p95':>18}  {'page query p50/p95':>19}  {'page p50/p95':>15}")
    try:
        for label, q, facet in workload(store):
            facets = queries.FacetFilters(year=facet.get("year"))
            hits = queries.search_threads(store, q, facets=facets).total
            a = timed(lambda q=q: queries.search(store, q), args.repeat)
            b = timed(lambda q=q, f=facets: queries.search_threads(store, q, facets=f), args.repeat)
            url = "/search?" + urlencode({"q": q, **facet})

            def page(url: str = url) -> None:
                response = client.get(url)
                assert response.status_code == 200, response.status_code

            c = timed(page, args.repeat)
            shown = f"{label}: {q}" + (f" +{facet}" if facet else "")
            print(f"{shown[:34]:<34} {hits:>6}  {a[0]:>7.1f} / {a[1]:>6.1f} ms  {b[0]:>8.1f} / {b[1]:>6.1f} ms  "
                  f"{c[0]:>5.1f} / {c[1]:>5.1f} ms")
    finally:
        auth.remove_user(db, name)
        store.close()


if __name__ == "__main__":
    main()
