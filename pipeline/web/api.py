"""The JSON API for force systems, mirroring the CLI's JSON contracts.

``GET /api/search?q=…`` returns exactly what ``cru search --json`` prints (pipeline.queries.search);
the web facets ``topic``, ``supplier`` and ``year`` are accepted too and then narrow the same rows.
``GET /api/thread?log=995/24`` returns what ``cru thread --json`` prints. Authentication (session or
bearer token) is enforced by the app's gate; this module only answers and audits.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from pipeline import queries
from pipeline.web import audit
from pipeline.web.app import client_ip, ctx, read_store

api = Blueprint("api", __name__, url_prefix="/api")
MAX_LIMIT = 200
CONTRACT_KEYS = ("log_number", "subject", "latest_date", "marking", "stance", "snippet", "score", "similar")


def _audit(action: str, query: str | None, status: int) -> None:
    audit.record(ctx().db_path, user=g.user, ip=client_ip(), action=action, method=request.method,
                 page=request.full_path.rstrip("?"), query=query, status=status)


def _answer(action: str, query: str | None, value: Any, status: int = 200) -> Any:
    _audit(action, query, status)
    return jsonify(value), status


def _cli_snippet(text: str) -> str:
    return text.replace(queries.MARK_START, "[").replace(queries.MARK_END, "]")


@api.route("/search")
def search() -> Any:
    q = request.args.get("q", "").strip()
    if not q:
        return _answer("api_search", None, {"error": "missing parameter q"}, 400)
    try:
        limit = min(MAX_LIMIT, max(1, int(request.args.get("limit", ctx().search_limit))))
    except ValueError:
        return _answer("api_search", q, {"error": "limit must be an integer"}, 400)
    a = request.args
    filters = queries.SearchFilters(a.get("marking") or None, a.get("force") or None, a.get("exemption") or None,
                                    a.get("stance") or None, a.get("since") or None, a.get("until") or None)
    facets = queries.FacetFilters(a.get("topic") or None, a.get("supplier") or None, a.get("year") or None)
    try:
        if facets == queries.FacetFilters():
            rows = queries.search(read_store(), q, filters, limit)
        else:
            page = queries.search_threads(read_store(), q, filters, facets, "relevance", 1, limit)
            rows = [{k: (_cli_snippet(r[k]) if k == "snippet" else r[k]) for k in CONTRACT_KEYS}
                    for r in page.results]
    except queries.SearchError as exc:
        return _answer("api_search", q, {"error": str(exc)}, 400)
    return _answer("api_search", q, rows)


@api.route("/thread")
def thread() -> Any:
    log = request.args.get("log", "").strip()
    if not log:
        return _answer("api_thread", None, {"error": "missing parameter log"}, 400)
    t = queries.thread(read_store(), log)
    if t is None:
        return _answer("api_thread", log, {"error": f"no thread for log {log!r}"}, 404)
    return _answer("api_thread", log, t)
