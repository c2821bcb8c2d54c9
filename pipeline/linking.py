"""Threads, copies and links between logs, computed from message records.

Pure: records in, a ``LinkResult`` out; the store applies it. Recomputed over
the whole store after each ingest (a few hundred milliseconds for tens of
thousands of messages), so the outcome never depends on arrival order.

Rules, strongest first:
1. Copies: an attached or quoted message that is another stored message
   (same Message-ID, or same subject and minute when it has none) is a copy of
   it; copies are shown once, under their canonical message.
2. Header threading (Message-ID / In-Reply-To / References, JWZ-style: missing
   parents are phantoms, loops are harmless in union-find), and quoted children
   of the same log, join a thread.
3. Messages about the same log number join one thread.
4. Thread-Topic plus a non-generic normalised subject joins messages with no log.
Two threads about different logs never merge, even when they share a generic
subject or a reply header points across them: that becomes a *link*.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from classifiers.entities import get_gazetteer
from classifiers.similarity import SimilarityIndex
from parsers.cru import marking_rank, parse_log_filename

GENERIC_SUBJECTS = {
    "", "foi", "foi request", "freedom of information", "freedom of information request",
    "request", "information request", "query", "enquiry", "no subject", "(no subject)", "update",
    "advice", "cru advice", "response", "thank you", "thanks",
}


@dataclass
class MessageRecord:
    """The fields linking needs from one stored message."""

    key: str
    order: int
    relation: str
    parent_key: str | None
    message_id: str
    derived_id: bool
    subject: str
    norm_subject: str
    date: str | None
    in_reply_to: str | None
    references: list[str]
    thread_topic: str | None
    kind: str | None
    about: list[str]
    referenced: list[tuple[str, str]]  # (log, source)
    marking: str | None
    caveats: list[str]
    stance: str | None
    exemptions: list[str]
    logged_with: str | None
    applicant_request: str | None
    advice: str | None
    circulation_date: str | None
    body: str = ""
    attachment_names: list[str] = field(default_factory=list)
    topic: str | None = None
    topics: list[str] = field(default_factory=list)
    suppliers: list[str] = field(default_factory=list)


@dataclass
class LinkResult:
    thread_of: dict[str, str] = field(default_factory=dict)
    copy_of: dict[str, str] = field(default_factory=dict)
    links: list[dict[str, Any]] = field(default_factory=list)
    threads: list[dict[str, Any]] = field(default_factory=list)
    circulations: list[dict[str, Any]] = field(default_factory=list)


def _is_generic(norm_subject: str) -> bool:
    return norm_subject in GENERIC_SUBJECTS or len(norm_subject.split()) < 2


_RELATION_RANK = {"root": 0, "attached": 1, "quoted": 2}
#: Similar earlier requests linked per circulation (the best ones).
MAX_SIMILAR = 5
#: References beyond this many (newest kept) are ignored: a hostile header must not cost more.
_MAX_REFERENCES = 100


def find_copies(records: list[MessageRecord]) -> dict[str, str]:
    """Map each copy's key to its canonical message's key."""
    groups: dict[tuple, list[MessageRecord]] = defaultdict(list)
    for r in records:
        if not r.derived_id:
            groups[("id", r.message_id)].append(r)
        elif r.date and r.norm_subject:
            groups[("sd", r.norm_subject, r.date[:16])].append(r)
    # A quoted copy has no Message-ID: match it to a message with one by subject and minute.
    by_subject_minute: dict[tuple, list[MessageRecord]] = defaultdict(list)
    for r in records:
        if r.date and r.norm_subject and not r.derived_id:
            by_subject_minute[(r.norm_subject, _minute_utc(r.date))].append(r)
    copy_of: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda r: (_RELATION_RANK.get(r.relation, 3), r.order))
        for r in members[1:]:
            copy_of[r.key] = members[0].key
    for r in records:
        if r.derived_id and r.key not in copy_of and r.date and r.norm_subject:
            originals = by_subject_minute.get((r.norm_subject, _minute_utc(r.date)))
            if originals:
                best = min(originals, key=lambda o: (_RELATION_RANK.get(o.relation, 3), o.order))
                copy_of[r.key] = copy_of.get(best.key, best.key)
    # Chains of copies resolve to the first canonical.
    for key, target in list(copy_of.items()):
        seen = {key}
        while target in copy_of and target not in seen:
            seen.add(target)
            target = copy_of[target]
        copy_of[key] = target
    return copy_of


def _minute_utc(iso: str) -> str:
    from datetime import UTC, datetime

    try:
        return datetime.fromisoformat(iso).astimezone(UTC).isoformat()[:16]
    except ValueError:
        return iso[:16]


class _Components:
    """Union-find whose components remember their log numbers, so different logs never merge."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.logs: dict[str, set[str]] = {}

    def add(self, key: str, logs: list[str]) -> None:
        self.parent[key] = key
        self.logs[key] = set(logs)

    def find(self, key: str) -> str:
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        la, lb = self.logs[ra], self.logs[rb]
        if la and lb and not (la & lb):
            return False
        self.parent[rb] = ra
        self.logs[ra] = la | lb
        return True


