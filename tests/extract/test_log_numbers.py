"""CRU log numbers: recognition, canonical form, attachment names, about vs referenced."""

from __future__ import annotations

import datetime as dt
from dataclasses import FrozenInstanceError

import pytest

from parsers.cru.log_numbers import LogNumbers, LogRef, canonical_log, extract_log_numbers, parse_log_filename


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("995/24", "995/24"),
        ("Log No.995/24", "995/24"),
        ("Log No. 995/24", "995/24"),
        ("log number: 995/24", "995/24"),
        ("000088/15", "88/15"),
        ("CRU Case No 000088/15", "88/15"),
        ("Case No 88/15", "88/15"),
        ("CRU ref 1750/22", "1750/22"),
        ("  1750/22  ", "1750/22"),
        ("995 / 24", "995/24"),
        ("12/11/2024", None),
        ("12/11/24", None),
        ("995/2024", None),
        ("0/24", None),
        ("000/24", None),
        ("Log No.", None),
        ("", None),
        ("995/24 and 996/24", None),
        ("Vision 20/20", None),
        ("hello", None),
        ("1234567/24", None),
    ],
)
def test_canonical_log(text: str, expected: str | None) -> None:
    assert canonical_log(text) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("See Log No.995/24 for details", ("995/24",)),
        ("See Log No. 995/24 for details", ("995/24",)),
        ("Log Number:995/24", ("995/24",)),
        ("Log Number: 995/24", ("995/24",)),
        ("similar request - CRU 1750/22 refers", ("1750/22",)),
        ("a similar request in 2022 – CRU ref 1750/22.", ("1750/22",)),
        ("advice for CRU 995/24 (attached)", ("995/24",)),
        ("CRU Case No 000088/15", ("88/15",)),
        ("Case No 88/15", ("88/15",)),
        ("Case Nos 1578/14; 1606/14", ("1578/14", "1606/14")),
        ("Case Nos 1578/14, 1606/14 and 1610/14", ("1578/14", "1606/14", "1610/14")),
        ("CRU Log No: 12/25", ("12/25",)),
        ("cru reference 77/23", ("77/23",)),
        # look-alikes
        ("The Vision 20/20 camera", ()),
        ("model 20/20", ()),
        ("circulated on 12/11/2024 and 12/11/24", ()),
        ("half is 1/2 and page 1/2", ()),
        ("request 995/24 with no cue", ()),
        ("CRU Circulation (12/11/2024)", ()),
        ("Case No 12/11/2024", ()),
        ("Log No.995/245", ()),
        ("CRU 2300/2025", ()),
    ],
)
def test_body_recognition(body: str, expected: tuple[str, ...]) -> None:
    result = extract_log_numbers("", body)
    assert tuple(r.number for r in result.refs) == expected


@pytest.mark.parametrize(
    ("name", "number", "date", "ir"),
    [
        ("Log No.99524 CRU Circulation (12112024)", "995/24", dt.date(2024, 11, 12), False),
        ("IR Advice Log No.00175022 CRU Circulation (29112022) .msg", "1750/22", dt.date(2022, 11, 29), True),
        (r"IR Advice Log No.00175022 CRU Circulation \(29112022\) .msq", "1750/22", dt.date(2022, 11, 29), True),
        (
            "Update to - RE Log No.99524 CRU Circulation (12112024) - - Palantir - OS.msg",
            "995/24",
            dt.date(2024, 11, 12),
            False,
        ),
        ("Log No.15725.msg", "157/25", None, False),
        ("Log No.995_24 advice.msg", "995/24", None, False),
        ("Case No 00008815.msg", "88/15", None, False),
        ("Internal Review advice Log No.175022.msg", "1750/22", None, True),
        ("Log No.99524 CRU Circulation (121124).msg", "995/24", dt.date(2024, 11, 12), False),
    ],
)
def test_parse_log_filename(name: str, number: str, date: dt.date | None, ir: bool) -> None:
    ref = parse_log_filename(name)
    assert ref == LogRef(number=number, date=date, internal_review=ir, source="attachment")


@pytest.mark.parametrize(
    "name",
    [
        "image001.png",
        "Log No.99524 CRU Circulation (12112023).msg",  # year digits disagree with the date
        "Log No.24.msg",  # too short to hold a number and a year
        "Log No.0024.msg",
        "Palantir 20-20 review.docx",
        "",
    ],
)
def test_parse_log_filename_none(name: str) -> None:
    assert parse_log_filename(name) is None


