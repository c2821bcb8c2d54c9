"""Outlook reply-chain splitting (pure)."""

from __future__ import annotations

from datetime import datetime

import pytest

from parsers.chains import parse_sent, split_chain


def test_seed_update_splits_into_three_messages(seed_update_text: str) -> None:
    segments = split_chain(seed_update_text)
    subjects = [s.header.subject for s in segments if s.header]
    assert subjects[0].startswith("Update to - RE: Log No.995/24")
    assert subjects[1] == "Log No.995/24 CRU Circulation (12/11/2024) - S38(1)(b) - Palantir - OS"
    assert subjects[2].startswith("Log No.157/25")
    # The quoted 12 Nov circulation carries its own request, not the update's text.
    assert "Applicants Request" in segments[1].text
    assert "The decision taken" not in segments[1].text
    assert segments[1].header.sent == datetime.fromisoformat("2024-11-12T10:26:00+00:00")
    # Attachment names listed in a printed header block survive, unescaped.
    assert "IR Advice Log No.00175022 CRU Circulation (29112022) .msq" in segments[0].header.attachments


def test_original_message_marker_and_to_cc() -> None:
    text = (
        "Thanks, noted.\n\n-----Original Message-----\nFrom: Alice <a@example.police.uk>\n"
        "Sent: Tuesday, November 12, 2024 10:26 AM\nTo: FOI <foi@example.police.uk>\nCc: B\n"
        "Subject: RE: Log No.1/24 CRU Circulation\n\nOriginal text\n"
    )
    top, quoted = split_chain(text)
    assert top.header is None and top.text == "Thanks, noted."
    assert quoted.header.subject == "RE: Log No.1/24 CRU Circulation"
    assert quoted.header.to == "FOI <foi@example.police.uk>"
    assert quoted.text == "Original text"


def test_one_line_header_from_flattened_html() -> None:
    text = "Reply\nFrom: A Sent: 01 March 2023 09:00 To: B Subject: Log No.12/23 CRU Circulation\nBody"
    segments = split_chain(text)
    assert len(segments) == 2
    assert segments[1].header.subject == "Log No.12/23 CRU Circulation"


@pytest.mark.parametrize(
    "text",
    [
        "From: the applicant I received a letter\nSent: by post\n",  # no Subject: not a header block
        "From: me\n\nSubject: hello",  # blank line before Subject
        "Please see the email from: the CRU\nSent: yesterday\n",
        "",
    ],
)
def test_prose_is_not_split(text: str) -> None:
    assert len(split_chain(text)) == 1


def test_nested_chain_keeps_order() -> None:
    parts = ["newest"]
    for n in range(3):
        parts.append(f"From: P{n}\nSent: 0{n + 1} May 2024 10:00\nSubject: RE: thing {n}\n\nbody {n}")
    segments = split_chain("\n\n".join(parts))
    assert [s.text for s in segments] == ["newest", "body 0", "body 1", "body 2"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12 November 2024 10:26", "2024-11-12T10:26:00+00:00"),
        ("Monday, 1 July 2024 09:00", "2024-07-01T09:00:00+01:00"),  # BST
        ("03/06/2024 14:00", "2024-06-03T14:00:00+01:00"),  # day first
        ("not a date at all", None),
    ],
)
def test_parse_sent(value: str, expected: str | None) -> None:
    got = parse_sent(value)
    assert (got.isoformat() if got else None) == expected
