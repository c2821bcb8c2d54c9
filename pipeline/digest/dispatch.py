"""Which weeks are due, and sending them: idempotent and catching up.

A week is due once its scheduled time has passed (by default the Monday 07:00
Europe/London after it ends). Every due week not yet in the ledger for a
recipient is sent on the next run, so a worker that was down on Monday sends
on restart, and a week already sent is never sent again. Weeks before the
store first ingested mail are not due (a fresh store that ingests years of
backlog does not flood everyone with a digest per past week); ``start_week``
moves that anchor deliberately.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from config.mail import DigestSettings, SmtpSettings
from pipeline.digest.builder import Digest, build_digest
from pipeline.digest.ledger import Ledger
from pipeline.digest.render import render_html, render_text, subject
from pipeline.digest.sender import SendError, compose, deliver
from pipeline.digest.views import view_for
from pipeline.digest.weeks import Week, due_at, local_date, parse_stamp, parse_week, week_of
from pipeline.store import Store

log = logging.getLogger("cru.digest")


@dataclass(frozen=True)
class SendResult:
    week: str
    recipient: str
    view: str  # full | withheld
    status: str  # sent | failed | skipped
    message_id: str | None = None
    marking: str | None = None
    error: str | None = None


def first_week(store: Store, settings: DigestSettings) -> Week | None:
    """The first week the digest covers: ``start_week`` or the week the store first ingested mail."""
    if settings.start_week:
        return parse_week(settings.start_week)
    (stamp,) = store.db.execute("SELECT MIN(first_seen) FROM raw_mail").fetchone()
    first = parse_stamp(stamp)
    return week_of(local_date(first, settings.tz)) if first else None


def due_weeks(store: Store, settings: DigestSettings, now: datetime) -> list[Week]:
    """Every week from the first one whose scheduled send time is at or before ``now`` (naive = UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    week = first_week(store, settings)
    out: list[Week] = []
    while week is not None and due_at(week, settings) <= now:
        out.append(week)
        week = week.next()
    return out


def send_week(store: Store, smtp: SmtpSettings, settings: DigestSettings, week: Week, now: datetime, *,
              recipients: tuple[str, ...] | None = None, resend: bool = False,
              digest: Digest | None = None) -> list[SendResult]:
    """Send one week to each recipient not yet in the ledger (all of them again with ``resend``)."""
    ledger = Ledger(store)
    digest = digest or build_digest(store, week, settings)
    results = []
    for recipient in recipients if recipients is not None else settings.recipients:
        view = view_for(digest, recipient, settings)
        if not ledger.claim(week.key, recipient, view.view_name, force=resend):
            results.append(SendResult(week.key, recipient, view.view_name, "skipped",
                                      error=f"already {ledger.status(week.key, recipient)}"))
            continue
        msg = compose(smtp, recipient, subject(view), render_text(view), render_html(view), week=week.key, now=now)
        try:
            deliver(smtp, msg, recipient)
        except SendError as exc:
            ledger.fail(week.key, recipient, str(exc))
            log.error("%s", exc)
            results.append(SendResult(week.key, recipient, view.view_name, "failed", error=str(exc)))
            continue
        except BaseException as exc:  # leave no claim behind for errors we did not expect (Ctrl-C, bugs)
            ledger.fail(week.key, recipient, f"interrupted: {exc!r}")
            raise
        ledger.confirm(week.key, recipient, msg["Message-ID"], view.marking_line, len(view.items()), view.withheld)
        log.info("digest %s sent to %s (%s view, %s)", week.key, recipient, view.view_name, msg["Message-ID"])
        results.append(SendResult(week.key, recipient, view.view_name, "sent", msg["Message-ID"], view.marking_line))
    return results


def send_due_digests(store: Store, smtp: SmtpSettings, settings: DigestSettings, now: datetime,
                     only: tuple[str, ...] | None = None) -> list[SendResult]:
    """Send every due week not yet sent to each recipient (or to ``only`` these). Returns what was sent or failed.

    Safe to call as often as you like: the ledger makes a second call a no-op.
    """
    if not settings.recipients:
        return []
    ledger = Ledger(store)
    for row in ledger.stuck():
        log.warning("digest %s to %s was interrupted while sending (claimed %s): delivery unknown, not retried; "
                    "check and use `cru digest --week %s --send --resend` if it never arrived",
                    row.week, row.recipient, row.claimed_at, row.week)
    results: list[SendResult] = []
    for week in due_weeks(store, settings, now):
        pending = tuple(r for r in (only or settings.recipients) if ledger.status(week.key, r) in (None, "failed"))
        if pending:
            results.extend(r for r in send_week(store, smtp, settings, week, now, recipients=pending)
                           if r.status != "skipped")
    return results
