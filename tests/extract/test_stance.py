"""Stance of advice or a response: NCND, partial NCND, confirm and exempt, disclose, conditional."""

from __future__ import annotations

import pytest

from parsers.cru.stance import STANCES, extract_stance

CONDITIONAL = """In brief, the approach is:

- if your force has published its use of the product then you can confirm information is held and exempt it
  via s21, providing a link. A partial NCND s31(3) will also be required for covert use.
- If your force has not acknowledged use of the product then a full NCND is required via s31(3) and s24(2).
"""


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        (CONDITIONAL, "conditional"),
        ("Questions 1 and 2 can be answered in full.", "disclose"),
        ("The figures were provided in full last year and should be again.", "disclose"),
        ("The question was not answered in full.", None),
        (
            "Where a force has disclosed its contract, confirm it is held and exempt under s21. "
            "Where a force has not, neither confirm nor deny under s31(3).",
            "conditional",
        ),
        ("Forces should neither confirm nor deny whether the information is held.", "full_ncnd"),
        ("The advice is to NCND via s24(2) and s31(3).", "full_ncnd"),
        ("Practitioners may recall the advice to maintain NCND for the earlier log.", "full_ncnd"),
        ("A full NCND is required.", "full_ncnd"),
        ("Forces should apply a partial NCND.", "partial_ncnd"),
        ("Partially NCND the remainder under s31(3).", "partial_ncnd"),
        (
            "I have today decided to disclose some information to you. This request also requires the force "
            "to Neither Confirm nor Deny whether it holds any further information.",
            "partial_ncnd",
        ),
        (
            "Forces can confirm information is held and exempt it via s21 with a link to the website.",
            "confirm_and_exempt",
        ),
        ("Confirm held, but the information is exempt under section 43(2).", "confirm_and_exempt"),
        ("Forces should disclose the information requested.", "disclose"),
        ("The figures can be disclosed in full.", "disclose"),
        ("Please provide the information to the applicant.", "disclose"),
        # negations and unclear text
        ("There is no need to NCND this request; forces should disclose the information.", "disclose"),
        ("NCND is not appropriate here. Forces should disclose the information.", "disclose"),
        ("The information should not be disclosed.", None),
        ("Please let us know if you have received it. Advice will follow.", None),
        ("Please disclose the information except personal data exempt under s40(2).", None),
        ("", None),
        ("if your force has a policy, tell us", None),
    ],
)
def test_stance(text: str, stance: str | None) -> None:
    assert extract_stance(text) == stance


def test_stances_constant() -> None:
    assert set(STANCES) == {"full_ncnd", "partial_ncnd", "confirm_and_exempt", "disclose", "conditional"}


# --- seeds -----------------------------------------------------------------------------------


def test_seed_update_is_conditional(update_email) -> None:
    assert extract_stance(update_email.body) == "conditional"


def test_seed_157_maintains_ncnd(log157_email) -> None:
    advice = log157_email.body.split("CRU Advice", 1)[1].split("Kind regards", 1)[0]
    assert extract_stance(advice) == "full_ncnd"


def test_seed_circulation_has_no_stance(circulation_email) -> None:
    own = circulation_email.body.split("Applicants Request", 1)[0]
    assert extract_stance(own) is None


def test_seed_000_partial(seed000: str) -> None:
    assert extract_stance(seed000) == "partial_ncnd"
