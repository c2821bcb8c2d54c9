"""Sending over a real SMTP server (aiosmtpd on 127.0.0.1): views per recipient, ledger, retries, TLS."""

from __future__ import annotations

import smtplib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from config.mail import DigestSettings, SmtpSettings
from pipeline.digest.dispatch import due_weeks, send_due_digests, send_week
from pipeline.digest.ledger import Ledger
from pipeline.digest.sender import SendError, compose, deliver
from pipeline.digest.weeks import due_at, local_date, parse_stamp, parse_week, week_of
from pipeline.store import Store
from tests.digest.conftest import FROM, PARTNER, POLICE, Handler, authenticator, free_port, server_context

LONDON = ZoneInfo("Europe/London")
MONDAY_AFTER_W50 = datetime(2024, 12, 16, 7, 30, tzinfo=LONDON)
PEO = "OFFICIAL-SENSITIVE / POLICE EYES ONLY"


def bodies(msg) -> tuple[str, str]:
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return text, html


def test_due_weeks_are_sent_once_with_the_right_views(store: Store, smtp_settings: SmtpSettings,
                                                      digest_settings: DigestSettings, smtp_server) -> None:
    handler, _ = smtp_server
    results = send_due_digests(store, smtp_settings, digest_settings, MONDAY_AFTER_W50)
    weeks = ["2024-W46", "2024-W47", "2024-W48", "2024-W49", "2024-W50"]
    assert sorted({r.week for r in results}) == weeks and all(r.status == "sent" for r in results)
    assert len(handler.messages) == 10 and all(rcpts == [m["To"]] for m, (_, rcpts) in
                                               zip(handler.messages, handler.envelopes, strict=True))
    assert {env_from for env_from, _ in handler.envelopes} == {"cru-digest@example.police.uk"}
    w50 = {m["To"]: m for m in handler.messages if m["X-Cru-Digest-Week"] == "2024-W50"}
    police, partner = w50[POLICE], w50[PARTNER]
    assert police["Subject"].startswith(PEO) and "2024-W50" in police["Subject"]
    assert police["From"] == FROM and police["Reply-To"] == "cru-team@example.police.uk"
    assert police["Message-ID"] and police["Date"] and police.get_content_type() == "multipart/alternative"
    text, html = bodies(police)
    assert "995/24" in text and "conditional" in text and "995/24" in html
    assert text.splitlines()[0] == PEO
    # restricted items reach only the allowlisted domain; the other view says how many were withheld
    assert partner["Subject"].startswith("OFFICIAL - ")
    for m in handler.to(PARTNER):
        t, h = bodies(m)
        assert "POLICE EYES ONLY" not in m["Subject"] + t + h and "995/24" not in t + h
    assert "items on 1 log were withheld" in bodies(partner)[0]
    ledger = {(r.week, r.recipient): r for r in Ledger(store).rows()}
    # (a long Message-ID may be folded in transit: compare the id itself)
    assert ledger[("2024-W50", POLICE)].message_id == police["Message-ID"].strip()
    assert ledger[("2024-W50", PARTNER)].view == "withheld" and ledger[("2024-W50", PARTNER)].marking == "OFFICIAL"
    # a second run sends nothing
    assert send_due_digests(store, smtp_settings, digest_settings, MONDAY_AFTER_W50) == []
    assert len(handler.messages) == 10


def test_not_due_before_monday_seven(store: Store, smtp_settings, digest_settings, smtp_server) -> None:
    early = datetime(2024, 12, 16, 6, 59, tzinfo=LONDON)
    assert [w.key for w in due_weeks(store, digest_settings, early)][-1] == "2024-W49"


def test_a_missed_week_is_sent_on_the_next_run(store: Store, smtp_settings, digest_settings, smtp_server) -> None:
    handler, _ = smtp_server
    send_due_digests(store, smtp_settings, digest_settings, MONDAY_AFTER_W50)
    # the worker was down on Monday 23 December; it comes back on the 30th
    results = send_due_digests(store, smtp_settings, digest_settings, datetime(2024, 12, 30, 9, 0, tzinfo=LONDON))
    assert sorted({r.week for r in results}) == ["2024-W51", "2024-W52"] and len(results) == 4
    assert len(handler.messages) == 14


