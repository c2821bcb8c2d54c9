"""The read side of the store, for the faces (CLI, web, digest): search, thread, status.

Faces never parse mail and never write; they call these functions.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from parsers.cru import canonical_log, marking_rank
from parsers.cru.exemptions import extract_exemptions
from pipeline.store import Store

MARKING_ALIASES = {
    "os": "OFFICIAL-SENSITIVE",
    "official-sensitive": "OFFICIAL-SENSITIVE",
    "official sensitive": "OFFICIAL-SENSITIVE",
    "official": "OFFICIAL",
    "secret": "SECRET",
    "top secret": "TOP SECRET",
    "top-secret": "TOP SECRET",
}
STANCES = ("full_ncnd", "partial_ncnd", "confirm_and_exempt", "disclose", "conditional")


class SearchError(ValueError):
    """A query or filter the store cannot run; the message is one line for the user."""


@dataclass(frozen=True)
class SearchFilters:
    marking: str | None = None
    force: str | None = None
    exemption: str | None = None
    stance: str | None = None
    since: str | None = None
    until: str | None = None


def normalise_marking(value: str) -> str:
    v = " ".join(value.strip().lower().replace("_", " ").split())
    v2 = v.replace(" - ", "-").replace(" – ", "-")
    found = MARKING_ALIASES.get(v) or MARKING_ALIASES.get(v2)
    if not found:
        raise SearchError(f"unknown marking {value!r}: use OFFICIAL, OFFICIAL-SENSITIVE, SECRET or TOP SECRET")
    return found


def normalise_exemption(value: str) -> str:
    """A user's exemption ("s31(3)", "Section 31(3)", "31(3)") in the stored normal form."""
    text = value.strip()
    phrase = f"exempt under {text}" if re.match(r"(?i)s|sec", text) else f"exempt under section {text}"
    found = extract_exemptions(phrase).advised
    if not found:
        raise SearchError(f"not an FOI Act exemption: {value!r} (try s31(3), s24(2), s21 ...)")
    return found[0]


