"""The digest of the seed fixture weeks: the right logs, stance, markings and ages."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.mail import DigestSettings
from pipeline.digest.builder import build_digest
from pipeline.digest.render import render_text, subject
from pipeline.digest.views import most_restricted_recipient, view_for
from pipeline.digest.weeks import parse_week
from pipeline.ingest import ingest, rebuild
from pipeline.sources.local import LocalSource
from pipeline.store import Store
from tests.digest.conftest import PARTNER, POLICE

PEO = "OFFICIAL-SENSITIVE / POLICE EYES ONLY"

SYNTHETIC = """From: CRU <cru@npfdu.police.uk>
To: foi@kent.police.uk
Subject: Log No.1234/24 CRU Circulation (20/12/2024) - Body Worn Video - OFFICIAL
Date: Fri, 20 Dec 2024 11:00:00 +0000
Message-ID: <synthetic-1234-24@npfdu.police.uk>
Content-Type: text/plain; charset=utf-8

OFFICIAL

Not to be distributed outside of the Police network or other agencies without prior authorisation from the CRU

Dear All,

The following FOI request has been logged in the CRU today.

Log Number:1234/24
Logged with:Kent Police

Applicants Request

Dear Kent Police,

My name is Jane Example and I would like to know how many body worn video cameras your force issued in 2024.
Please reply to jane.example@gmail.com or call 07700 900123.

Yours faithfully,

