"""extract_cru_fields: the package-level call, on written examples and on the seed emails."""

from __future__ import annotations

import datetime as dt

import parsers.cru as cru
from parsers.cru import CruFields, extract_cru_fields

PUBLIC = [
    "CruFields",
    "Exemptions",
    "LogNumbers",
    "LogRef",
    "Marking",
    "Sections",
    "canonical_log",
    "classify_kind",
    "extract_cru_fields",
    "extract_exemptions",
    "extract_foi_refs",
    "extract_log_numbers",
    "extract_marking",
    "extract_sections",
    "extract_stance",
    "highest",
    "marking_rank",
    "parse_log_filename",
    "strip_boilerplate",
]


def test_public_api_exported() -> None:
    for name in PUBLIC:
        assert hasattr(cru, name), name
        assert name in cru.__all__


def test_written_circulation_with_advice() -> None:
    subject = "Log No.42/25 CRU Circulation (03/02/2025) - S38(1)(b) - Drones - OS"
    body = (
        "OFFICIAL - SENSITIVE\nPOLICE EYES ONLY\n\n"
        "Not to be circulated outside of policing without prior authorisation\n\n"
        "Dear All,\n\nLog Number: 42/25\nCase worker: S38(1)(b)\nLogged with: Thames Valley\n\n"
        "Applicants Request\n\nI know forces usually neither confirm nor deny, but under section 31 please "
        "tell me how many drones you own.\n\n"
        "CRU Advice\n\nA similar request was made in 2023 - CRU ref 7/23. Forces can confirm information is held "
        "and exempt it via s21 with a link to the published figures.\n\nKind regards,\n\nS38(1)(b)\nUnit\n"
    )
    fields = extract_cru_fields(subject, body, ("image001.png",))
    assert isinstance(fields, CruFields)
    assert fields.log_numbers.about == ("42/25",)
    assert fields.log_numbers.referenced == ("7/23",)
    assert fields.marking.level == "OFFICIAL-SENSITIVE"
    assert fields.marking.caveats == ("POLICE EYES ONLY",)
    assert fields.sections.logged_with == "Thames Valley Police"
    assert fields.sections.circulation_date == dt.date(2025, 2, 3)
    assert fields.kind == "advice"
    # Stance and advised exemptions come from the advice, not the applicant's words.
    assert fields.stance == "confirm_and_exempt"
    assert fields.exemptions.advised == ("s21",)
    assert fields.exemptions.redaction_markers == ("s38(1)(b)",)
    assert fields.foi_refs == ()


def test_applicant_words_do_not_make_a_stance() -> None:
    body = (
        "Dear All,\n\nThe following request has been logged. Advice will follow.\n\nLog Number: 1/25\n\n"
        "Applicants Request\n\nI expect you to neither confirm nor deny under section 24(2).\n\nKind regards,\nX\n"
    )
    fields = extract_cru_fields("Log No.1/25 CRU Circulation (01/01/2025)", body)
    assert fields.kind == "circulation"
    assert fields.stance is None
    assert fields.exemptions.advised == ()


def test_seed_update(update_email, update_with_quote) -> None:
    for email in (update_email, update_with_quote):
        fields = extract_cru_fields(email.subject, email.body, email.attachments)
        assert fields.kind == "update"
        assert fields.stance == "conditional"
        assert fields.log_numbers.about == ("995/24",)
        assert "1750/22" in fields.log_numbers.referenced
        assert fields.exemptions.advised == ("s21", "s31(3)", "s24(2)")
        assert "s38(1)(b)" in fields.exemptions.redaction_markers
        assert fields.marking.level == "OFFICIAL-SENSITIVE"


def test_seed_circulation(circulation_email) -> None:
    fields = extract_cru_fields(circulation_email.subject, circulation_email.body)
    assert fields.kind == "circulation"
    assert fields.stance is None
    assert fields.exemptions.advised == ()
    assert fields.sections.logged_with == "Cambridgeshire Constabulary"


def test_seed_157(log157_email) -> None:
    fields = extract_cru_fields(log157_email.subject, log157_email.body, log157_email.attachments)
    assert fields.kind == "advice"
    assert fields.stance == "full_ncnd"
    assert fields.log_numbers.about == ("157/25",)
    assert fields.log_numbers.referenced == ("995/24",)
    assert fields.sections.logged_with == "National"
    assert fields.marking.as_written == "OFFICIAL – SENSITIVE"


def test_seed_000(seed000: str) -> None:
    fields = extract_cru_fields("", seed000)
    assert fields.kind == "force_response"
    assert fields.stance == "partial_ncnd"
    assert fields.foi_refs == ("01.FOI.22.027525",)
    assert fields.exemptions.advised == ("s24(2)", "s31(3)")
    assert fields.log_numbers.about == ()


def test_a_covering_note_gives_way_to_the_forwarded_response_below_it() -> None:
    """Stance and exemptions of a forwarded force response are read below its covering note."""
    body = (
        "Good morning,\n\nFor information, please see below our final response on CRU 88/25, sent today.\n\n"
        "Kind regards,\n\nInformation Rights\n\n"
        "I note you seek access to the following information:\n\n"
        "How many body worn cameras does the force hold?\n\n"
        "I have decided to disclose some information to you. However the force will neither confirm nor deny "
        "whether any further information is held, by virtue of Section 31(3) Law Enforcement.\n"
    )
    fields = extract_cru_fields("RE: Log No.88/25 CRU Circulation (02/02/2025) - Cameras", body)
    assert fields.stance == "partial_ncnd"
    assert "s31(3)" in fields.exemptions.advised


def test_advice_that_states_a_stance_is_not_replaced_by_the_rest_of_the_body() -> None:
    body = (
        "CRU Advice\n\nForces should neither confirm nor deny under s24(2) and s31(3).\n\n"
        "Background\n\nOne force disclosed the information in 2019.\n"
    )
    fields = extract_cru_fields("Log No.89/25 CRU Circulation (02/02/2025) - Including Advice", body)
    assert fields.stance == "full_ncnd"