def link(records: list[MessageRecord], similarity_threshold: float = 0.3,
         previous_similar: tuple[dict[str, str], list[dict[str, Any]]] | None = None) -> LinkResult:
    """Compute threads, copies, log links and circulations for the whole store.

    ``previous_similar`` is (the requests the last similar links were computed from,
    those links): when no circulation's request changed they are reused, because
    similarity is the costliest step and most polls bring replies, not new requests.
    """
    result = LinkResult()
    result.copy_of = find_copies(records)
    canon = [r for r in records if r.key not in result.copy_of]
    by_key = {r.key: r for r in records}
    by_id: dict[str, MessageRecord] = {}
    for r in sorted(canon, key=lambda r: r.order):
        by_id.setdefault(r.message_id, r)

    comps = _Components()
    for r in canon:
        comps.add(r.key, r.about)
    # 3. same log number
    first_with_log: dict[str, str] = {}
    for r in sorted(canon, key=lambda r: r.order):
        if r.about:
            primary = r.about[0]
            if primary in first_with_log:
                comps.union(first_with_log[primary], r.key)
            else:
                first_with_log[primary] = r.key
    # 2. headers (JWZ-style: every References id is a container, missing ones are phantoms,
    #    consecutive ids are parent and child) and quoted children; cross-log edges become links
    def node(message_id: str) -> str:
        known = by_id.get(message_id)
        if known is not None:
            return known.key
        phantom = f"phantom:{message_id}"
        if phantom not in comps.parent:
            comps.add(phantom, [])
        return phantom

    for r in canon:
        chain = list(dict.fromkeys([*r.references, *([r.in_reply_to] if r.in_reply_to else [])]))
        chain = [i for i in chain if i != r.message_id][-_MAX_REFERENCES:]
        for older, newer in pairwise(chain):
            comps.union(node(older), node(newer))
        if chain:
            comps.union(node(chain[-1]), r.key)
        parent = by_id.get(r.in_reply_to or (chain[-1] if chain else ""))
        if parent is not None and parent.key != r.key and r.about and parent.about \
                and not set(r.about) & set(parent.about):
            _add_link(result, r, parent.about[0], "reply", f"replies to {parent.subject!r}")
        if r.relation == "quoted" and r.parent_key:
            holder = _canonical(by_key, result.copy_of, r.parent_key)
            if holder is not None:
                comps.union(holder.key, r.key)
    # 4. Thread-Topic + specific subject for messages without logs
    by_topic: dict[tuple[str, str], str] = {}
    for r in sorted(canon, key=lambda r: r.order):
        if r.about or not r.thread_topic or _is_generic(r.norm_subject):
            continue
        topic_key = (r.thread_topic.strip().lower(), r.norm_subject)
        if topic_key in by_topic:
            comps.union(by_topic[topic_key], r.key)
        else:
            by_topic[topic_key] = r.key

    members: dict[str, list[MessageRecord]] = defaultdict(list)
    for r in canon:  # phantoms join threads but are not members
        members[comps.find(r.key)].append(r)
    for group in members.values():
        group.sort(key=lambda r: (r.date or "", r.order))
        log_counts = Counter(log for r in group for log in r.about[:1])
        primary = None
        if log_counts:
            top = max(log_counts.values())
            primary = next(r.about[0] for r in group if r.about and log_counts[r.about[0]] == top)
        root = min(group, key=lambda r: r.order)
        thread_id = f"log:{primary}" if primary else f"msg:{root.key}"
        for r in group:
            result.thread_of[r.key] = thread_id
        top_marking = max((r.marking for r in group), key=marking_rank)
        caveats = list(dict.fromkeys(c for r in group for c in r.caveats))
        first = next((r for r in group if primary in r.about), group[0]) if primary else group[0]
        result.threads.append(
            {"thread_id": thread_id, "log_number": primary, "subject": first.subject, "root_key": root.key,
             "message_count": len(group), "first_date": group[0].date, "latest_date": group[-1].date,
             "marking": top_marking, "caveats": _json(caveats)}
        )
    for copy_key, canonical_key in result.copy_of.items():
        result.thread_of[copy_key] = result.thread_of.get(canonical_key, f"msg:{canonical_key}")

    # Log links from every message (copies too: an attached copy is still evidence).
    for r in records:
        if not r.about:
            continue
        for log, source in r.referenced:
            if log in r.about:
                continue
            kind = "attached" if source == "attachment" else "referenced"
            _add_link(result, r, log, kind, _evidence(r, log, source))
        if r.parent_key:
            parent = by_key.get(r.parent_key)
            if parent and parent.about:
                for log in r.about:
                    if log not in parent.about:
                        kind = "attached" if r.relation == "attached" else "reply"
                        what = "attached" if r.relation == "attached" else "quoted"
                        _add_link(result, parent, log, kind, f"{what} message {r.subject!r}")
        if r.kind == "update" and r.key not in result.copy_of:
            for log in r.about:
                _add_link(result, r, log, "update", f"update {r.subject!r} of {_day(r.date)}")
    result.circulations = _circulations(canon, result.thread_of)
    result.links.extend(similar_links(result.circulations, similarity_threshold, previous_similar))
    return result


