"""The web app in a real browser: Debian's chromium driven by Playwright against a real server (waitress).

Skips with a reason when playwright or /usr/bin/chromium is missing (`.ci/run` installs both).
Screenshots of the search and thread pages are written under pytest's tmp dir and copied to
$CRU_TEST_ARTIFACTS when that is set.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipeline.store import Store
from pipeline.web import audit
from pipeline.web.app import create_app
from pipeline.web.server import make_server
from tests.web.conftest import HOSTILE_LOG, PASSWORD, USER

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install "
                                     "'playwright>=1.45,<2'); CI installs it")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI installs it", allow_module_level=True)


@dataclass
class Live:
    """A real HTTP server on a free port, serving a copy of a test store."""

    base: str
    db_path: Path
    server: Any
    thread: threading.Thread


def _serve(db_path: Path) -> Live:
    app = create_app(db_path)
    server = make_server(app, "127.0.0.1", 0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return Live(f"http://127.0.0.1:{server.effective_port}", db_path, server, thread)


def _stop(live: Live) -> None:
    live.server.close()
    live.thread.join(timeout=5)


@pytest.fixture(scope="module")
def live(web_seed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db = tmp_path_factory.mktemp("live") / "cru.db"
    shutil.copy(web_seed, db)
    server = _serve(db)
    yield server
    _stop(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@dataclass
class Watched:
    """A page with everything a script could do recorded: dialogs, console output, uncaught errors."""

    page: Any
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    w = Watched(page)
    page.on("dialog", lambda d: (w.dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: w.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: w.errors.append(str(e)))
    yield w
    context.close()


def sign_in(page: Any, base: str, target: str = "/search", password: str = PASSWORD) -> None:
    page.goto(base + target)
    assert "/login" in page.url
    page.fill("#name", USER)
    page.fill("#password", password)
    page.click("#signin")
    page.wait_for_load_state()


def screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("CRU_TEST_ARTIFACTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / name)
    return path


def test_sign_in_required_and_wrong_password_refused(watched: Watched, live: Live) -> None:
    page = watched.page
    page.goto(live.base + "/thread/995/24")
    assert "/login" in page.url and page.locator("#thread-title").count() == 0
    sign_in(page, live.base, "/thread/995/24", password="definitely the wrong one")
    assert "/login" in page.url
    assert "Wrong user name or password" in page.locator("#login-error").inner_text()
    page.fill("#name", USER)
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_url(live.base + "/thread/995/24")
    assert page.locator("#thread-title").inner_text().startswith("Log 995/24")


def test_search_palantir_badges_and_facet(watched: Watched, live: Live, tmp_path: Path) -> None:
    page = watched.page
    sign_in(page, live.base, "/search?q=palantir")
    results = page.locator("article.result")
    logs = [results.nth(i).get_attribute("data-log") for i in range(results.count())]
    assert {"995/24", "157/25"} <= set(logs)
    for log in ("995/24", "157/25"):
        badge = page.locator(f'article.result[data-log="{log}"] .badge.marking-official-sensitive')
        assert badge.inner_text() == "OFFICIAL-SENSITIVE"
    assert page.locator("#marking-top").inner_text().startswith("OFFICIAL-SENSITIVE")
    assert page.locator("article.result mark").first.inner_text().lower() == "palantir"
    shot = screenshot(page, "search-palantir.png", tmp_path)
    assert shot.stat().st_size > 10_000
    page.click('section.facet[data-facet="stance"] a.facet-link[data-value="full_ncnd"]')
    page.wait_for_load_state()
    assert "stance=full_ncnd" in page.url and "q=palantir" in page.url
    narrowed = page.locator("article.result")
    assert narrowed.count() == 1 and narrowed.first.get_attribute("data-log") == "157/25"
    assert watched.dialogs == [] and watched.errors == []


def test_thread_page_update_quote_and_chain(watched: Watched, live: Live, tmp_path: Path) -> None:
    page = watched.page
    sign_in(page, live.base, "/thread/995/24")
    assert page.locator('article.message[data-kind="update"]').count() == 1
    assert page.locator('article.message[data-kind="circulation"]').count() == 1
    quote = page.locator("li.contains-quoted")
    assert "Quotes an earlier message" in quote.inner_text()
    assert quote.locator("a").get_attribute("href") == "#m-1"
    assert page.locator("#marking-top").inner_text() == "OFFICIAL-SENSITIVE / POLICE EYES ONLY"
    assert page.locator("#marking-bottom").inner_text() == "OFFICIAL-SENSITIVE / POLICE EYES ONLY"
    chain = page.locator("#chain").inner_text()
    assert chain.index("157/25") < chain.index("995/24") < chain.index("1750/22")
    screenshot(page, "thread-995-24.png", tmp_path)
    page.click('#earlier a[href="/thread/1750/22"]')
    page.wait_for_url(live.base + "/thread/1750/22")
    assert page.locator("#thread-title").inner_text().startswith("Log 1750/22")
    assert watched.dialogs == [] and watched.errors == []


def test_quoted_original_shown_as_quoted(watched: Watched, update_only_seed: Path, tmp_path: Path) -> None:
    db = tmp_path / "cru.db"
    shutil.copy(update_only_seed, db)
    server = _serve(db)
    try:
        page = watched.page
        sign_in(page, server.base, "/thread/995/24")
        quoted = page.locator('article.message[data-relation="quoted"]')
        assert quoted.count() >= 1
        assert "Quoted earlier message" in quoted.first.locator("header").inner_text()
        assert "Log No.995/24 CRU Circulation" in quoted.first.locator("h3").inner_text()
        assert page.locator('article.message[data-kind="update"]').count() == 1
    finally:
        _stop(server)


def test_hostile_message_does_not_execute(watched: Watched, live: Live) -> None:
    page = watched.page
    sign_in(page, live.base, f"/thread/{HOSTILE_LOG}")
    assert "<script>alert(5)</script>" in page.locator("pre.body-text").first.inner_text()
    page.goto(live.base + "/search?q=drone")
    assert page.locator(f'article.result[data-log="{HOSTILE_LOG}"]').count() == 1
    page.goto(live.base + f"/thread/{HOSTILE_LOG}")
    page.wait_for_timeout(300)
    assert page.locator("img").count() == 0
    assert page.locator("a[href^='javascript:']").count() == 0
    assert watched.dialogs == []
    assert watched.console == []
    assert watched.errors == []


def test_attachment_downloads_original_bytes(watched: Watched, live: Live) -> None:
    page = watched.page
    sign_in(page, live.base, "/thread/995/24")
    link = page.locator("a.download", has_text=".msg").first
    href = link.get_attribute("href")
    with page.expect_download() as info:
        link.click()
    download = info.value
    got = Path(download.path()).read_bytes()
    _, _, raw, path, position = href.split("/")
    with Store(live.db_path) as store:
        expected, name = store.db.execute(
            "SELECT a.data, ma.filename FROM message_attachments ma JOIN attachments a ON a.sha256 = ma.sha256 "
            "WHERE ma.message_key = ? AND ma.position = ?", [f"{raw}/{path}", int(position)]).fetchone()
    assert got == expected and len(got) > 1000
    assert download.suggested_filename == name
    hostile = page.goto(live.base + f"/thread/{HOSTILE_LOG}")
    assert hostile.ok
    with page.expect_download() as evil:
        page.locator("a.download", has_text="evil.html").click()
    assert b"<script>" in Path(evil.value.path()).read_bytes()  # saved as a file, never run
    assert watched.dialogs == []


def test_audit_log_has_the_views(watched: Watched, live: Live) -> None:
    page = watched.page
    sign_in(page, live.base, "/search?q=palantir")
    page.goto(live.base + "/thread/157/25")
    rows = [(r["user"], r["action"], r["query"]) for r in audit.entries(live.db_path)]
    assert (USER, "search", "palantir") in rows
    assert (USER, "thread", "157/25") in rows
    assert (USER, "login", None) in rows
