"""The web app through Flask's test client: sign-in, CSRF, rate limiting, headers, pages, API, audit."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.web import WebSettings
from pipeline import queries
from pipeline.store import Store
from pipeline.web import audit, tokens
from pipeline.web.app import create_app
from tests.web.conftest import HOSTILE_ATTACHMENT, HOSTILE_LOG, PASSWORD, USER, csrf_of, sign_in

PAGES = ["/search", "/search?q=palantir", "/thread/995/24", "/"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_requires_sign_in(client: FlaskClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_attachment_requires_sign_in(client: FlaskClient, db_path: Path) -> None:
    key, position = _hostile_attachment(db_path)
    raw, path = key.split("/")
    assert client.get(f"/attachment/{raw}/{path}/{position}").status_code == 302


def test_sign_in_then_search(client: FlaskClient) -> None:
    response = sign_in(client, next_url="/search?q=palantir")
    assert response.status_code == 303
    assert response.headers["Location"] == "/search?q=palantir"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http in tests; "auto" adds it over https
    page = client.get("/search?q=palantir").get_data(as_text=True)
    for log in ("995/24", "157/25", "1750/22"):
        assert f'data-log="{log}"' in page


def test_secure_cookie_over_https(client: FlaskClient) -> None:
    token = csrf_of(client.get("/login", base_url="https://localhost").get_data(as_text=True))
    response = client.post("/login", base_url="https://localhost",
                           data={"name": USER, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_refused(client: FlaskClient, db_path: Path) -> None:
    response = sign_in(client, password="not the password at all")
    assert response.status_code == 401
    assert "Wrong user name or password" in response.get_data(as_text=True)
    assert client.get("/search").status_code == 302
    assert audit.entries(db_path)[-1]["action"] == "login_failed"


def test_unknown_user_refused_the_same_way(client: FlaskClient) -> None:
    response = sign_in(client, name="nobody", password=PASSWORD)
    assert response.status_code == 401
    assert "Wrong user name or password" in response.get_data(as_text=True)


def test_login_rate_limited_per_user_and_address(client: FlaskClient, db_path: Path) -> None:
    for _ in range(3):  # settings fixture: login_max_attempts=3
        assert sign_in(client, password="wrong password, again").status_code == 401
    blocked = sign_in(client)  # even the right password is refused while blocked
    assert blocked.status_code == 429
    assert client.get("/search").status_code == 302
    assert audit.entries(db_path)[-1]["action"] == "login_blocked"
    other = client.application.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.9.9"  # another address is not locked out
    assert sign_in(other).status_code == 303


def test_login_without_csrf_token_rejected(client: FlaskClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"name": USER, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/search").status_code == 302


def test_logout_requires_csrf_and_ends_the_session(signed_in: FlaskClient, app: Flask) -> None:
    assert signed_in.post("/logout", data={}).status_code == 400
    assert signed_in.get("/search").status_code == 200
    cookie = signed_in.get_cookie("cru_session").value
    token = csrf_of(signed_in.get("/search").get_data(as_text=True))
    assert signed_in.post("/logout", data={"csrf_token": token}).status_code == 303
    assert signed_in.get("/search").status_code == 302
    replay = app.test_client()  # a copied cookie stops working too
    replay.set_cookie("cru_session", cookie)
    assert replay.get("/search").status_code == 302


def test_removed_user_loses_session(signed_in: FlaskClient, db_path: Path) -> None:
    from pipeline.web.auth import remove_user

    assert remove_user(db_path, USER)
    assert signed_in.get("/search").status_code == 302


def test_open_redirect_refused(client: FlaskClient) -> None:
    response = sign_in(client, next_url="//evil.example/")
    assert response.headers["Location"] == "/search"


@pytest.mark.parametrize("page", ["/login", "/search?q=palantir", "/thread/995/24", "/api/search?q=x",
                                  "/static/app.css", "/nowhere"])
def test_security_headers_on_every_response(signed_in: FlaskClient, page: str) -> None:
    response = signed_in.get(page)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_no_inline_script_or_handlers_in_pages(signed_in: FlaskClient) -> None:
    for page in ("/search?q=drone", f"/thread/{HOSTILE_LOG}", "/thread/995/24"):
        html = signed_in.get(page).get_data(as_text=True)
        assert "<script" not in html.lower()
        assert not re.search(r"\son\w+\s*=", html, re.I)
        assert "javascript:" not in html.lower()


def test_hostile_text_is_escaped(signed_in: FlaskClient) -> None:
    html = signed_in.get(f"/thread/{HOSTILE_LOG}").get_data(as_text=True)
    assert "&lt;script&gt;alert(5)&lt;/script&gt;" in html
    search = signed_in.get("/search?q=alert").get_data(as_text=True)
    assert f'data-log="{HOSTILE_LOG}"' in search
    assert "<script" not in search.lower()


def test_search_results_show_badges_facets_and_highest_marking(signed_in: FlaskClient) -> None:
    html = signed_in.get("/search?q=palantir").get_data(as_text=True)
    assert html.count('class="badge marking-official-sensitive"') >= 3
    assert 'id="marking-top">OFFICIAL-SENSITIVE / POLICE EYES ONLY<' in html
    assert 'id="marking-bottom">OFFICIAL-SENSITIVE / POLICE EYES ONLY<' in html
    for facet in queries.FACET_NAMES:
        assert f'data-facet="{facet}"' in html
    assert "<mark>Palantir</mark>" in html


def test_facet_narrows_and_stays_in_url(signed_in: FlaskClient) -> None:
    html = signed_in.get("/search?q=palantir&year=2024").get_data(as_text=True)
    assert re.findall(r'data-log="([^"]+)"', html) == ["995/24"]
    html = signed_in.get("/search?q=palantir&stance=full_ncnd").get_data(as_text=True)
    assert re.findall(r'data-log="([^"]+)"', html) == ["157/25"]


def test_sort_and_pagination(signed_in: FlaskClient, app: Flask) -> None:
    html = signed_in.get("/search?q=palantir&sort=date").get_data(as_text=True)
    assert re.findall(r'data-log="([^"]+)"', html) == ["157/25", "995/24", "1750/22"]
    small = create_app(app.extensions["cru"].db_path, WebSettings(page_size=2)).test_client()
    sign_in(small)
    first = small.get("/search?q=palantir&sort=date").get_data(as_text=True)
    assert re.findall(r'data-log="([^"]+)"', first) == ["157/25", "995/24"]
    assert "page 1 of 2" in first and 'rel="next"' in first
    second = small.get("/search?q=palantir&sort=date&page=2").get_data(as_text=True)
    assert re.findall(r'data-log="([^"]+)"', second) == ["1750/22"]


def test_log_number_search(signed_in: FlaskClient) -> None:
    html = signed_in.get("/search?q=995/24").get_data(as_text=True)
    logs = re.findall(r'data-log="([^"]+)"', html)
    assert logs[0] == "995/24" and "157/25" in logs


def test_bad_syntax_is_a_friendly_message(signed_in: FlaskClient) -> None:
    response = signed_in.get('/search?q="unbalanced')
    assert response.status_code == 400
    assert 'id="search-error"' in response.get_data(as_text=True)


def test_thread_page(signed_in: FlaskClient) -> None:
    html = signed_in.get("/thread/995/24").get_data(as_text=True)
    assert 'data-kind="circulation"' in html and 'data-kind="update"' in html
    assert "Quotes an earlier message" in html and 'href="#m-1"' in html
    assert 'href="/thread/1750/22"' in html and 'href="/thread/157/25"' in html
    assert 'id="chain"' in html
    assert 'id="marking-top">OFFICIAL-SENSITIVE / POLICE EYES ONLY<' in html
    assert "Cambridgeshire Constabulary" in html
    assert signed_in.get("/thread/9999/99").status_code == 404


def test_thread_page_shows_quoted_original_when_alone(update_only_seed: Path, tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "u.db"
    shutil.copy(update_only_seed, db)
    client = create_app(db).test_client()
    sign_in(client)
    html = client.get("/thread/995/24").get_data(as_text=True)
    assert 'data-relation="quoted"' in html and "Quoted earlier message" in html
    assert 'data-kind="update"' in html


def _hostile_attachment(db_path: Path) -> tuple[str, int]:
    with Store(db_path) as store:
        return store.db.execute(
            "SELECT message_key, position FROM message_attachments WHERE filename = 'evil.html'").fetchone()


def test_attachment_download_is_the_original_bytes(signed_in: FlaskClient, db_path: Path) -> None:
    key, position = _hostile_attachment(db_path)
    raw, path = key.split("/")
    response = signed_in.get(f"/attachment/{raw}/{path}/{position}")
    assert response.status_code == 200
    assert response.data == HOSTILE_ATTACHMENT
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "evil.html" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert signed_in.get(f"/attachment/{raw}/{path}/99").status_code == 404
    assert signed_in.get(f"/attachment/../{path}/0").status_code == 404


def test_pdf_attachment_bytes(signed_in: FlaskClient, db_path: Path) -> None:
    with Store(db_path) as store:
        key, position, data = store.db.execute(
            "SELECT ma.message_key, ma.position, a.data FROM message_attachments ma JOIN attachments a "
            "ON a.sha256 = ma.sha256 WHERE ma.filename LIKE '%.pdf'").fetchone()
    raw, path = key.split("/")
    response = signed_in.get(f"/attachment/{raw}/{path}/{position}")
    assert response.data == data and response.headers["Content-Type"] == "application/pdf"


def test_api_requires_authentication(client: FlaskClient, db_path: Path) -> None:
    for url in ("/api/search?q=palantir", "/api/thread?log=995/24"):
        response = client.get(url)
        assert response.status_code == 401
        assert response.is_json and "error" in response.json
    bad = client.get("/api/search?q=palantir", headers={"Authorization": "Bearer cru_not-a-real-token"})
    assert bad.status_code == 401
    assert audit.entries(db_path)[-1]["action"] == "api_denied"


def test_api_with_token_mirrors_the_cli_contracts(client: FlaskClient, db_path: Path) -> None:
    token = tokens.add_token(db_path, "force-system")
    headers = {"Authorization": f"Bearer {token}"}
    response = client.get("/api/search?q=palantir", headers=headers)
    assert response.status_code == 200
    with Store(db_path) as store:
        expected_search = queries.search(store, "palantir")
        expected_filtered = queries.search(store, "palantir", queries.SearchFilters(stance="full_ncnd"))
        expected_thread = queries.thread(store, "995/24")
    assert response.json == json.loads(json.dumps(expected_search))
    filtered = client.get("/api/search?q=palantir&stance=full_ncnd", headers=headers)
    assert filtered.json == json.loads(json.dumps(expected_filtered))
    assert client.get("/api/thread?log=995/24", headers=headers).json == json.loads(json.dumps(expected_thread))
    faceted = client.get("/api/search?q=palantir&year=2024", headers=headers).json
    assert [r["log_number"] for r in faceted] == ["995/24"] and set(faceted[0]) == set(expected_search[0])
    assert client.get('/api/search?q="oops', headers=headers).status_code == 400
    assert client.get("/api/thread?log=1/01", headers=headers).status_code == 404
    rows = audit.entries(db_path)
    assert rows[-1]["user"] == "token:force-system" and rows[-1]["action"] == "api_thread"
    assert tokens.remove_token(db_path, "force-system")
    assert client.get("/api/search?q=palantir", headers=headers).status_code == 401


def test_only_the_token_hash_is_stored(db_path: Path) -> None:
    token = tokens.add_token(db_path, "hashcheck")
    dump = "\n".join(sqlite3.connect(db_path).iterdump())
    assert token not in dump


def test_api_with_session(signed_in: FlaskClient) -> None:
    assert signed_in.get("/api/search?q=palantir").status_code == 200


def test_audit_rows_for_search_view_download(signed_in: FlaskClient, db_path: Path) -> None:
    signed_in.get("/search?q=palantir")
    signed_in.get("/thread/995/24")
    key, position = _hostile_attachment(db_path)
    raw, path = key.split("/")
    signed_in.get(f"/attachment/{raw}/{path}/{position}")
    rows = [r for r in audit.entries(db_path) if r["user"] == USER]
    actions = [(r["action"], r["query"]) for r in rows]
    assert ("search", "palantir") in actions and ("thread", "995/24") in actions
    assert any(a == "download" and "evil.html" in (q or "") for a, q in actions)
    assert all(r["at"] and r["ip"] for r in rows)


def test_trusted_proxy_header(db_path: Path) -> None:
    settings = WebSettings(trusted_user_header="X-Remote-User", trusted_proxies=("10.0.0.1",))
    app = create_app(db_path, settings)
    proxied = app.test_client()
    proxied.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    response = proxied.get("/search?q=palantir", headers={"X-Remote-User": "sso.user",
                                                          "X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 200
    row = audit.entries(db_path)[-1]
    assert (row["user"], row["ip"]) == ("sso.user", "203.0.113.9")
    fresh = app.test_client()
    fresh.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    page = fresh.get("/search", headers={"X-Remote-User": "sso.user", "X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers["Set-Cookie"]  # the proxy terminated TLS
    direct = app.test_client()
    direct.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # not a trusted proxy: the header is ignored
    assert direct.get("/search", headers={"X-Remote-User": "sso.user"}).status_code == 302
    assert proxied.get("/api/search?q=palantir", headers={"X-Remote-User": "sso.user"}).status_code == 200


def test_store_connection_is_read_only(app: Flask) -> None:
    from pipeline.web.app import read_store

    with app.test_request_context("/"), pytest.raises(sqlite3.OperationalError):
        read_store().conn.execute("DELETE FROM messages")
