"""The Flask application factory: configuration, identity on every request, headers, errors.

Why one gate in ``before_request`` rather than a decorator per view: a new page cannot be
added without sign-in by forgetting a decorator. Only the sign-in page and static CSS are open.
Identity comes from, in order: the trusted reverse-proxy header (only from a configured proxy
address), the signed session cookie, or (API only) an ``Authorization: Bearer`` token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from config.web import WebSettings
from pipeline.store import Store
from pipeline.web import auth, render, security, tokens
from pipeline.web.db import ReadOnlyStore, create_web_tables

OPEN_ENDPOINTS = {"views.login", "static"}


@dataclass
class WebContext:
    """What every request needs: the store path, the settings, the (per-process) login limiter."""

    db_path: Path
    settings: WebSettings
    search_limit: int = 20
    limiter: auth.RateLimiter = field(default_factory=auth.RateLimiter)


def ctx() -> WebContext:
    from flask import current_app

    return current_app.extensions["cru"]


def read_store() -> ReadOnlyStore:
    """This request's read-only store connection (opened on first use, closed at teardown)."""
    if "store" not in g:
        g.store = ReadOnlyStore(ctx().db_path)
    return g.store


def client_ip() -> str:
    """The client's address: the peer, or the address a trusted reverse proxy appended to X-Forwarded-For."""
    peer = request.remote_addr or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and auth.from_trusted_proxy(peer, ctx().settings.trusted_proxies):
        return forwarded.split(",")[-1].strip()[:64] or peer
    return peer


def is_https() -> bool:
    s = ctx().settings
    if request.is_secure:
        return True
    return auth.from_trusted_proxy(request.remote_addr, s.trusted_proxies) and \
        request.headers.get("X-Forwarded-Proto", "").lower() == "https"


class _Sessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, Secure when served over https (or as configured)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        mode = app.extensions["cru"].settings.secure_cookies
        return mode == "always" or (mode == "auto" and is_https())


def _identify() -> tuple[str | None, str | None]:
    """(user, how) for this request, or (None, None)."""
    s = ctx().settings
    if s.trusted_user_header and auth.from_trusted_proxy(request.remote_addr, s.trusted_proxies):
        name = request.headers.get(s.trusted_user_header, "").strip()
        if name and auth.USER_NAME.match(name):
            return name, "proxy"
    name, at = session.get("user"), session.get("at")
    if name and at:
        if auth.session_valid(ctx().db_path, name, at):
            return name, "session"
        session.clear()
    if request.path.startswith("/api/"):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            owner = tokens.token_owner(ctx().db_path, token.strip())
            if owner:
                return f"token:{owner}", "token"
    return None, None


def _gate() -> Response | None:
    g.user, g.auth = (None, None) if request.endpoint == "static" else _identify()
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if g.user is None:
        if request.path.startswith("/api/"):
            from pipeline.web import audit

            audit.record(ctx().db_path, user=None, ip=client_ip(), action="api_denied", method=request.method,
                         page=request.path, query=request.query_string.decode("utf-8", "replace"), status=401)
            resp = jsonify({"error": "authentication required: sign in or send Authorization: Bearer TOKEN"})
            resp.status_code = 401
            resp.headers["WWW-Authenticate"] = 'Bearer realm="cru"'
            return resp
        return redirect(url_for("views.login", next=request.full_path.rstrip("?")))
    if request.method == "POST" and not security.csrf_ok(request.form.get("csrf_token")):
        return Response("The form has expired or did not come from this site: reload the page and try again.",
                        status=400, mimetype="text/plain")
    return None


def _after(response: Response) -> Response:
    return security.harden(response, static=request.endpoint == "static")


def _teardown(_exc: BaseException | None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


def _error(status: int, message: str) -> Any:
    if request.path.startswith("/api/"):
        return jsonify({"error": message}), status
    return render_template("error.html", status=status, message=message, marking=None, caveats=[]), status


def create_app(db_path: str | Path, settings: WebSettings | None = None, search_limit: int = 20) -> Flask:
    """Build the app for a store; creates the store's schema and the app's own tables when missing."""
    db_path = Path(db_path)
    settings = settings or WebSettings()
    Store(db_path).close()  # a fresh path becomes an (empty) cru store; an existing one is left as it is
    create_web_tables(db_path)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=auth.session_secret(db_path),
        SESSION_COOKIE_NAME="cru_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        MAX_CONTENT_LENGTH=64 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # the API mirrors the CLI's key order
    app.json.ensure_ascii = False
    app.session_interface = _Sessions()
    app.extensions["cru"] = WebContext(
        db_path=db_path, settings=settings, search_limit=search_limit,
        limiter=auth.RateLimiter(settings.login_max_attempts, settings.login_window_seconds))
    app.jinja_env.filters.update(render.FILTERS)
    app.jinja_env.globals.update(render.GLOBALS)
    app.jinja_env.globals["csrf_token"] = security.csrf_token
    from pipeline.web.api import api
    from pipeline.web.views import views

    app.register_blueprint(views)
    app.register_blueprint(api)
    app.before_request(_gate)
    app.after_request(_after)
    app.teardown_appcontext(_teardown)
    app.register_error_handler(404, lambda e: _error(404, "Not found."))
    app.register_error_handler(405, lambda e: _error(405, "Method not allowed."))
    app.register_error_handler(413, lambda e: _error(413, "Request too large."))
    app.register_error_handler(500, lambda e: _error(500, "Something went wrong; the error was logged."))
    return app
