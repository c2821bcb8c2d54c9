"""The HTML pages: sign-in, search, thread, attachment download.

Every page keeps its state in the URL (query, filters, sort, page) so a search can be
shared with a colleague; every search, view and download is written to the audit log.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, g, redirect, render_template, request, session, url_for

from pipeline import queries
from pipeline.web import audit, auth, security
from pipeline.web.app import client_ip, ctx, read_store

views = Blueprint("views", __name__)

#: URL parameters of the search page besides q/sort/page, in display order.
FILTER_PARAMS = ("topic", "stance", "marking", "force", "exemption", "year", "supplier", "since", "until")
_KEY = re.compile(r"^[0-9a-f]{64}$")
_PATH = re.compile(r"^[0-9a-z.]{1,200}$")
_CTYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def _audit(action: str, query: str | None, status: int = 200) -> None:
    audit.record(ctx().db_path, user=g.user, ip=client_ip(), action=action, method=request.method,
                 page=request.full_path.rstrip("?"), query=query, status=status)


@views.route("/")
def index() -> Response:
    return redirect(url_for("views.search"))


@views.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Local sign-in; failures are rate limited per user name and address and audited."""
    next_url = security.safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.user:
            return redirect(next_url)
        return render_template("login.html", next=next_url, error=None, name="")
    name = (request.form.get("name") or "").strip()[:64]
    password = request.form.get("password") or ""
    limiter = ctx().limiter
    ip = client_ip()
    if not security.csrf_ok(request.form.get("csrf_token")):
        return render_template("login.html", next=next_url, name=name,
                               error="The sign-in form expired: please try again."), 400
    if limiter.blocked(name, ip):
        audit.record(ctx().db_path, user=name, ip=ip, action="login_blocked", method="POST", page="/login",
                     query=None, status=429)
        return render_template("login.html", next=next_url, name=name,
                               error="Too many failed sign-ins: wait a few minutes and try again."), 429
    if not name or not auth.verify_password(ctx().db_path, name, password):
        limiter.failed(name, ip)
        audit.record(ctx().db_path, user=name, ip=ip, action="login_failed", method="POST", page="/login",
                     query=None, status=401)
        return render_template("login.html", next=next_url, name=name,
                               error="Wrong user name or password."), 401
    limiter.succeeded(name, ip)
    session.clear()  # a fresh session (and CSRF token): no fixation of a pre-sign-in cookie
    session["user"] = name
    session["at"] = auth.now_precise()
    session.permanent = True
    security.csrf_token()
    audit.record(ctx().db_path, user=name, ip=ip, action="login", method="POST", page="/login", query=None,
                 status=303)
    return redirect(next_url, code=303)


@views.route("/logout", methods=["POST"])
def logout() -> Response:
    """Sign out, ending every session of this user (a copied cookie stops working too)."""
    if g.auth == "session":
        auth.end_sessions(ctx().db_path, g.user)
    _audit("logout", None, 303)
    session.clear()
    return redirect(url_for("views.login"), code=303)


def _params() -> dict[str, str]:
    """The search page's URL state, without empty values."""
    keys = ("q", *FILTER_PARAMS, "sort")
    return {k: request.args.get(k, "").strip() for k in keys if request.args.get(k, "").strip()}


def _url(state: dict[str, str], **changes: str | None) -> str:
    new = {**state, **changes}
    if "page" not in changes:
        new.pop("page", None)
    return url_for("views.search") + "?" + urlencode({k: v for k, v in new.items() if v})


@views.route("/search")
def search() -> Any:
    """Search page: one box, threads with badges and snippets, facets, sort, pages."""
    state = _params()
    q = state.get("q", "")
    sort = state.get("sort", "relevance")
    try:
        page_no = max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        page_no = 1
    if page_no > 1:
        state["page"] = str(page_no)
    result, error = None, None
    if q:
        filters = queries.SearchFilters(*(state.get(k) for k in ("marking", "force", "exemption", "stance",
                                                                 "since", "until")))
        facets = queries.FacetFilters(state.get("topic"), state.get("supplier"), state.get("year"))
        try:
            result = queries.search_threads(read_store(), q, filters, facets, sort, page_no,
                                            ctx().settings.page_size)
        except queries.SearchError as exc:
            error = str(exc)
    _audit("search" if q else "view", q or None, 400 if error else 200)
    shown = result.results if result else []
    marking, caveats = queries.highest_marking(shown)
    active = {k: state[k] for k in FILTER_PARAMS if k in state}
    html = render_template(
        "search.html", q=q, sort=sort, result=result, error=error, marking=marking, caveats=caveats,
        active=active, state=state, url=lambda **kw: _url(state, **kw),
    )
    return html, 400 if error else 200


@views.route("/thread/<path:ref>")
def thread(ref: str) -> Any:
    """A log's thread: messages in order, fields, attachments, advice chain, similar requests."""
    detail = queries.thread_detail(read_store(), ref)
    _audit("thread", ref, 200 if detail else 404)
    if detail is None:
        abort(404)
    return render_template("thread.html", t=detail, marking=detail["marking"], caveats=detail["caveats"])


def _filename(name: str | None, position: int) -> str:
    clean = re.sub(r"[\x00-\x1f\x7f/\\]", "_", name or "").strip(" .")
    return clean[:200] or f"attachment-{position}"


@views.route("/attachment/<raw>/<path>/<int:position>")
def attachment(raw: str, path: str, position: int) -> Response:
    """The original bytes of one attachment, always as a download (never rendered in the app's origin)."""
    if not _KEY.match(raw) or not _PATH.match(path):
        abort(404)
    item = queries.attachment_file(read_store(), f"{raw}/{path}", position)
    _audit("download", f"{raw}/{path}#{position} {item['filename'] if item else ''}".strip(),
           200 if item else 404)
    if item is None:
        abort(404)
    ctype = (item["content_type"] or "").lower().strip()
    resp = Response(item["data"], mimetype=ctype if _CTYPE.match(ctype) else "application/octet-stream")
    resp.headers.set("Content-Disposition", "attachment", filename=_filename(item["filename"], position))
    resp.headers["Content-Security-Policy"] = security.DOWNLOAD_CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