def test_no_flood_on_a_fresh_store(store: Store, smtp_settings, smtp_server) -> None:
    """Without start_week, weeks before the store first ingested mail are not due, however old the mail."""
    settings = DigestSettings(recipients=(POLICE,), caveat_domains=("police.uk",))
    (stamp,) = store.db.execute("SELECT MIN(first_seen) FROM raw_mail").fetchone()
    first = week_of(local_date(parse_stamp(stamp), LONDON))
    assert due_weeks(store, settings, MONDAY_AFTER_W50) == []
    assert due_weeks(store, settings, due_at(first, settings)) == [first]
    empty = Store(":memory:")
    assert due_weeks(empty, settings, datetime(2030, 1, 1, tzinfo=LONDON)) == []


def test_4xx_is_retried_then_delivered(store: Store, smtp_settings, digest_settings, smtp_server) -> None:
    handler, _ = smtp_server
    handler.data_replies = ["451 4.3.0 Temporary local problem, try again"]
    handler.rcpt_replies = ["452 4.2.2 Mailbox full, try later"]
    results = send_week(store, smtp_settings, digest_settings, parse_week("2024-W50"), MONDAY_AFTER_W50,
                        recipients=(POLICE,))
    assert [r.status for r in results] == ["sent"] and len(handler.messages) == 1
    assert handler.attempts == 3


def test_4xx_that_persists_fails_and_is_retried_next_run(store: Store, smtp_settings, digest_settings,
                                                         smtp_server) -> None:
    handler, _ = smtp_server
    handler.rcpt_replies = ["421 4.7.0 Try again later"] * 3  # retry_attempts = 3
    [r] = send_week(store, smtp_settings, digest_settings, parse_week("2024-W50"), MONDAY_AFTER_W50,
                    recipients=(POLICE,))
    assert r.status == "failed" and POLICE in r.error and "after 3 attempts" in r.error
    assert Ledger(store).status("2024-W50", POLICE) == "failed"
    [r] = send_week(store, smtp_settings, digest_settings, parse_week("2024-W50"), MONDAY_AFTER_W50,
                    recipients=(POLICE,))
    assert r.status == "sent"


def test_5xx_names_the_recipient_and_others_still_get_theirs(store: Store, smtp_settings, digest_settings,
                                                             smtp_server) -> None:
    handler, _ = smtp_server
    handler.refuse[PARTNER] = "550 5.1.1 No such user"
    results = send_week(store, smtp_settings, digest_settings, parse_week("2024-W50"), MONDAY_AFTER_W50)
    by = {r.recipient: r for r in results}
    assert by[POLICE].status == "sent"
    assert by[PARTNER].status == "failed" and PARTNER in by[PARTNER].error and "550" in by[PARTNER].error
    assert handler.attempts == 2  # 550 is not retried
    msg = compose(smtp_settings, PARTNER, "s", "t", "<p>h</p>", week="2024-W50", now=MONDAY_AFTER_W50)
    with pytest.raises(SendError, match=PARTNER) as exc:
        deliver(smtp_settings, msg, PARTNER)
    assert exc.value.permanent and exc.value.recipient == PARTNER


def test_connection_refused_is_temporary(smtp_settings: SmtpSettings) -> None:
    dead = SmtpSettings(**{**smtp_settings.__dict__, "port": free_port()})
    msg = compose(dead, POLICE, "s", "t", "<p>h</p>", week="2024-W50", now=MONDAY_AFTER_W50)
    slept: list[float] = []
    with pytest.raises(SendError, match="after 3 attempts") as exc:
        deliver(dead, msg, POLICE, sleep=slept.append)
    assert not exc.value.permanent and slept == [0.01, 0.02]  # exponential, capped


def _tls_server(handler: Handler, tls_cert, implicit: bool) -> tuple[Controller, int]:
    port = free_port()
    if implicit:
        controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=server_context(tls_cert),
                                authenticator=authenticator("cru-digest", "s3cret"), auth_require_tls=False)
    else:
        controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=server_context(tls_cert),
                                require_starttls=True, auth_require_tls=True,
                                authenticator=authenticator("cru-digest", "s3cret"))
    controller.start()
    return controller, port


