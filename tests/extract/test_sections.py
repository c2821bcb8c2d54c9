"""Sections of a CRU message, form fields, circulation date, force names and message kind."""

from __future__ import annotations

import datetime as dt

import pytest

from parsers.cru.sections import Sections, classify_kind, extract_sections, normalise_force

CIRCULATION = """OFFICIAL - SENSITIVE

Dear All,

The following FOI request has been logged today. Advice will follow.

Log Number:12/25
Case worker: S38(1)(b)
Logged with:Met
Sent from: Kent Police

{heading}

Please tell me how many drones you own.

Thank you for your time.

Kind regards,

Officer
Unit
"""


@pytest.mark.parametrize(
    "heading",
    [
        "Applicants Request",
        "Applicant's Request",
        "Applicant’s Request",
        "APPLICANTS REQUEST",
        "Request:",
        "**Applicants Request**",
    ],
)
def test_applicant_request_headings(heading: str) -> None:
    sections = extract_sections("Log No.12/25 CRU Circulation (03/02/2025)", CIRCULATION.format(heading=heading))
    assert sections.applicant_request == "Please tell me how many drones you own.\n\nThank you for your time."
    assert sections.advice is None
    assert sections.logged_with == "Metropolitan Police Service"
    assert sections.case_worker is None
    assert sections.sent_from == "Kent Police"
    assert sections.circulation_date == dt.date(2025, 2, 3)


def test_applicant_request_inline_and_stops() -> None:
    body = "Applicant's Request: How many cars?\nAnd vans?\nCRU Advice\nDisclose.\nRegards\nX"
    sections = extract_sections("", body)
    assert sections.applicant_request == "How many cars?\nAnd vans?"
    assert sections.advice == "Disclose."


@pytest.mark.parametrize(
    "stop",
    [
        "Kind regards,",
        "Regards",
        "Many thanks",
        "Best wishes",
        "Yours sincerely",
        "-----Original Message-----",
        "From: A Person",
    ],
)
def test_request_stops(stop: str) -> None:
    body = f"Applicants Request\n\nQuestion one.\n\n{stop}\nmore"
    assert extract_sections("", body).applicant_request == "Question one."


@pytest.mark.parametrize("heading", ["CRU Advice", "Advice:", "ADVICE", "NPCC Advice", "**CRU Advice**"])
def test_advice_headings(heading: str) -> None:
    body = f"Applicants Request\nQ?\n\n{heading}\n\nMaintain NCND.\n\nKind regards,\nX"
    sections = extract_sections("Log No.1/25 CRU Circulation (01/01/2025) - Including Advice", body)
    assert sections.applicant_request == "Q?"
    assert sections.advice == "Maintain NCND."


def test_advice_will_follow_is_not_advice() -> None:
    body = "Dear All,\n\nThe CRU advice will follow in due course.\n\nApplicants Request\nQ?\n\nKind regards,"
    assert extract_sections("Log No.1/25 CRU Circulation (01/01/2025)", body).advice is None


def test_prose_advice_in_update() -> None:
    body = (
        "OFFICIAL\n\nDear All,\n\nThe stance is to NCND via s31(3).\n\nThanks for waiting.\n\nKind regards,\n\nX\n\n"
        "From: CRU\nSent: 1 January 2025\nSubject: Log No.1/25\n\nApplicants Request\nQ?\n\nCRU Advice\nOld advice.\n"
    )
    sections = extract_sections("Update to - RE: Log No.1/25 CRU Circulation (01/01/2025)", body)
    assert sections.advice == "The stance is to NCND via s31(3).\n\nThanks for waiting."
    assert sections.applicant_request == "Q?"


def test_quoted_advice_used_when_own_part_has_none() -> None:
    body = "Please see below.\n\nFrom: CRU\nSent: 1 January 2025\n\nCRU Advice\nOld advice.\n\nRegards"
    assert extract_sections("FW: Log No.1/25", body).advice == "Old advice."


def test_prose_advice_without_greeting_skips_marking() -> None:
    body = "OFFICIAL\nNot to be distributed outside the police\n\nMaintain NCND as before.\n\nRegards\nX"
    assert extract_sections("Advice", body).advice == "Maintain NCND as before."


