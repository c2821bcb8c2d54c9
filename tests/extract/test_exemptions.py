"""FOI exemptions: normal form, lists, non-exemption sections, redaction markers."""

from __future__ import annotations

import pytest

from parsers.cru.exemptions import Exemptions, extract_exemptions, is_redaction_marker


@pytest.mark.parametrize(
    ("text", "advised"),
    [
        ("Section 31(3)", ("s31(3)",)),
        ("exempt under S.31(3)", ("s31(3)",)),
        ("apply s31 (3) here", ("s31(3)",)),
        ("s.31(3)", ("s31(3)",)),
        ("S. 31(3)", ("s31(3)",)),
        ("sec 31(3)", ("s31(3)",)),
        ("exempt under S35(1)(a)&(b)", ("s35(1)(a)", "s35(1)(b)")),
        ("Section 31 (1) (a) (b)", ("s31(1)(a)", "s31(1)(b)")),
        ("sections 40(2) & (5)", ("s40(2)", "s40(5)")),
        ("section 24 and 31", ("s24", "s31")),
        ("sections 21, 24 and 31", ("s21", "s24", "s31")),
        ("Section 24(2) National Security and Section 31(3) Law Enforcement", ("s24(2)", "s31(3)")),
        ("s31(3) and s24(2)", ("s31(3)", "s24(2)")),
        ("exempt it via s21", ("s21",)),
        ("Section 12(1) cost limit", ("s12(1)",)),
        ("vexatious under section 14(1)", ("s14(1)",)),
        ("section 30(1)(a)(i)", ("s30(1)(a)(i)",)),
        ("section 30(1)(a)(i) and (ii)", ("s30(1)(a)(i)", "s30(1)(a)(ii)")),
        ("section 22A", ("s22A",)),
        ("section 40(5)(b)(i)", ("s40(5)(b)(i)",)),
        ("Section 31(1)(a)(b)", ("s31(1)(a)", "s31(1)(b)")),
        # order of first appearance, de-duplicated
        ("s24(2) then s31(3) then Section 24(2) again", ("s24(2)", "s31(3)")),
        ("Section 31 " * 5, ("s31",)),
        # duties, time limits, refusal notices, other numbers
        ("Section 1(1)(a) duty", ()),
        ("Section 1 of the Act", ()),
        ("Section 17 refusal notice", ()),
        ("section 10(1) time limit", ()),
        ("section 16 advice and assistance", ()),
        ("Section 45 code of practice", ()),
        ("Regulation 12(5)(a) EIR", ()),
        ("Reg 13 personal data", ()),
        ("it's 21 days", ()),
        ("costs 31%", ()),
        ("section 43 of the Data Protection Act 2018", ()),
        ("section 40 of the Act", ("s40",)),
        ("section 40 of the Freedom of Information Act", ("s40",)),
        ("", ()),
    ],
)
def test_advised(text: str, advised: tuple[str, ...]) -> None:
    result = extract_exemptions(text)
    assert result.advised == advised
    assert result.redaction_markers == ()


