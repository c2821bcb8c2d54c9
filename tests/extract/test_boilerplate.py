"""Disclaimer and signature removal keeps the content."""

from __future__ import annotations

import pytest

from parsers.cru.boilerplate import strip_boilerplate

DISCLAIMERS = [
    "This e-mail and any attachments are intended solely for the addressee and may be privileged. "
    "If you have received this e-mail in error please delete it.",
    "This message is confidential and may also be legally privileged. Thank you.",
    "If you are not the intended recipient please notify the sender.",
    "All communications may be monitored or recorded.",
    "DISCLAIMER: views or opinions expressed are those of the author.",
]


@pytest.mark.parametrize("disclaimer", DISCLAIMERS)
def test_disclaimers_removed(disclaimer: str) -> None:
    text = f"Dear All,\n\nThe content stays.\n\n{disclaimer}\n\nAfter the disclaimer."
    out = strip_boilerplate(text)
    assert disclaimer not in out
    assert "The content stays." in out
    assert "After the disclaimer." in out


@pytest.mark.parametrize(
    "prose",
    [
        "The applicant asked whether the information is confidential.",
        "The intended recipient of the letter was the Chief Constable.",
        "Calls to the unit may be monitored for training, the applicant says; please disclose the policy.",
        "If you are not sure, contact the CRU.",
    ],
)
def test_prose_kept(prose: str) -> None:
    text = f"Dear All,\n\n{prose}\n\nEnd."
    assert prose in strip_boilerplate(text)


def test_signature_removed_sign_off_kept() -> None:
    text = (
        "Dear All,\n\nPlease NCND.\n\nKind regards,\n\nJane Smith\nFOI Officer\nInformation Unit\n"
        "PO Box 1, Town. AB1 2CD\nTel: 01234 567890\njane@example.police.uk\n\n\n\nNext paragraph stays."
    )
    out = strip_boilerplate(text)
    assert "Please NCND." in out
    assert "Kind regards," in out
    for gone in ("Jane Smith", "FOI Officer", "PO Box", "01234", "jane@"):
        assert gone not in out
    assert "Next paragraph stays." in out


@pytest.mark.parametrize(
    "after",
    [
        "CRU Advice\nMaintain NCND.",
        "From: Someone\nSent: 1 January 2025\nSubject: older",
        "-----Original Message-----\nolder",
        "OFFICIAL - SENSITIVE",
        "Applicants Request\nQ?",
    ],
)
def test_signature_stops_at_structure(after: str) -> None:
    text = f"Text.\n\nRegards\nJane\n{after}"
    out = strip_boilerplate(text)
    assert "Jane" not in out
    assert after in out


def test_long_prose_after_sign_off_kept() -> None:
    prose = "This is a long paragraph of real content that continues well beyond the length of any signature line."
    out = strip_boilerplate(f"Thanks\n{prose}")
    assert prose in out


def test_empty() -> None:
    assert strip_boilerplate("") == ""


# --- seeds -----------------------------------------------------------------------------------


def test_seed_circulation_keeps_request(circulation_email) -> None:
    out = strip_boilerplate(circulation_email.body)
    assert "This email contains information which is confidential" not in out
    assert "Referral Officer" not in out
    assert "PO Box" not in out
    assert "@npfdu.police.uk" not in out
    assert "OFFICIAL - SENSITIVE\nPOLICE EYES ONLY" in out
    assert "Log Number:995/24" in out
    # The applicant's request survives intact.
    start = circulation_email.body.index("Applicants Request")
    end = circulation_email.body.index("Kind regards,", start)
    assert circulation_email.body[start:end].strip() in out


def test_seed_update_keeps_advice(update_email) -> None:
    out = strip_boilerplate(update_email.body)
    start = update_email.body.index("Apologies for having")
    end = update_email.body.index("Kind regards,", start)
    advice = update_email.body[start:end].strip()
    # The advice keeps its wording; only runs of blank lines may be collapsed.
    assert " ".join(advice.split()) in " ".join(out.split())
    assert "Referral Officer" not in out


def test_seed_157_keeps_request_and_advice(log157_email) -> None:
    out = strip_boilerplate(log157_email.body)
    body = log157_email.body
    request = body[body.index("Applicants Request") : body.index("CRU Advice")].strip()
    advice = body[body.index("CRU Advice") : body.index("Kind regards,")].strip()
    assert request in out
    assert advice in out
    assert "This email contains information which is confidential" not in out
    assert "npfd@" not in out


def test_seed_000_unchanged_content(seed000: str) -> None:
    out = strip_boilerplate(seed000)
    assert "I have today decided to disclose some information to you." in out
    assert "Between 2017 and July 2021" in out