def test_invalid_date_in_filename_is_ignored() -> None:
    ref = parse_log_filename("Log No.99524 CRU Circulation (32132024).msg")
    assert ref is not None
    assert ref.number == "995/24"
    assert ref.date is None


@pytest.mark.parametrize(
    ("subject", "body", "attachments", "about", "referenced"),
    [
        ("Log No.995/24 CRU Circulation (12/11/2024) - X - Palantir - OS", "", (), ("995/24",), ()),
        (
            "Update to - RE: Log No.995/24 CRU Circulation (12/11/2024)",
            "CRU ref 1750/22",
            (),
            ("995/24",),
            ("1750/22",),
        ),
        ("FW: question", "Dear All\nLog Number:157/25\nadvice for CRU 995/24 (attached)", (), ("157/25",), ("995/24",)),
        # No subject log, no field: a Log No./Case No cue in the first lines is the topic.
        ("FOI", "PROTECT – PRIVATE\n\nCRU Case No 000088/15\n\nSee also CRU ref 12/14", (), ("88/15",), ("12/14",)),
        ("FOI", "Case Nos 1578/14; 1606/14\nText", (), ("1578/14", "1606/14"), ()),
        # Only "CRU ref" cues: nothing qualifies as about.
        ("FOI", "a similar request - CRU ref 1750/22", (), (), ("1750/22",)),
        # A Log No. far down the body is only referenced.
        ("FOI", "\n".join(["line"] * 30) + "\nLog No.5/20", (), (), ("5/20",)),
        ("", "", ("Log No.99524 CRU Circulation (12112024).msg",), (), ("995/24",)),
        ("Log No.1/25 CRU Circulation (01/01/2025)", "", ("Log No.125.msg",), ("1/25",), ()),
    ],
)
def test_about_and_referenced(
    subject: str, body: str, attachments: tuple[str, ...], about: tuple[str, ...], referenced: tuple[str, ...]
) -> None:
    result = extract_log_numbers(subject, body, attachments)
    assert result.about == about
    assert result.referenced == referenced


def test_subject_ref_carries_circulation_date_and_source() -> None:
    result = extract_log_numbers("Log No.995/24 CRU Circulation (12/11/2024) - OS", "")
    assert result.refs == (LogRef("995/24", dt.date(2024, 11, 12), False, "subject"),)


def test_circulation_date_with_wrong_year_is_dropped() -> None:
    result = extract_log_numbers("Log No.995/24 CRU Circulation (12/11/2023)", "")
    assert result.refs[0].date is None


def test_ir_prefix_in_text() -> None:
    result = extract_log_numbers("IR Advice Log No.1750/22 CRU Circulation (29/11/2022)", "")
    assert result.refs[0].internal_review is True
    assert result.about == ("1750/22",)


def test_refs_are_deduplicated_but_sources_kept() -> None:
    result = extract_log_numbers("Log No.995/24", "Log Number:995/24\nLog Number:995/24")
    assert [r.source for r in result.refs] == ["subject", "body"]


def test_dataclasses_are_frozen() -> None:
    result = extract_log_numbers("", "")
    assert result == LogNumbers()
    with pytest.raises(FrozenInstanceError):
        result.about = ("1/24",)  # type: ignore[misc]


# --- seed 001 --------------------------------------------------------------------------------


def test_seed_update(update_email) -> None:
    result = extract_log_numbers(update_email.subject, update_email.body, update_email.attachments)
    assert result.about == ("995/24",)
    assert "1750/22" in result.referenced
    ir = [r for r in result.refs if r.source == "attachment"]
    assert ir == [LogRef("1750/22", dt.date(2022, 11, 29), True, "attachment")]


def test_seed_update_with_quote(update_with_quote) -> None:
    result = extract_log_numbers(update_with_quote.subject, update_with_quote.body, update_with_quote.attachments)
    assert result.about == ("995/24",)
    assert result.referenced == ("1750/22",)


def test_seed_circulation(circulation_email) -> None:
    result = extract_log_numbers(circulation_email.subject, circulation_email.body)
    assert result.about == ("995/24",)
    assert result.referenced == ("1750/22",)
    assert result.refs[0].date == dt.date(2024, 11, 12)


def test_seed_157(log157_email) -> None:
    result = extract_log_numbers(log157_email.subject, log157_email.body, log157_email.attachments)
    assert result.about == ("157/25",)
    assert result.referenced == ("995/24",)


def test_seed_000_force_response_has_no_logs(seed000: str) -> None:
    assert extract_log_numbers("", seed000) == LogNumbers()