def similar_links(circulations: list[dict[str, Any]], threshold: float,
                  previous: tuple[dict[str, str], list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """Link each circulation to the few earlier ones whose applicant's request is most similar.

    With ``previous`` (the requests and similar links of the last run), only circulations whose
    request is new or changed are scored, and the others keep their links: a poll that brings
    one new circulation scores one request, not the whole history.
    """
    docs = sorted(
        ((c["first_date"] or "", c["log_number"], c["applicant_request"]) for c in circulations
         if c["applicant_request"]),
    )
    if len(docs) < 2:
        return []
    gazetteer = get_gazetteer()

    def supplier_names(names: list[str]) -> list[str]:
        # The stored list also holds generic technologies; similarity weighs suppliers only.
        return [n for n in names if (e := gazetteer.lookup(n)) is None or e.kind != "technology"]

    known = {c["log_number"]: supplier_names(json.loads(c["suppliers"] or "[]")) for c in circulations}
    index = SimilarityIndex([(log, text) for _, log, text in docs], known_suppliers=known)
    old_requests, old_links = previous if previous is not None else ({}, [])
    requests = {log: text for _, log, text in docs}
    unchanged = {log for log, text in requests.items() if old_requests.get(log) == text}
    links = [link for link in old_links if link["from_log"] in unchanged and link["to_log"] in requests]
    for j, (date, log, _) in enumerate(docs):
        if log in unchanged:
            continue
        # The few most similar earlier requests are what an officer reads; a topic with hundreds of
        # look-alike requests must not turn into hundreds of links per circulation.
        for older, score in index.nearest_earlier(j, MAX_SIMILAR, threshold):
            links.append({"from_log": log, "to_log": older, "kind": "similar",
                          "evidence": f"similar request (score {score:.2f})", "message_key": "",
                          "date": date or None, "score": round(score, 4)})
    return links


def _canonical(by_key: dict[str, MessageRecord], copy_of: dict[str, str], key: str) -> MessageRecord | None:
    return by_key.get(copy_of.get(key, key))


def _day(iso: str | None) -> str:
    return iso[:10] if iso else "unknown date"


def _evidence(r: MessageRecord, log: str, source: str) -> str:
    """A short, human-readable reason for a link: the attachment's name or the sentence citing the log."""
    if source == "attachment":
        for name in r.attachment_names:
            ref = parse_log_filename(name)
            if ref is not None and ref.number == log:
                return f"attachment {name!r}"
        return f"attachment named for {log}"
    match = re.search(rf"(?:^|(?<=[.!?:\n]))[^.!?:\n]{{0,160}}?{re.escape(log)}[^.!?\n]{{0,100}}[.!?]?",
                      r.body or "")
    if match:
        return " ".join(match.group(0).split())
    return f"{log} mentioned in the {source} of {r.subject!r}"


def _add_link(result: LinkResult, r: MessageRecord, to_log: str, kind: str, evidence: str) -> None:
    for from_log in r.about[:1]:
        result.links.append(
            {"from_log": from_log, "to_log": to_log, "kind": kind, "evidence": evidence[:300],
             "message_key": r.key, "date": r.date, "score": None}
        )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _circulations(canon: list[MessageRecord], thread_of: dict[str, str]) -> list[dict[str, Any]]:
    """One row per log number with its latest state (latest advice wins, first request stays)."""
    by_log: dict[str, list[MessageRecord]] = defaultdict(list)
    for r in canon:
        for log in r.about:
            by_log[log].append(r)
    rows = []
    for log, group in by_log.items():
        group.sort(key=lambda r: (r.date or "", r.order))
        advised = [r for r in group if r.stance or r.advice]
        latest_advice = advised[-1] if advised else None
        first_circ = next((r for r in group if r.kind == "circulation"), group[0])
        rows.append(
            {
                "log_number": log,
                "subject": first_circ.subject,
                "first_date": group[0].date,
                "latest_date": group[-1].date,
                "circulation_date": next((r.circulation_date for r in group if r.circulation_date), None),
                "marking": max((r.marking for r in group), key=marking_rank),
                "caveats": _json(list(dict.fromkeys(c for r in group for c in r.caveats))),
                "stance": next((r.stance for r in reversed(group) if r.stance), None),
                "exemptions": _json(latest_advice.exemptions if latest_advice else []),
                "logged_with": next((r.logged_with for r in group if r.logged_with), None),
                "applicant_request": next((r.applicant_request for r in group if r.applicant_request), None),
                "advice": latest_advice.advice if latest_advice else None,
                "topic": next((r.topic for r in group if r.applicant_request and r.topic), None)
                or next((r.topic for r in group if r.topic), None),
                "topics": _json(list(dict.fromkeys(t for r in group for t in r.topics))),
                "suppliers": _json(list(dict.fromkeys(s for r in group for s in r.suppliers))),
                "kinds": _json(list(dict.fromkeys(r.kind for r in group if r.kind))),
                "message_count": len(group),
                "thread_id": thread_of.get(group[0].key),
            }
        )
    return rows
