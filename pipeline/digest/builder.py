"""What a week's digest says, read from the store (SQL on the existing tables, read-only).

The digest is built once per week as a list of marked items; ``views`` then
decides per recipient what they may see. Every item carries the marking and
caveats of the messages its content comes from, so a view's marking can be
computed from exactly what it contains (markings flow upward, never sideways).

Copies (``copy_of IS NOT NULL``: a message attached or quoted again later)
are ignored so that a circulation quoted in an update is not counted twice.
Times are bucketed into ISO weeks in the configured zone (Europe/London).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from config.mail import DigestSettings
from parsers.cru import marking_rank
from pipeline.digest.summary import request_summary, scrub, subject_topic
from pipeline.digest.weeks import Week, local_date, parse_stamp
from pipeline.digest.workdays import add_working_days, working_days_between
from pipeline.store import Store

#: Message kinds that carry CRU advice (a force's own response is not CRU advice).
ADVICE_KINDS = ("advice", "update", "internal_review")
KIND_LABELS = {"advice": "advice", "update": "update", "internal_review": "internal review advice",
               "circulation": "circulation"}
STANCE_LABELS = {"full_ncnd": "full NCND", "partial_ncnd": "partial NCND", "confirm_and_exempt": "confirm and exempt",
                 "disclose": "disclose", "conditional": "conditional"}
LINK_LABELS = {"update": "was updated", "referenced": "cites", "attached": "attaches earlier mail on",
               "reply": "replies to", "similar": "is similar to"}


@dataclass(frozen=True)
class Item:
    """Anything shown in a digest: it knows its own marking and caveats."""

    log: str
    marking: str | None
    caveats: tuple[str, ...]

    @property
    def restricted(self) -> bool:
        return bool(self.caveats)


@dataclass(frozen=True)
class NewCirculation(Item):
    received: date
    circulation_date: date | None
    force: str
    topic: str
    summary: str
    suppliers: tuple[str, ...]


@dataclass(frozen=True)
class AdviceItem(Item):
    day: date
    kind: str
    stance: str | None
    exemptions: tuple[str, ...]
    compared_with: str  # "" for the first advice on a log with no linked earlier advice
    changes: tuple[str, ...]

    @property
    def stance_label(self) -> str:
        return STANCE_LABELS.get(self.stance or "", self.stance or "not stated")


@dataclass(frozen=True)
class AwaitingItem(Item):
    received: date
    age: int  # working days after receipt, up to the end of the week
    deadline: date
    status: str  # "ok" | "approaching" | "overdue"
    force: str
    topic: str
    listed: bool  # False: older than awaiting_max_age, counted only


@dataclass(frozen=True)
class LinkItem(Item):
    to_log: str
    kind: str
    evidence: str
    day: date

    @property
    def label(self) -> str:
        return LINK_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Digest:
    week: Week
    start: date
    end: date
    circulations: tuple[NewCirculation, ...]
    advice: tuple[AdviceItem, ...]
    awaiting: tuple[AwaitingItem, ...]
    links: tuple[LinkItem, ...]
    quarantined: int
    warning: int
    limit: int
    max_age: int

    def items(self) -> list[Item]:
        return [*self.circulations, *self.advice, *self.awaiting, *self.links]


@dataclass
class _Msg:
    key: str
    at: datetime
    kind: str | None
    logs: list[str]
    marking: str | None
    caveats: tuple[str, ...]
    stance: str | None
    exemptions: tuple[str, ...]
    logged_with: str
    topic: str
    suppliers: tuple[str, ...]
    subject: str
    circulation_date: date | None
    has_request: bool

    @property
    def is_advice(self) -> bool:
        return self.kind in ADVICE_KINDS or (bool(self.stance) and self.kind != "force_response")


@lru_cache(maxsize=256)
def topic_label(topic_id: str | None) -> str:
    """The taxonomy's label for a classifier topic id ("supplier_technology" -> its label).

    Falls back to the id made readable when the taxonomy cannot be loaded or
    does not know the id: the digest must not fail because a label is missing.
    """
    if not topic_id:
        return ""
    try:
        from classifiers.taxonomy import load_taxonomy

        return load_taxonomy().label(topic_id)
    except Exception:  # no taxonomy, an invalid one, or an unknown id
        return topic_id.replace("_", " ").capitalize()


def _jlist(value: str | None) -> tuple[str, ...]:
    try:
        data = json.loads(value) if value else []
    except ValueError:
        return ()
    return tuple(str(v) for v in data if v) if isinstance(data, list) else ()


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _load(store: Store, until: datetime) -> dict[str, list[_Msg]]:
    """Non-copy messages about a log up to ``until``, by log number, oldest first."""
    bound = (until.date() + timedelta(days=2)).isoformat()  # string prefilter; exact check after parsing
    rows = store.db.execute(
        "SELECT key, date, kind, log_numbers, marking, caveats, stance, exemptions, logged_with, topic, suppliers, "
        "subject, circulation_date, applicant_request IS NOT NULL AND applicant_request != '' FROM messages "
        "WHERE copy_of IS NULL AND log_numbers IS NOT NULL AND log_numbers != '[]' AND date IS NOT NULL "
        "AND substr(date, 1, 10) <= ?",
        [bound],
    ).fetchall()
    by_log: dict[str, list[_Msg]] = defaultdict(list)
    for (key, stamp, kind, logs, marking, caveats, stance, exemptions, logged_with, topic, suppliers, subject,
         circ_date, has_request) in rows:
        at = parse_stamp(stamp)
        if at is None or at >= until:
            continue
        msg = _Msg(key, at, kind, list(_jlist(logs)), marking, _jlist(caveats), stance, _jlist(exemptions),
                   logged_with or "", topic or "", _jlist(suppliers), subject or "", _date(circ_date),
                   bool(has_request))
        for log in msg.logs:
            by_log[log].append(msg)
    for msgs in by_log.values():
        msgs.sort(key=lambda m: (m.at, m.key))
    return by_log


def _mark(msgs: list[_Msg]) -> tuple[str | None, tuple[str, ...]]:
    """Highest marking and all caveats of the messages an item's content comes from."""
    top = max((m.marking for m in msgs), key=marking_rank, default=None)
    caveats = tuple(dict.fromkeys(c for m in msgs for c in m.caveats))
    return top, caveats


