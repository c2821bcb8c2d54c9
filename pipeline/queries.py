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
    where, params = _filter_sql(filters)
    marking = normalise_marking(filters.marking) if filters.marking else None
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
    else:
        try:
            rows = store.db.execute(
                "SELECT m.thread_id, -bm25(messages_fts) AS s, "
                "snippet(messages_fts, -1, '[', ']', ' … ', 16) FROM messages_fts "
                "JOIN messages m ON m.rowid = messages_fts.rowid "
                f"WHERE messages_fts MATCH ? {'AND ' + where if where else ''} ORDER BY s DESC LIMIT 2000",
                [_fts_query(query), *params],
            ).fetchall()
        except sqlite3.OperationalError as exc:
            raise SearchError(f"bad search syntax in {query!r}: {exc}") from None
        for thread_id, score, snippet in rows:
            if thread_id not in hits:
                hits[thread_id] = {"score": round(float(score), 4), "snippet": _one_line(snippet)}
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
                        "similar": similar_logs(store, t[0]) if t[0] else []})
    results.sort(key=lambda r: (-r["score"], r["latest_date"] or ""), reverse=False)
    return results[:limit]


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