@pytest.mark.parametrize(
    ("text", "markers"),
    [
        ("S38(1)(b)", ("s38(1)(b)",)),
        ("Kind regards,\n\nS38(1)(b)\nReferral Officer", ("s38(1)(b)",)),
        ("Case worker: S38(1)(b)", ("s38(1)(b)",)),
        ("Sent from: S38(1)(b)", ("s38(1)(b)",)),
        ("S30(c) & S38(1)(b)", ("s30(c)", "s38(1)(b)")),
        ("S30(C) & S38(1)(b), S30(1)(d)&(e)", ("s30(c)", "s38(1)(b)", "s30(1)(d)", "s30(1)(e)")),
        ("S30(c) & S38(1)(b) @npfdu.police.uk", ("s30(c)", "s38(1)(b)")),
        ("**S30(c) & S38(1)(b)** [@npfd.police.uk](mailto:x@y)", ("s30(c)", "s38(1)(b)")),
        ("Log No.1/24 CRU Circulation (12/11/2024) - S38(1)(b) - Palantir - OS", ("s38(1)(b)",)),
        ("Log No.1/24 CRU Circulation (12/11/2024) - **S38(1)(b)** - Palantir - OS", ("s38(1)(b)",)),
        ("stance (CRU 1750/22 – S38(1)(b) refers).", ("s38(1)(b)",)),
        ("the link **S30(c) & S38(1)(b), S35(1)(a)&(b)**", ("s30(c)", "s38(1)(b)", "s35(1)(a)", "s35(1)(b)")),
        ("Dear S38(1)(b),", ("s38(1)(b)",)),
        ("   **S38(1)(b)**   ", ("s38(1)(b)",)),
    ],
)
def test_redaction_markers(text: str, markers: tuple[str, ...]) -> None:
    result = extract_exemptions(text)
    assert result.redaction_markers == markers
    assert result.advised == ()


@pytest.mark.parametrize(
    ("text", "advised", "markers"),
    [
        ("Case worker: S38(1)(b)\nWe advise s38(1)(b) applies.", ("s38(1)(b)",), ("s38(1)(b)",)),
        ("Exemptions: S31(3), S24(2)", ("s31(3)", "s24(2)"), ()),
        ("exempt under S31(3)", ("s31(3)",), ()),
        ("Contact **S38(1)(b)** about s40(2).", ("s40(2)",), ("s38(1)(b)",)),
        # Plain text (bold lost): a bare group with no advice wording before it is a redaction.
        (
            "I think it is reasonable to suggest that the link S30(c) & S38(1)(b), S35(1)(a)&(b)\n\n"
            "A full NCND is required via s31(3) and s24(2).",
            ("s31(3)", "s24(2)"),
            ("s30(c)", "s38(1)(b)", "s35(1)(a)", "s35(1)(b)"),
        ),
        ("We would apply S31(3) and S24(2) here.", ("s31(3)", "s24(2)"), ()),
    ],
)
def test_mixed(text: str, advised: tuple[str, ...], markers: tuple[str, ...]) -> None:
    assert extract_exemptions(text) == Exemptions(advised, markers)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("S38(1)(b)", True),
        (" S30(c) & S38(1)(b) ", True),
        ("**S38(1)(b)**", True),
        ("[REDACTED]", True),
        ("Jane Smith", False),
        ("s38(1)(b) applies", False),
        ("", False),
    ],
)
def test_is_redaction_marker(value: str, expected: bool) -> None:
    assert is_redaction_marker(value) is expected


# --- seeds -----------------------------------------------------------------------------------


def test_seed_update_advises_s21_s31_s24(update_email) -> None:
    result = extract_exemptions(update_email.subject + "\n" + update_email.body)
    assert result.advised == ("s21", "s31(3)", "s24(2)")
    for marker in ("s38(1)(b)", "s30(c)", "s35(1)(a)", "s35(1)(b)"):
        assert marker in result.redaction_markers
        assert marker not in result.advised


def test_seed_update_with_quote(update_with_quote) -> None:
    result = extract_exemptions(update_with_quote.body)
    assert result.advised == ("s21", "s31(3)", "s24(2)")


def test_seed_circulation_has_only_markers(circulation_email) -> None:
    result = extract_exemptions(circulation_email.subject + "\n" + circulation_email.body)
    assert result.advised == ()
    assert result.redaction_markers == ("s38(1)(b)", "s30(c)")


def test_seed_157_markers(log157_email) -> None:
    result = extract_exemptions(log157_email.body)
    assert result.advised == ()
    assert result.redaction_markers == ("s38(1)(b)", "s30(c)", "s30(1)(d)", "s30(1)(e)")


def test_seed_000_force_response(seed000: str) -> None:
    assert extract_exemptions(seed000).advised == ("s24(2)", "s31(3)")