def test_starttls_with_auth_and_ca_file(store: Store, digest_settings, tls_cert, monkeypatch) -> None:
    handler = Handler()
    controller, port = _tls_server(handler, tls_cert, implicit=False)
    try:
        monkeypatch.setenv("CRU_TEST_SMTP_PASSWORD", "s3cret")
        smtp = SmtpSettings(host="127.0.0.1", port=port, security="starttls", username="cru-digest",
                            password_env="CRU_TEST_SMTP_PASSWORD", from_addr=FROM, ca_file=str(tls_cert[0]),
                            timeout=5, retry_attempts=1)
        [r] = send_week(store, smtp, digest_settings, parse_week("2025-W13"), MONDAY_AFTER_W50, recipients=(POLICE,))
        assert r.status == "sent" and "157/25" in bodies(handler.messages[0])[0]
        # a wrong password is permanent and named
        monkeypatch.setenv("CRU_TEST_SMTP_PASSWORD", "wrong")
        msg = compose(smtp, POLICE, "s", "t", "<p>h</p>", week="x", now=MONDAY_AFTER_W50)
        with pytest.raises(SendError, match="authentication failed"):
            deliver(smtp, msg, POLICE)
        # without the CA file the self-signed certificate is refused, and not retried
        untrusted = SmtpSettings(**{**smtp.__dict__, "ca_file": "", "retry_attempts": 3})
        with pytest.raises(SendError, match="TLS failure") as exc:
            deliver(untrusted, msg, POLICE, sleep=lambda s: pytest.fail("a TLS failure must not be retried"))
        assert exc.value.permanent
        # plain SMTP to a server that requires STARTTLS: AUTH is refused
        plain = SmtpSettings(**{**smtp.__dict__, "security": "none"})
        with pytest.raises(SendError, match=POLICE):
            deliver(plain, msg, POLICE)
    finally:
        controller.stop()


def test_implicit_tls_with_password_command(store: Store, digest_settings, tls_cert) -> None:
    handler = Handler()
    controller, port = _tls_server(handler, tls_cert, implicit=True)
    try:
        smtp = SmtpSettings(host="127.0.0.1", port=port, security="tls", username="cru-digest",
                            password_command="echo s3cret", from_addr=FROM, ca_file=str(tls_cert[0]), timeout=5)
        [r] = send_week(store, smtp, digest_settings, parse_week("2024-W50"), MONDAY_AFTER_W50, recipients=(POLICE,))
        assert r.status == "sent" and len(handler.messages) == 1
    finally:
        controller.stop()


def test_ledger_claim_is_exclusive(db_path: Path) -> None:
    with Store(db_path) as a, Store(db_path) as b:
        assert Ledger(a).claim("2024-W50", POLICE, "full")
        assert not Ledger(b).claim("2024-W50", POLICE, "full")  # another process is sending it
        assert Ledger(b).stuck()[0].recipient == POLICE
        Ledger(a).confirm("2024-W50", POLICE, "<m@x>", PEO, 4, 0)
        assert not Ledger(b).claim("2024-W50", POLICE, "full")
        assert Ledger(b).claim("2024-W50", POLICE, "full", force=True)  # --resend


def test_interrupted_send_is_not_retried_automatically(store: Store, smtp_settings, digest_settings,
                                                       smtp_server) -> None:
    Ledger(store).claim("2024-W50", POLICE, "full")  # a crash after claiming: delivery unknown
    results = send_due_digests(store, smtp_settings, digest_settings, MONDAY_AFTER_W50)
    assert ("2024-W50", POLICE) not in {(r.week, r.recipient) for r in results}
    assert ("2024-W50", PARTNER) in {(r.week, r.recipient) for r in results}


def test_smtplib_sanity(smtp_server) -> None:
    """The recipe's premise: smtplib delivers to the test server."""
    handler, port = smtp_server
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as s:
        s.sendmail("a@x.police.uk", ["b@y.police.uk"], b"Subject: hi\r\n\r\nbody\r\n")
    assert len(handler.messages) == 1


def test_missing_password_env_is_permanent_and_named(smtp_settings: SmtpSettings, monkeypatch) -> None:
    monkeypatch.delenv("CRU_TEST_NO_SUCH_PASSWORD", raising=False)
    smtp = SmtpSettings(**{**smtp_settings.__dict__, "username": "u", "password_env": "CRU_TEST_NO_SUCH_PASSWORD"})
    msg = compose(smtp, POLICE, "s", "t", "<p>h</p>", week="x", now=MONDAY_AFTER_W50)
    with pytest.raises(SendError, match="CRU_TEST_NO_SUCH_PASSWORD") as exc:
        deliver(smtp, msg, POLICE, sleep=lambda s: pytest.fail("not retried"))
    assert exc.value.permanent and POLICE in str(exc.value)
