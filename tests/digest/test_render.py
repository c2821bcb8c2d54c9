"""The HTML part: well-formed, Outlook-friendly, free of script, escaped."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

from config.mail import DigestSettings
from pipeline.digest.builder import NewCirculation, build_digest
from pipeline.digest.render import render_html, render_text
from pipeline.digest.views import view_for
from pipeline.digest.weeks import parse_week
from pipeline.store import Store
from tests.digest.conftest import PARTNER, POLICE

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Checker(HTMLParser):
    """Tag balance plus the things Outlook-safe mail must not contain."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "form", "style", "link"):
            self.errors.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.errors.append(f"{tag} {name}=")
            if name in ("src", "background") and value and not value.startswith(("cid:", "data:")):
                self.errors.append(f"remote {name}={value}")
            if name == "href" and value:
                self.links.append(value)
                if value.lower().startswith("javascript:"):
                    self.errors.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def check(html: str) -> Checker:
    c = Checker()
    c.feed(html)
    c.close()
    assert c.errors == [] and c.stack == [], (c.errors, c.stack)
    return c


def test_html_of_every_seed_week(store: Store, digest_settings: DigestSettings) -> None:
    for week in ("2024-W46", "2024-W49", "2024-W50", "2025-W13"):
        d = build_digest(store, parse_week(week), digest_settings)
        for who in (POLICE, PARTNER):
            view = view_for(d, who, digest_settings)
            html = render_html(view)
            assert html.startswith("<!DOCTYPE html>") and 'style="' in html
            c = check(html)
            visible = [t for t in c.text if not t.startswith(view.marking_line + " -")]  # skip <title>
            assert visible[0] == visible[-1] == view.marking_line
            if view.full and view.items():
                assert all(h.startswith("https://cru.example.police.uk/thread/") for h in c.links)
                assert f"https://cru.example.police.uk/thread/{view.items()[0].log}" in c.links


def test_html_escapes_store_text(store: Store, digest_settings: DigestSettings) -> None:
    d = build_digest(store, parse_week("2024-W46"), digest_settings)
    evil = NewCirculation(log="1/24", marking="OFFICIAL", caveats=(), received=date(2024, 11, 12),
                          circulation_date=None, force='<img src="http://x/t.png" onerror="alert(1)">',
                          topic="<script>alert(1)</script>", summary="a & b <b>bold</b>", suppliers=())
    view = view_for(replace(d, circulations=(evil,)), POLICE, digest_settings)
    html = render_html(view)
    check(html)
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "<script>alert(1)</script>" in render_text(view)  # plain text is not HTML: no escaping there


def test_no_links_without_base_url(store: Store) -> None:
    s = DigestSettings(recipients=(POLICE,), caveat_domains=("police.uk",))
    view = view_for(build_digest(store, parse_week("2024-W50"), s), POLICE, s)
    assert check(render_html(view)).links == []
    assert "/thread/" not in render_text(view)
