"""The web read side in pipeline.queries: facets, sorting, pagination, thread detail, attachments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import queries
from pipeline.store import Store


@pytest.fixture
def store(web_seed: Path) -> Iterator[Store]:
    with Store(web_seed) as s:
        yield s


@pytest.mark.parametrize("q", ["palantir", "drone", "995/24", "ncnd AND drone", "\"policing software\""])
def test_search_threads_matches_search(store: Store, q: str) -> None:
    """Same threads, same order, same contract values as `cru search` (snippet markers aside)."""
    expected = queries.search(store, q, limit=200)
    page = queries.search_threads(store, q, per_page=200)
    assert [r["log_number"] for r in page.results] == [r["log_number"] for r in expected]
    for got, want in zip(page.results, expected, strict=True):
        snippet = got["snippet"].replace(queries.MARK_START, "[").replace(queries.MARK_END, "]")
        assert {**{k: got[k] for k in want}, "snippet": snippet} == want


def test_facet_counts_and_filters(store: Store) -> None:
    page = queries.search_threads(store, "palantir")
    assert dict(page.facets["year"]) == {"2022": 1, "2024": 1, "2025": 1}
    assert dict(page.facets["marking"]) == {"OFFICIAL-SENSITIVE": 3}
    assert ("Palantir", 3) in page.facets["supplier"]
    for name, value in [("supplier", "capgemini"), ("year", "2025"), ("topic", "supplier_technology")]:
        narrowed = queries.search_threads(store, "palantir", facets=queries.FacetFilters(**{name: value}))
        assert 0 < narrowed.total <= page.total
    with pytest.raises(queries.SearchError):
        queries.search_threads(store, "palantir", facets=queries.FacetFilters(year="24"))
    with pytest.raises(queries.SearchError):
        queries.search_threads(store, "palantir", sort="random")


def test_pagination(store: Store) -> None:
    pages = [queries.search_threads(store, "palantir", sort="date", page=n, per_page=1) for n in (1, 2, 3, 4)]
    assert [p.results[0]["log_number"] for p in pages[:3]] == ["157/25", "995/24", "1750/22"]
    assert pages[0].pages == 3 and pages[3].results == []


def test_thread_detail(store: Store) -> None:
    t = queries.thread_detail(store, "995/24")
    assert t is not None
    assert [m["kind"] for m in t["messages"]] == ["circulation", "update"]
    assert t["chain"] == [["157/25"], ["995/24"], ["1750/22"]]
    assert set(t["earlier"]) == {"1750/22"} and set(t["later"]) == {"157/25"}
    quoted = [c for c in t["messages"][1]["contains"] if c["relation"] == "quoted"]
    assert quoted and quoted[0]["shown_at"] == 1
    assert (t["marking"], t["caveats"]) == ("OFFICIAL-SENSITIVE", ["POLICE EYES ONLY"])
    assert queries.thread_detail(store, "1/01") is None


def test_attachment_file(store: Store) -> None:
    key, position = store.db.execute("SELECT message_key, position FROM message_attachments "
                                      "WHERE filename LIKE '%.pdf'").fetchone()
    item = queries.attachment_file(store, key, position)
    assert item and item["data"].startswith(b"%PDF") and item["content_type"] == "application/pdf"
    assert queries.attachment_file(store, key, 99) is None