def _date_bound(value: str, name: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise SearchError(f"--{name} must be a date as YYYY-MM-DD, got {value!r}")
    return value.strip()


def _filter_sql(filters: SearchFilters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.force:
        clauses.append("m.thread_id IN (SELECT thread_id FROM messages WHERE logged_with LIKE ?)")
        params.append(f"%{filters.force.strip()}%")
    if filters.exemption:
        clauses.append("m.thread_id IN (SELECT m2.thread_id FROM messages m2, json_each(m2.exemptions) e "
                       "WHERE e.value = ?)")
        params.append(normalise_exemption(filters.exemption))
    if filters.stance:
        stance = filters.stance.strip().lower().replace("-", "_").replace(" ", "_")
        if stance not in STANCES:
            raise SearchError(f"unknown stance {filters.stance!r}: use one of {', '.join(STANCES)}")
        clauses.append("m.thread_id IN (SELECT thread_id FROM messages WHERE stance = ?)")
        params.append(stance)
    if filters.since:
        clauses.append("substr(m.date, 1, 10) >= ?")
        params.append(_date_bound(filters.since, "since"))
    if filters.until:
        clauses.append("substr(m.date, 1, 10) <= ?")
        params.append(_date_bound(filters.until, "until"))
    return (" AND ".join(clauses), params)


def _fts_query(query: str) -> str:
    """Pass FTS5 syntax through; a bare query with characters FTS5 rejects is quoted per word."""
    q = query.strip()
    if not q:
        raise SearchError("empty search query")
    return q


def search(store: Store, query: str, filters: SearchFilters | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Threads matching a query, best first: the `cru search --json` contract."""
    filters = filters or SearchFilters()
    marking = normalise_marking(filters.marking) if filters.marking else None
    hits = _thread_hits(store, query, filters)
    if not hits:
        return []
    results = []
    for thread_id, hit in hits.items():
        t = store.db.execute(
            "SELECT t.log_number, t.subject, t.latest_date, t.marking, c.stance FROM threads t "
            "LEFT JOIN circulations c ON c.log_number = t.log_number WHERE t.thread_id = ?",
            [thread_id],
        ).fetchone()
        if t is None:
            continue
        if marking and t[3] != marking:
            continue
        results.append({"log_number": t[0], "subject": t[1], "latest_date": t[2], "marking": t[3],
                        "stance": t[4], "snippet": hit["snippet"], "score": hit["score"],
                        "similar": [], "_rowid": hit.get("rowid")})
    results.sort(key=lambda r: (-r["score"], r["latest_date"] or ""), reverse=False)
    results = results[:limit]
    for r in results:
        rowid = r.pop("_rowid")
        if r["snippet"] is None:
            row = store.db.execute(
                "SELECT snippet(messages_fts, -1, '[', ']', ' … ', 16) FROM messages_fts "
                "WHERE messages_fts MATCH ? AND rowid = ?", [_fts_query(query), rowid]).fetchone()
            r["snippet"] = _one_line(row[0] if row else "")
        r["similar"] = similar_logs(store, r["log_number"]) if r["log_number"] else []
    return results


def similar_logs(store: Store, log_number: str) -> list[dict[str, Any]]:
    """Other logs whose applicant's request is similar to this one's, best first (either direction)."""
    rows = store.db.execute(
        "SELECT CASE WHEN from_log = ? THEN to_log ELSE from_log END, MAX(score) FROM log_links "
        "WHERE kind = 'similar' AND (from_log = ? OR to_log = ?) GROUP BY 1 ORDER BY 2 DESC",
        [log_number, log_number, log_number],
    )
    return [{"log_number": other, "score": round(score, 2)} for other, score in rows]


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())[:300]


def thread(store: Store, log_number: str) -> dict[str, Any] | None:
    """A log's thread: its messages in time order (copies shown once) and its links."""
    log = canonical_log(log_number) or log_number.strip()
    row = store.db.execute("SELECT thread_id FROM threads WHERE log_number = ?", [log]).fetchone()
    if row is None:
        return None
    thread_id = row[0]
    messages = [
        json.loads(extraction)
        for (extraction,) in store.db.execute(
            "SELECT extraction FROM messages WHERE thread_id = ? AND copy_of IS NULL "
            "ORDER BY COALESCE(date, ''), key",
            [thread_id],
        )
    ]
    links = [
        {"from": f, "to": t, "kind": k, "evidence": e, "score": s}
        for f, t, k, e, s in store.db.execute(
            "SELECT from_log, to_log, kind, evidence, MAX(score) FROM log_links WHERE from_log = ? OR to_log = ? "
            "GROUP BY from_log, to_log, kind, evidence ORDER BY date, kind",
            [log, log],
        )
    ]
    return {"log_number": log, "messages": messages, "links": links}


def thread_marking(thread_json: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The highest marking and the caveats of everything a thread view shows."""
    levels = [m.get("marking") for m in thread_json["messages"]]
    top = max(levels, key=marking_rank) if levels else None
    caveats = list(dict.fromkeys(c for m in thread_json["messages"] for c in m.get("caveats", [])))
    return top, caveats


def status(store: Store) -> dict[str, Any]:
    """Counts for `cru status`."""
    db = store.db
    by_status = dict(db.execute("SELECT status, COUNT(*) FROM raw_mail GROUP BY status").fetchall())
    return {
        "store": str(store.path),
        "raw_messages": sum(by_status.values()),
        "raw_by_status": by_status,
        "messages": db.execute("SELECT COUNT(*) FROM messages").fetchone()[0],
        "distinct_messages": db.execute("SELECT COUNT(*) FROM messages WHERE copy_of IS NULL").fetchone()[0],
        "attachments": db.execute("SELECT COUNT(*) FROM attachments").fetchone()[0],
        "threads": db.execute("SELECT COUNT(*) FROM threads").fetchone()[0],
        "circulations": db.execute("SELECT COUNT(*) FROM circulations").fetchone()[0],
        "log_links": db.execute("SELECT COUNT(*) FROM log_links").fetchone()[0],
        "quarantined": db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0],
        "latest_message": db.execute("SELECT MAX(date) FROM messages").fetchone()[0],
    }


def quarantine_list(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    return [
        {"sha256": s, "source_ref": r, "error": e, "at": a}
        for s, r, e, a in store.db.execute(
            "SELECT sha256, source_ref, error, at FROM quarantine ORDER BY at DESC LIMIT ?", [limit]
        )
    ]


# ---- The web app's read side: facets, pagination, sorting, thread detail, attachments ----------------
# Added for pipeline/web; search()/thread() above keep the CLI's JSON contracts unchanged.

FACET_NAMES = ("topic", "stance", "marking", "force", "exemption", "year", "supplier")
SORTS = ("relevance", "date")
#: Highlight markers of snippets for HTML faces: control characters never typed into mail, so a face can
#: escape the text first and then turn exactly these into <mark> (the CLI's "[" "]" are ambiguous).
MARK_START, MARK_END = "\x02", "\x03"


@dataclass(frozen=True)
class FacetFilters:
    """Facets the web app filters on besides SearchFilters: a thread's topic, supplier and year."""

    topic: str | None = None
    supplier: str | None = None
    year: str | None = None


@dataclass(frozen=True)
class SearchPage:
    """One page of threads matching a query, with facet counts over the whole (filtered) result set."""

    results: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[tuple[str, int]]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _thread_hits(store: Store, query: str, filters: SearchFilters) -> dict[str, dict[str, Any]]:
    """thread_id → best score and snippet, with the same matching rules as search()."""
    where, params = _filter_sql(filters)
    log = canonical_log(query.strip()) if query.strip() else None
    hits: dict[str, dict[str, Any]] = {}
    if log:
        rows = store.db.execute(
            "SELECT m.thread_id, MAX(CASE WHEN n.role = 'about' THEN 2.0 ELSE 1.0 END), "
            "substr(COALESCE(m.body, ''), 1, 200) FROM mentions n JOIN messages m ON m.key = n.message_key "
            f"WHERE n.log_number = ? {'AND ' + where if where else ''} GROUP BY m.thread_id",
            [log, *params],
        ).fetchall()
        for thread_id, score, snippet in rows:
            hits[thread_id] = {"score": float(score), "snippet": _one_line(snippet)}
        return hits
    try:
        rows = store.db.execute(
            "SELECT m.thread_id, -bm25(messages_fts) AS s, messages_fts.rowid FROM messages_fts "
            "JOIN messages m ON m.rowid = messages_fts.rowid "
            f"WHERE messages_fts MATCH ? {'AND ' + where if where else ''} ORDER BY s DESC LIMIT 2000",
            [_fts_query(query), *params],
        ).fetchall()
    except sqlite3.OperationalError as exc:
        raise SearchError(f"bad search syntax in {query!r}: {exc}") from None
    for thread_id, score, rowid in rows:
        if thread_id not in hits:  # the snippet is made later, only for the rows a page shows (it is costly)
            hits[thread_id] = {"score": round(float(score), 4), "snippet": None, "rowid": rowid}
    return hits


def _snippet(store: Store, query: str, rowid: int) -> str:
    row = store.db.execute(
        f"SELECT snippet(messages_fts, -1, '{MARK_START}', '{MARK_END}', ' … ', 16) FROM messages_fts "
        "WHERE messages_fts MATCH ? AND rowid = ?", [_fts_query(query), rowid]).fetchone()
    return _one_line(row[0] if row else "")


_IN_THREADS = "thread_id IN (SELECT value FROM json_each(?))"
_FACET_SQL = {
    "topic": f"SELECT topic, COUNT(DISTINCT thread_id) FROM messages WHERE {_IN_THREADS} AND topic IS NOT NULL "
             "AND topic != '' GROUP BY 1",
    "stance": f"SELECT stance, COUNT(DISTINCT thread_id) FROM messages WHERE {_IN_THREADS} AND stance IS NOT NULL "
              "AND stance != '' GROUP BY 1",
    "marking": f"SELECT marking, COUNT(*) FROM threads WHERE {_IN_THREADS} AND marking IS NOT NULL GROUP BY 1",
    "force": f"SELECT logged_with, COUNT(DISTINCT thread_id) FROM messages WHERE {_IN_THREADS} "
             "AND logged_with IS NOT NULL AND logged_with != '' GROUP BY 1",
    "exemption": f"SELECT e.value, COUNT(DISTINCT m.thread_id) FROM messages m, json_each(m.exemptions) e "
                 f"WHERE m.{_IN_THREADS} GROUP BY 1",
    "year": f"SELECT substr(COALESCE(first_date, latest_date), 1, 4), COUNT(*) FROM threads WHERE {_IN_THREADS} "
            "AND COALESCE(first_date, latest_date) IS NOT NULL GROUP BY 1",
    "supplier": f"SELECT s.value, COUNT(DISTINCT m.thread_id) FROM messages m, json_each(m.suppliers) s "
                f"WHERE m.{_IN_THREADS} GROUP BY 1",
}
_FACET_FILTER_SQL = {
    "topic": f"SELECT DISTINCT thread_id FROM messages WHERE {_IN_THREADS} AND topic = ?",
    "supplier": f"SELECT DISTINCT m.thread_id FROM messages m, json_each(m.suppliers) s WHERE m.{_IN_THREADS} "
                "AND lower(s.value) = lower(?)",
    "year": f"SELECT thread_id FROM threads WHERE {_IN_THREADS} "
            "AND substr(COALESCE(first_date, latest_date), 1, 4) = ?",
}


def search_threads(store: Store, query: str, filters: SearchFilters | None = None,
                   facets: FacetFilters | None = None, sort: str = "relevance", page: int = 1,
                   per_page: int = 20) -> SearchPage:
    """A page of threads for the web app: search() plus topic/supplier/year facets, sorting and pagination.

    Matching is search()'s (same SQL, same 2,000-message cap); facet filters and counts are computed over the
    matching threads only, through the thread_id index, so they stay fast on a large store. Each result row
    carries the `cru search --json` keys plus thread_id, topic, caveats and first_date; snippets are marked
    with MARK_START/MARK_END.
    """
    filters = filters or SearchFilters()
    facets = facets or FacetFilters()
    if sort not in SORTS:
        raise SearchError(f"unknown sort {sort!r}: use relevance or date")
    marking = normalise_marking(filters.marking) if filters.marking else None
    if facets.year and not re.fullmatch(r"\d{4}", facets.year.strip()):
        raise SearchError(f"year must be four digits, got {facets.year!r}")
    hits = _thread_hits(store, query, filters)
    ids = list(hits)
    for name in ("topic", "supplier", "year"):
        value = getattr(facets, name)
        if value and ids:
            keep = {r[0] for r in store.db.execute(_FACET_FILTER_SQL[name], [json.dumps(ids), value.strip()])}
            ids = [i for i in ids if i in keep]
    rows = []
    if ids:
        rows = store.db.execute(
            "SELECT t.thread_id, t.log_number, t.subject, t.latest_date, t.marking, c.stance, t.caveats, "
            "COALESCE(c.topic, (SELECT m.topic FROM messages m WHERE m.thread_id = t.thread_id "
            "AND m.topic IS NOT NULL ORDER BY m.date LIMIT 1)), t.first_date "
            "FROM threads t LEFT JOIN circulations c ON c.log_number = t.log_number "
            f"WHERE t.{_IN_THREADS}",
            [json.dumps(ids)],
        ).fetchall()
    results = []
    for thread_id, log, subject, latest, level, stance, caveats, topic, first in rows:
        if marking and level != marking:
            continue
        hit = hits[thread_id]
        results.append({"log_number": log, "subject": subject, "latest_date": latest, "marking": level,
                        "stance": stance, "snippet": hit["snippet"], "score": hit["score"], "similar": [],
                        "thread_id": thread_id, "topic": topic, "caveats": json.loads(caveats or "[]"),
                        "first_date": first})
    if sort == "date":
        results.sort(key=lambda r: (r["latest_date"] or "", r["thread_id"]), reverse=True)
    else:
        results.sort(key=lambda r: (-r["score"], r["latest_date"] or "", r["thread_id"]))
    thread_ids = json.dumps([r["thread_id"] for r in results])
    counts = {name: sorted(((str(v), n) for v, n in store.db.execute(sql, [thread_ids]) if v is not None),
                           key=lambda x: (-x[1], x[0]))
              for name, sql in _FACET_SQL.items()} if results else {name: [] for name in _FACET_SQL}
    page = max(1, page)
    shown = results[(page - 1) * per_page: page * per_page]
    for r in shown:
        r["similar"] = similar_logs(store, r["log_number"]) if r["log_number"] else []
        if r["snippet"] is None:
            r["snippet"] = _snippet(store, query, hits[r["thread_id"]]["rowid"])
    return SearchPage(results=shown, total=len(results), page=page, per_page=per_page, facets=counts)


def highest_marking(items: list[dict[str, Any]]) -> tuple[str | None, list[str]]:
    """The highest marking and the union of caveats of rows carrying "marking" and "caveats" (for banners)."""
    levels = [i.get("marking") for i in items if i.get("marking")]
    top = max(levels, key=marking_rank) if levels else None
    caveats = list(dict.fromkeys(c for i in items for c in (i.get("caveats") or [])))
    return top, caveats


_DETAIL_COLUMNS = ("key", "relation", "parent_key", "copy_of", "kind", "subject", "date", "sender", "marking",
                   "caveats", "exemptions", "redaction_markers", "stance", "logged_with", "applicant_request",
                   "advice", "topic", "suppliers", "body_original", "log_numbers", "referenced_log_numbers",
                   "foi_refs", "case_worker")
_JSON_COLUMNS = ("caveats", "exemptions", "redaction_markers", "suppliers", "log_numbers", "referenced_log_numbers",
                 "foi_refs")


def _links_of(store: Store, log: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """Logs this one points back to (earlier advice) and logs pointing to it (later), with their evidence."""
    back: dict[str, list[dict[str, Any]]] = {}
    forward: dict[str, list[dict[str, Any]]] = {}
    for f, t, k, e in store.db.execute(
        "SELECT DISTINCT from_log, to_log, kind, evidence FROM log_links WHERE (from_log = ? OR to_log = ?) "
        "AND kind != 'similar' AND from_log != to_log ORDER BY date, kind", [log, log]
    ):
        if f == log:
            back.setdefault(t, []).append({"kind": k, "evidence": e})
        else:
            forward.setdefault(f, []).append({"kind": k, "evidence": e})
    return back, forward


def advice_chain(store: Store, log: str, depth: int = 6) -> list[list[str]]:
    """Levels of the advice chain through a log, latest first: [[157/25], [995/24], [1750/22]].

    Follows attached/referenced/reply/update links transitively both ways (breadth first, cycle safe).
    """
    def walk(start: str, direction: int) -> list[list[str]]:
        levels: list[list[str]] = []
        seen = {start}
        frontier = [start]
        for _ in range(depth):
            nxt: list[str] = []
            for item in frontier:
                back, forward = _links_of(store, item)
                for other in (back if direction < 0 else forward):
                    if other not in seen:
                        seen.add(other)
                        nxt.append(other)
            if not nxt:
                break
            levels.append(sorted(nxt))
            frontier = nxt
        return levels

    return [*reversed(walk(log, +1)), [log], *walk(log, -1)]


def thread_detail(store: Store, ref: str) -> dict[str, Any] | None:
    """Everything the web thread page shows, by log number ("995/24") or thread id ("msg:…").

    Messages in time order (copies shown once), each with its text, extracted fields, attachments and the
    attached/quoted messages it contains (pointing at where they are shown); the log's summary, its advice
    chain, similar requests, and the highest marking and caveats of everything shown.
    """
    ref = ref.strip()
    if ref.startswith("msg:"):
        row = store.db.execute("SELECT thread_id, log_number, subject FROM threads WHERE thread_id = ?",
                               [ref]).fetchone()
    else:
        log = canonical_log(ref) or ref
        row = store.db.execute("SELECT thread_id, log_number, subject FROM threads WHERE log_number = ?",
                               [log]).fetchone()
    if row is None:
        return None
    thread_id, log, subject = row
    cols = ", ".join(_DETAIL_COLUMNS)
    messages: list[dict[str, Any]] = []
    for values in store.db.execute(
        f"SELECT {cols} FROM messages WHERE thread_id = ? AND copy_of IS NULL ORDER BY COALESCE(date, ''), key",
        [thread_id],
    ):
        m = dict(zip(_DETAIL_COLUMNS, values, strict=True))
        for c in _JSON_COLUMNS:
            m[c] = json.loads(m[c] or "[]")
        m["index"] = len(messages) + 1
        m["attachments"] = []
        m["contains"] = []
        messages.append(m)
    by_key = {m["key"]: m for m in messages}
    keys = json.dumps(list(by_key))
    for key, position, filename, ctype, is_message, note, sha, size in store.db.execute(
        "SELECT ma.message_key, ma.position, ma.filename, ma.content_type, ma.is_message, ma.note, a.sha256, a.size "
        "FROM message_attachments ma LEFT JOIN attachments a ON a.sha256 = ma.sha256 "
        "WHERE ma.message_key IN (SELECT value FROM json_each(?)) ORDER BY ma.message_key, ma.position", [keys]
    ):
        by_key[key]["attachments"].append({"position": position, "filename": filename, "content_type": ctype,
                                           "is_message": bool(is_message), "note": note, "sha256": sha,
                                           "size": size, "downloadable": sha is not None and size is not None})
    for key, parent, relation, sub, date, copy_of, other_log, other_thread in store.db.execute(
        "SELECT k.key, k.parent_key, k.relation, k.subject, k.date, k.copy_of, t.log_number, t.thread_id "
        "FROM messages k LEFT JOIN messages c ON c.key = COALESCE(k.copy_of, k.key) "
        "LEFT JOIN threads t ON t.thread_id = c.thread_id "
        "WHERE k.parent_key IN (SELECT value FROM json_each(?)) ORDER BY k.parent_key, k.key", [keys]
    ):
        target = by_key.get(copy_of or key)
        by_key[parent]["contains"].append({
            "key": key, "relation": relation, "subject": sub, "date": date, "copy_of": copy_of,
            "shown_at": target["index"] if target else None,
            "log_number": None if target else other_log, "thread_id": None if target else other_thread})
    for m in messages:
        parent = by_key.get(m["parent_key"] or "")
        m["parent_index"] = parent["index"] if parent else None
        m["parent_subject"] = parent["subject"] if parent else None
    circulation = None
    similar: list[dict[str, Any]] = []
    back: dict[str, list[dict[str, Any]]] = {}
    forward: dict[str, list[dict[str, Any]]] = {}
    chain: list[list[str]] = []
    if log:
        c = store.db.execute(
            "SELECT stance, exemptions, logged_with, applicant_request, advice, topic, suppliers, circulation_date "
            "FROM circulations WHERE log_number = ?", [log]).fetchone()
        if c:
            circulation = {"stance": c[0], "exemptions": json.loads(c[1] or "[]"), "logged_with": c[2],
                           "applicant_request": c[3], "advice": c[4], "topic": c[5],
                           "suppliers": json.loads(c[6] or "[]"), "circulation_date": c[7]}
        similar = similar_logs(store, log)
        back, forward = _links_of(store, log)
        chain = advice_chain(store, log)
    top, caveats = highest_marking(messages)
    return {"log_number": log, "thread_id": thread_id, "subject": subject, "messages": messages,
            "circulation": circulation, "earlier": back, "later": forward, "chain": chain, "similar": similar,
            "marking": top, "caveats": caveats}


def attachment_file(store: Store, message_key: str, position: int) -> dict[str, Any] | None:
    """One attachment's original bytes with its name and type, by the message it belongs to and its position."""
    row = store.db.execute(
        "SELECT ma.filename, COALESCE(ma.content_type, a.content_type), a.data, m.marking, m.thread_id "
        "FROM message_attachments ma JOIN attachments a ON a.sha256 = ma.sha256 "
        "JOIN messages m ON m.key = ma.message_key WHERE ma.message_key = ? AND ma.position = ?",
        [message_key, position],
    ).fetchone()
    if row is None:
        return None
    return {"filename": row[0], "content_type": row[1], "data": row[2], "marking": row[3], "thread_id": row[4]}
