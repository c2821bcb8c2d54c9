"""Request summaries are one line and applicant-blind."""

from __future__ import annotations

from pipeline.digest.summary import request_summary, scrub, subject_topic

REQUEST = """Dear Kent Police,

My name is Jane Example and I would like to know how many body worn video cameras your force issued in 2024.
Please reply to jane.example@gmail.com or call 07700 900123. I live at 1 High Street, ME14 1XX.

Yours faithfully,

Jane Example
"""


def test_personal_data_is_removed() -> None:
    summary = request_summary(REQUEST)
    assert summary == "How many body worn video cameras your force issued in 2024."
    for leak in ("Jane", "Example", "gmail", "07700", "ME14", "Dear", "faithfully"):
        assert leak not in summary


def test_scrub() -> None:
    text = scrub("mail a.b@x.org, see https://www.whatdotheyknow.com/request/123 or +44 20 7946 0000, SW1A 1AA")
    assert "@" not in text and "whatdotheyknow" not in text and "7946" not in text and "SW1A" not in text


def test_preambles_and_length() -> None:
    assert request_summary("Under the Freedom of Information Act please could you tell me:\n\n1. How many drones "
                           "your force operated.\n2. Costs.") == "How many drones your force operated."
    long = request_summary("I would like " + "very " * 80 + "much.")
    assert len(long) <= 160 and long.endswith("…") and "\n" not in long
    assert request_summary(None) == "" and request_summary("  ") == ""


def test_subject_topic() -> None:
    assert subject_topic("Log No.995/24 CRU Circulation (12/11/2024) - S38(1)(b) - Palantir - OS") == "Palantir"
    assert subject_topic("Log No.412/24 CRU Circulation (03/06/2024) - Drones") == "Drones"
    assert subject_topic("Log No.157/25 CRU Circulation (21/03/2025) - Including Advice") == ""
    assert subject_topic("RE: FOI request") == ""