def _first(msgs: list[_Msg], attr: str) -> tuple[Any, _Msg | None]:
    for m in msgs:
        value = getattr(m, attr)
        if value:
            return value, m
    return None, None


def _new_circulation(store: Store, log: str, msgs: list[_Msg], tz: Any) -> NewCirculation:
    used: list[_Msg] = [msgs[0]]
    fields: dict[str, Any] = {}
    for attr in ("logged_with", "topic", "suppliers", "circulation_date"):
        value, source = _first(msgs, attr)
        fields[attr] = value
        if source is not None:
            used.append(source)
    topic = topic_label(fields["topic"])
    if not topic:
        for m in msgs:
            topic = subject_topic(m.subject)
            if topic:
                used.append(m)
                break
    summary = ""
    for m in msgs:
        if m.has_request:
            (request,) = store.db.execute("SELECT applicant_request FROM messages WHERE key = ?", [m.key]).fetchone()
            summary = request_summary(request)
            if summary:
                used.append(m)
                break
    marking, caveats = _mark(used)
    return NewCirculation(log=log, marking=marking, caveats=caveats, received=local_date(msgs[0].at, tz),
                          circulation_date=fields["circulation_date"], force=fields["logged_with"] or "",
                          topic=topic, summary=summary, suppliers=tuple(fields["suppliers"] or ()))


def _changes(new: _Msg, old: _Msg | None) -> tuple[str, ...]:
    """What changed against the earlier advice: stance and exemptions, in words."""
    if old is None:
        return ("first advice on this log",)
    out = []
    old_s, new_s = STANCE_LABELS.get(old.stance or "", old.stance), STANCE_LABELS.get(new.stance or "", new.stance)
    if new.stance == old.stance:
        out.append(f"stance unchanged ({new_s})" if new.stance else "no stance stated, as before")
    elif not new.stance:
        out.append(f"stance not restated (was {old_s})")
    elif not old.stance:
        out.append(f"stance now stated: {new_s}")
    else:
        out.append(f"stance changed: {old_s} → {new_s}")
    added = [e for e in new.exemptions if e not in old.exemptions]
    removed = [e for e in old.exemptions if e not in new.exemptions]
    if not added and not removed:
        out.append(f"exemptions unchanged ({', '.join(new.exemptions)})" if new.exemptions else "no exemptions cited")
    elif not new.exemptions:
        out.append(f"exemptions not restated (earlier: {', '.join(old.exemptions)})")
    else:
        if added:
            out.append(f"exemptions added: {', '.join(added)}")
        if removed:
            out.append(f"exemptions dropped: {', '.join(removed)}")
    return tuple(out)


def _earlier_advice(store: Store, log: str, msg: _Msg, by_log: dict[str, list[_Msg]]) -> tuple[_Msg | None, str]:
    """The advice this one follows: the latest earlier advice on the same log, else on a log it links to."""
    same = [m for m in by_log.get(log, []) if m.is_advice and m.at < msg.at and m.key != msg.key]
    if same:
        return same[-1], log
    linked = [t for (t,) in store.db.execute(
        "SELECT DISTINCT to_log FROM log_links WHERE from_log = ? AND to_log != ?", [log, log])]
    candidates = [(m, t) for t in linked for m in by_log.get(t, []) if m.is_advice and m.at < msg.at]
    if not candidates:
        return None, ""
    return max(candidates, key=lambda c: c[0].at)