def test_plain_message_has_no_advice() -> None:
    assert extract_sections("Lunch", "Dear All,\n\nLunch is at noon.\n\nRegards") == Sections()


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Cambridgeshire Constabulary", "Cambridgeshire Constabulary"),
        ("Cambs", "Cambridgeshire Constabulary"),
        ("National", "National"),
        ("national", "National"),
        ("Met", "Metropolitan Police Service"),
        ("MPS", "Metropolitan Police Service"),
        ("Metropolitan Police", "Metropolitan Police Service"),
        ("The Metropolitan Police Service", "Metropolitan Police Service"),
        ("Thames Valley", "Thames Valley Police"),
        ("TVP", "Thames Valley Police"),
        ("Avon & Somerset", "Avon and Somerset Police"),
        ("Avon and Somerset Constabulary", "Avon and Somerset Police"),
        ("Devon & Cornwall", "Devon and Cornwall Police"),
        ("Dyfed Powys", "Dyfed-Powys Police"),
        ("Hampshire Constabulary", "Hampshire and Isle of Wight Constabulary"),
        ("PSNI", "Police Service of Northern Ireland"),
        ("Police Scotland", "Police Scotland"),
        ("BTP", "British Transport Police"),
        ("British Transport Police", "British Transport Police"),
        ("CNC", "Civil Nuclear Constabulary"),
        ("MOD Police", "Ministry of Defence Police"),
        ("MDP", "Ministry of Defence Police"),
        ("City of London", "City of London Police"),
        ("west yorkshire police", "West Yorkshire Police"),
        ("  Some   Agency  ", "Some Agency"),
        ("Home Office", "Home Office"),
    ],
)
def test_normalise_force(written: str, canonical: str) -> None:
    assert normalise_force(written) == canonical


@pytest.mark.parametrize(
    ("subject", "body", "expected"),
    [
        ("Log No.1/24 CRU Circulation (12/11/2024)", "", dt.date(2024, 11, 12)),
        ("Log No.1/24 CRU Circulation (12/11/24)", "", dt.date(2024, 11, 12)),
        ("Log No.1/24 CRU Circulation (31/02/2024)", "", None),
        ("Log No.1/24 CRU Circulation (12/13/2024)", "", None),
        ("", "Log No.1/24 CRU Circulation (01/12/2024) - OS", dt.date(2024, 12, 1)),
        ("", "Date circulated: 05/06/2023", dt.date(2023, 6, 5)),
        ("", "Date circulated: 5th June 2023", dt.date(2023, 6, 5)),
        ("", "Date circulated: 5 Jun 23", dt.date(2023, 6, 5)),
        ("", "Date circulated: soon", None),
        ("", "circulated 12/11/2024", None),
        ("no date", "", None),
    ],
)
def test_circulation_date(subject: str, body: str, expected: dt.date | None) -> None:
    assert extract_sections(subject, body).circulation_date == expected


@pytest.mark.parametrize(
    ("subject", "body", "attachments", "kind"),
    [
        ("Update to - RE: Log No.1/24 CRU Circulation (12/11/2024)", "CRU Advice\nx", (), "update"),
        ("Update: Log No.1/24", "", (), "update"),
        ("IR Advice Log No.1/24 CRU Circulation", "", (), "internal_review"),
        ("Internal review - Log No.1/24", "", (), "internal_review"),
        ("Log No.1/24 CRU Circulation (12/11/2024) - Including Advice", "", (), "advice"),
        ("RE: Log No.1/24", "Text\nCRU Advice\nNCND", (), "advice"),
        ("Log No.1/24 CRU Circulation (12/11/2024)", "Applicants Request\nQ?", (), "circulation"),
        ("Log No.1/24 CRU Circulation (12/11/2024)", "Log Number: 1/24\nLogged with: National", (), "circulation"),
        ("FOI", "Freedom of information request reference no: 01.FOI.22.000001", (), "force_response"),
        ("FOI", "I note you seek access to the following information:", (), "force_response"),
        ("FOI", "This response therefore serves as a Refusal Notice under Section 17", (), "force_response"),
        ("FOI", "I have today decided to disclose the information to you.", (), "force_response"),
        (
            "FW: thing",
            "see attached",
            ("IR Advice Log No.00175022 CRU Circulation (29112022) .msg",),
            "internal_review",
        ),
        ("FW: thing", "see attached", ("Log No.99524 CRU Circulation (12112024).msg",), None),
        ("Lunch", "Lunch at noon", (), None),
        ("Their Heir IRA", "", (), None),
    ],
)
def test_classify_kind(subject: str, body: str, attachments: tuple[str, ...], kind: str | None) -> None:
    assert classify_kind(subject, body, attachments) == kind


