"""Web test fixtures: stores ingested from the fixture mailbox plus a hostile circulation, an app, users.

The stores are built once per session (ingest takes seconds) and copied per test that writes.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.web import WebSettings
from pipeline.ingest import ingest
from pipeline.sources.local import LocalSource
from pipeline.store import Store
from pipeline.web import auth
from pipeline.web.app import create_app
from tests.conftest import FIXTURE_MAILBOX

USER = "officer"
PASSWORD = "correct horse battery staple"
HOSTILE_LOG = "4242/25"
HOSTILE_ATTACHMENT = b"<html><body><script>alert(3)</script>evil</body></html>"
#: The update to 995/24, which quotes the original circulation Outlook-style.
UPDATE_995 = "1733755509.M51142P10008.fixtures.example.police.uk:2,S"


def hostile_message() -> bytes:
    """A CRU circulation whose HTML body tries script, an onerror handler and a javascript: link."""
    msg = EmailMessage()
    msg["From"] = "CRU <cru@example.police.uk>"
    msg["To"] = "foi@force.example.police.uk"
    msg["Subject"] = f"Log No.{HOSTILE_LOG} CRU Circulation (01/04/2025) - Drones - OS"
    msg["Date"] = "Tue, 01 Apr 2025 10:00:00 +0000"
    msg["Message-ID"] = "<hostile-4242-25@example.police.uk>"
    # HTML only: what the store keeps as text is derived from hostile HTML; the escaped tag in the text
    # must stay inert text when shown.
    msg.set_content(
        "<html><body><p>OFFICIAL - SENSITIVE</p><p>Log Number: 4242/25</p><p>Logged with: Essex Police</p>"
        "<p>Applicants Request</p><p>Please tell me about drone deployments. "
        "&lt;script&gt;alert(5)&lt;/script&gt;</p>"
        "<script>alert(1)</script><img src=x onerror=alert(2)>"
        "<a href=\"javascript:alert(4)\">click here</a></body></html>",
        subtype="html",
    )
    msg.add_attachment(HOSTILE_ATTACHMENT, maintype="text", subtype="html", filename="evil.html")
    return msg.as_bytes()


@pytest.fixture(scope="session")
def web_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture mailbox plus the hostile message, ingested once."""
    root = tmp_path_factory.mktemp("web-seed")
    hostile = root / "hostile.eml"
    hostile.write_bytes(hostile_message())
    path = root / "cru.db"
    with Store(path) as store:
        report = ingest(store, LocalSource([FIXTURE_MAILBOX, hostile]))
    assert report.quarantined == 0
    create_app(path)  # the app's tables and session secret, so copies share them
    auth.add_user(path, USER, PASSWORD)
    return path


@pytest.fixture(scope="session")
def update_only_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the 995/24 update: its quoted original has nothing to collapse onto, so it shows as quoted."""
    path = tmp_path_factory.mktemp("web-update") / "cru.db"
    with Store(path) as store:
        ingest(store, LocalSource([FIXTURE_MAILBOX / "cur" / UPDATE_995]))
    create_app(path)
    auth.add_user(path, USER, PASSWORD)
    return path


@pytest.fixture
def db_path(web_seed: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cru.db"
    shutil.copy(web_seed, target)
    return target


@pytest.fixture
def settings() -> WebSettings:
    return WebSettings(login_max_attempts=3)


@pytest.fixture
def app(db_path: Path, settings: WebSettings) -> Flask:
    return create_app(db_path, settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


def sign_in(client: FlaskClient, name: str = USER, password: str = PASSWORD, next_url: str = "/search"):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": next_url})


@pytest.fixture
def signed_in(client: FlaskClient) -> Iterator[FlaskClient]:
    response = sign_in(client)
    assert response.status_code == 303
    yield client