def _advice_items(store: Store, by_log: dict[str, list[_Msg]], start: datetime, tz: Any) -> list[AdviceItem]:
    items = []
    for log, msgs in by_log.items():
        for m in msgs:
            if not (m.is_advice and m.at >= start):
                continue
            old, old_log = _earlier_advice(store, log, m, by_log)
            marking, caveats = _mark([m] if old is None else [m, old])
            compared = ""
            if old is not None:
                what = KIND_LABELS.get(old.kind or "", "advice")
                when = local_date(old.at, tz)
                compared = f"{old_log} {what} of {when.day} {when:%b %Y}"
                if old_log != log:
                    compared = f"linked log {compared}"
            items.append(AdviceItem(log=log, marking=marking, caveats=caveats, day=local_date(m.at, tz),
                                    kind=KIND_LABELS.get(m.kind or "", m.kind or "advice"), stance=m.stance,
                                    exemptions=m.exemptions, compared_with=compared, changes=_changes(m, old)))
    return sorted(items, key=lambda i: (i.day, i.log))


def _awaiting(by_log: dict[str, list[_Msg]], week: Week, settings: DigestSettings, tz: Any) -> list[AwaitingItem]:
    items = []
    for log, msgs in by_log.items():
        circulations = [m for m in msgs if m.kind == "circulation"]
        if not circulations or any(m.is_advice for m in msgs):
            continue
        first = circulations[0]
        received = first.circulation_date or local_date(first.at, tz)
        age = working_days_between(received, week.sunday)
        status = ("overdue" if age > settings.working_day_limit
                  else "approaching" if age >= settings.working_day_warning else "ok")
        marking, caveats = _mark([first])
        topic = topic_label(first.topic) or subject_topic(first.subject)
        items.append(AwaitingItem(log=log, marking=marking, caveats=caveats, received=received, age=age,
                                  deadline=add_working_days(received, settings.working_day_limit), status=status,
                                  force=first.logged_with, topic=topic, listed=age <= settings.awaiting_max_age))
    return sorted(items, key=lambda i: (-i.age, i.log))


def _links(store: Store, start: datetime, end: datetime, tz: Any, by_log: dict[str, list[_Msg]]) -> list[LinkItem]:
    """Links whose evidence is dated in the week, one per (from, to, kind), from the least restricted evidence.

    A link names two logs and says they are related, so it carries the marking
    and caveats of both logs as well as of its evidence: "157/25 is similar to
    995/24" must not reach someone who may not see either log, even when the
    evidence is a similarity score with no message behind it.
    """
    log_marks = {log: _mark(msgs) for log, msgs in by_log.items()}
    lo, hi = (start.date() - timedelta(days=1)).isoformat(), (end.date() + timedelta(days=1)).isoformat()
    best: dict[tuple[str, str, str], LinkItem] = {}
    for from_log, to_log, kind, evidence, stamp, marking, caveats in store.db.execute(
        "SELECT l.from_log, l.to_log, l.kind, l.evidence, l.date, m.marking, m.caveats FROM log_links l "
        "LEFT JOIN messages m ON m.key = l.message_key WHERE substr(l.date, 1, 10) BETWEEN ? AND ? "
        "ORDER BY l.date, l.from_log, l.to_log, l.kind",
        [lo, hi],
    ):
        at = parse_stamp(stamp)
        if at is None or not start <= at < end:
            continue
        shown = " ".join(scrub(evidence or "").split()) if kind == "referenced" else ""
        if len(shown) > 200:
            shown = shown[:199].rsplit(" ", 1)[0] + "…"
        ends = [log_marks.get(from_log, (None, ())), log_marks.get(to_log, (None, ()))]
        marking = max([marking, *(m for m, _ in ends)], key=marking_rank)
        all_caveats = tuple(dict.fromkeys([*_jlist(caveats), *(c for _, cs in ends for c in cs)]))
        item = LinkItem(log=from_log, marking=marking, caveats=all_caveats, to_log=to_log, kind=kind,
                        evidence=shown, day=local_date(at, tz))
        key = (from_log, to_log, kind)
        old = best.get(key)
        if old is None or (len(item.caveats), marking_rank(item.marking)) < (len(old.caveats),
                                                                             marking_rank(old.marking)):
            best[key] = item
    return sorted(best.values(), key=lambda i: (i.day, i.log, i.to_log, i.kind))


def _quarantined(store: Store, start: datetime, end: datetime) -> int:
    count = 0
    for (stamp,) in store.db.execute("SELECT at FROM quarantine"):
        at = parse_stamp(stamp)
        if at is not None and start <= at < end:
            count += 1
    return count


def build_digest(store: Store, week: Week, settings: DigestSettings) -> Digest:
    """Everything the digest of ``week`` reports, as marked items (no recipient filtering yet)."""
    tz = settings.tz
    start, end = week.bounds(tz)
    by_log = _load(store, end)
    circulations = []
    for log, msgs in by_log.items():
        if start <= msgs[0].at < end:
            in_week = [m for m in msgs if m.at >= start]
            circulations.append(_new_circulation(store, log, in_week, tz))
    circulations.sort(key=lambda c: (c.received, c.log))
    return Digest(
        week=week, start=week.monday, end=week.sunday, circulations=tuple(circulations),
        advice=tuple(_advice_items(store, by_log, start, tz)), awaiting=tuple(_awaiting(by_log, week, settings, tz)),
        links=tuple(_links(store, start, end, tz, by_log)), quarantined=_quarantined(store, start, end),
        warning=settings.working_day_warning, limit=settings.working_day_limit, max_age=settings.awaiting_max_age,
    )