# --- seeds -----------------------------------------------------------------------------------


def test_seed_update(update_email) -> None:
    sections = extract_sections(update_email.subject, update_email.body)
    assert sections.advice is not None
    assert sections.advice.startswith("Apologies for having to wait")
    assert sections.advice.endswith("balance test favours neither confirming nor denying that information is held.")
    assert "Kind regards" not in sections.advice
    assert "Referral Officer" not in sections.advice
    assert sections.applicant_request is None
    assert sections.circulation_date == dt.date(2024, 11, 12)
    assert classify_kind(update_email.subject, update_email.body, update_email.attachments) == "update"


def test_seed_update_with_quote(update_with_quote) -> None:
    sections = extract_sections(update_with_quote.subject, update_with_quote.body)
    assert sections.advice is not None
    assert sections.advice.startswith("Apologies for having to wait")
    assert "Applicants Request" not in sections.advice
    assert sections.applicant_request is not None
    assert sections.applicant_request.startswith("I'm writing to you under the Freedom of Information Act")
    assert sections.logged_with == "Cambridgeshire Constabulary"


def test_seed_circulation(circulation_email) -> None:
    sections = extract_sections(circulation_email.subject, circulation_email.body)
    assert sections.applicant_request is not None
    assert sections.applicant_request.startswith("I'm writing to you under the Freedom of Information Act")
    assert sections.applicant_request.endswith("can I have the minutes of these meetings please.")
    assert sections.advice is None
    assert sections.logged_with == "Cambridgeshire Constabulary"
    assert sections.case_worker is None
    assert sections.sent_from is None
    assert sections.circulation_date == dt.date(2024, 11, 12)
    assert classify_kind(circulation_email.subject, circulation_email.body) == "circulation"


def test_seed_157(log157_email) -> None:
    sections = extract_sections(log157_email.subject, log157_email.body)
    assert sections.applicant_request is not None
    assert sections.applicant_request.startswith("I'm seeking copies")
    assert sections.applicant_request.endswith("'Maximum Transparency by Default'\".")
    assert sections.advice is not None
    assert sections.advice.startswith("Practitioners may recall the advice to maintain NCND")
    assert sections.advice.endswith("by which forces.")
    assert sections.logged_with == "National"
    assert sections.circulation_date == dt.date(2025, 3, 21)
    assert classify_kind(log157_email.subject, log157_email.body, log157_email.attachments) == "advice"


def test_seed_000(seed000: str) -> None:
    assert classify_kind("", seed000) == "force_response"


def test_a_force_response_quoting_the_request_yields_it_up_to_the_decision() -> None:
    body = (
        "Good afternoon,\n\nFor information, please see below our final response on CRU 77/25.\n\n"
        "Kind regards,\n\nInformation Rights\n\n"
        "I note you seek access to the following information:\n\n"
        "Does the force hold any contract with Acme Analytics?\n\n"
        "If so, what did it cost?\n\n"
        "I have today decided to disclose the information to you.\n\n"
        "Reason for decision\n\nThe information is not exempt.\n"
    )
    s = extract_sections("RE: Log No.77/25 CRU Circulation (01/02/2025) - Acme", body)
    assert s.applicant_request == "Does the force hold any contract with Acme Analytics?\n\nIf so, what did it cost?"


def test_a_request_that_mentions_a_decision_mid_line_is_not_cut() -> None:
    body = "Applicants Request\n\nPlease tell me why you have decided to close the front counter.\n\nKind regards\n"
    s = extract_sections("Log No.78/25 CRU Circulation (01/02/2025) - Estates", body)
    assert s.applicant_request == "Please tell me why you have decided to close the front counter."