Jane Example
"""


def test_w46_new_circulation_of_995_24(store: Store, digest_settings: DigestSettings) -> None:
    d = build_digest(store, parse_week("2024-W46"), digest_settings)
    [c] = d.circulations
    assert (c.log, c.force, str(c.received)) == ("995/24", "Cambridgeshire Constabulary", "2024-11-12")
    assert c.topic  # the classifier's topic label, else "Palantir" from the subject
    assert "Palantir Technologies" in c.summary and "\n" not in c.summary
    assert (c.marking, c.caveats) == ("OFFICIAL-SENSITIVE", ("POLICE EYES ONLY",))
    assert d.advice == ()
    [w] = d.awaiting
    assert (w.log, w.age, w.status, str(w.deadline)) == ("995/24", 3, "ok", "2024-12-10")
    assert [(li.log, li.kind, li.to_log) for li in d.links] == [("995/24", "referenced", "1750/22")]


def test_w49_flags_995_24_approaching_the_limit(store: Store, digest_settings: DigestSettings) -> None:
    [w] = build_digest(store, parse_week("2024-W49"), digest_settings).awaiting
    assert (w.log, w.age, w.status) == ("995/24", 18, "approaching")


def test_w50_update_of_995_24(store: Store, digest_settings: DigestSettings) -> None:
    d = build_digest(store, parse_week("2024-W50"), digest_settings)
    assert d.circulations == () and d.awaiting == ()
    [a] = d.advice
    assert (a.log, a.kind, a.stance, a.exemptions) == ("995/24", "update", "conditional", ("s21", "s31(3)", "s24(2)"))
    assert a.compared_with.startswith("linked log 1750/22")
    assert a.changes == ("stance unchanged (conditional)", "exemptions unchanged (s21, s31(3), s24(2))")
    assert {(li.kind, li.to_log) for li in d.links} >= {("attached", "1750/22"), ("referenced", "1750/22"),
                                                        ("update", "995/24")}
    text = render_text(view_for(d, POLICE, digest_settings))
    assert "995/24" in text and "conditional" in text and "s31(3)" in text
    assert "https://cru.example.police.uk/thread/995/24" in text


def test_w13_157_25_full_ncnd_changed_from_995_24(store: Store, digest_settings: DigestSettings) -> None:
    d = build_digest(store, parse_week("2025-W13"), digest_settings)
    assert [c.log for c in d.circulations] == ["157/25"]
    [a] = d.advice
    assert (a.log, a.stance) == ("157/25", "full_ncnd")
    assert a.compared_with.startswith("linked log 995/24")
    assert "stance changed: conditional → full NCND" in a.changes
    view = view_for(d, POLICE, digest_settings)
    assert view.marking_line == PEO
    text = render_text(view)
    assert text.splitlines()[0] == PEO and text.rstrip("\n").splitlines()[-1] == PEO
    assert "157/25" in text and "full NCND" in text and subject(view).startswith(PEO)


def test_a_link_carries_the_caveats_of_both_logs(store: Store, digest_settings: DigestSettings) -> None:
    """A link with no evidence message (e.g. a similarity score) must not leak two caveated log numbers."""
    store.db.execute("INSERT INTO log_links (from_log, to_log, kind, evidence, message_key, date) VALUES "
                     "('157/25', '995/24', 'similar', 'similar request (score 0.9)', NULL, "
                     "'2025-03-26T09:00:00+00:00')")
    d = build_digest(store, parse_week("2025-W13"), digest_settings)
    [similar] = [li for li in d.links if li.kind == "similar"]
    assert similar.caveats == ("POLICE EYES ONLY",) and similar.marking == "OFFICIAL-SENSITIVE"
    text = render_text(view_for(d, PARTNER, digest_settings))
    assert "157/25" not in text and "995/24" not in text


def test_quiet_week_is_official(store: Store, digest_settings: DigestSettings) -> None:
    view = view_for(build_digest(store, parse_week("2024-W30"), digest_settings), POLICE, digest_settings)
    assert view.items() == [] and view.marking_line == "OFFICIAL"


def test_withheld_view_says_how_many(store: Store, digest_settings: DigestSettings) -> None:
    d = build_digest(store, parse_week("2024-W50"), digest_settings)
    full, other = view_for(d, POLICE, digest_settings), view_for(d, PARTNER, digest_settings)
    assert full.full and full.withheld == 0 and len(full.items()) >= 4
    assert not other.full and other.items() == [] and other.withheld == len(full.items())
    assert other.withheld_logs == 1
    assert other.marking_line == "OFFICIAL"  # reflects only what it contains
    text = render_text(other)
    for leak in ("995/24", "1750/22", "POLICE EYES ONLY", "Palantir", "conditional", "OFFICIAL-SENSITIVE"):
        assert leak not in text, leak
    assert f"{other.withheld} items on 1 log were withheld" in text and text.splitlines()[0] == "OFFICIAL"
    assert most_restricted_recipient(digest_settings) == PARTNER


def test_empty_allowlist_gives_everyone_the_withheld_view(store: Store, digest_settings: DigestSettings) -> None:
    s = DigestSettings(recipients=(POLICE,), caveat_domains=())
    view = view_for(build_digest(store, parse_week("2025-W13"), s), POLICE, s)
    text = render_text(view)
    assert not view.full and view.withheld >= 4 and view.items() == []
    assert "157/25" not in text and "995/24" not in text


def test_christmas_ages_and_applicant_blind_summary(store: Store, digest_settings: DigestSettings,
                                                    tmp_path: Path) -> None:
    (tmp_path / "c.eml").write_text(SYNTHETIC)
    ingest(store, LocalSource([tmp_path / "c.eml"]))
    [c] = build_digest(store, parse_week("2024-W51"), digest_settings).circulations  # Fri 20 Dec 2024
    assert c.summary == "How many body worn video cameras your force issued in 2024."
    [w] = build_digest(store, parse_week("2024-W52"), digest_settings).awaiting
    assert (w.log, w.age, str(w.deadline)) == ("1234/24", 3, "2025-01-22")  # 23, 24, 27 Dec
    [w] = build_digest(store, parse_week("2025-W01"), digest_settings).awaiting
    assert w.age == 7  # + 30, 31 Dec, 2, 3 Jan (1 Jan is a bank holiday)
    [w] = build_digest(store, parse_week("2025-W04"), digest_settings).awaiting
    assert (w.age, w.status) == (22, "overdue")
    # uncaveated: the partner sees it, with no personal data of the applicant
    view = view_for(build_digest(store, parse_week("2024-W51"), digest_settings), PARTNER, digest_settings)
    text = render_text(view)
    assert "1234/24" in text and "body worn video" in text and view.marking_line == "OFFICIAL"
    for leak in ("Jane", "gmail", "07700", "Dear Kent"):
        assert leak not in text


def test_rebuild_keeps_the_ledger(store: Store) -> None:
    from pipeline.digest.ledger import Ledger

    ledger = Ledger(store)
    assert ledger.claim("2024-W50", POLICE, "full")
    ledger.confirm("2024-W50", POLICE, "<id@x>", PEO, 4, 0)
    rebuild(store)
    assert [(r.week, r.status) for r in Ledger(store).rows()] == [("2024-W50", "sent")]


@pytest.mark.parametrize("week", ["2024-W46", "2024-W50", "2025-W13"])
def test_every_seed_week_is_marked_at_both_ends(store: Store, digest_settings: DigestSettings, week: str) -> None:
    d = build_digest(store, parse_week(week), digest_settings)
    for who in (POLICE, PARTNER):
        view = view_for(d, who, digest_settings)
        lines = render_text(view).rstrip("\n").splitlines()
        assert lines[0] == lines[-1] == view.marking_line


def test_quarantine_notice_for_problems_that_week(store: Store, digest_settings: DigestSettings) -> None:
    store.db.execute("INSERT INTO quarantine (sha256, source_ref, error, at) VALUES "
                     "('abc', 'maildir:/x/jane.smith@example.com', 'bad MIME', '2024-12-10T09:00:00+00:00')")
    d = build_digest(store, parse_week("2024-W50"), digest_settings)
    assert d.quarantined == 1 and build_digest(store, parse_week("2024-W51"), digest_settings).quarantined == 0
    for who in (POLICE, PARTNER):
        text = render_text(view_for(d, who, digest_settings))
        assert "1 message could not be processed this week" in text
        assert "jane.smith" not in text and "bad MIME" not in text  # a count, not the raw details
