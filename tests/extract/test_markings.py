"""Protective markings: headers, subject, body lines and fields; ranking; the effective marking."""

from __future__ import annotations

import pytest

from parsers.cru.markings import Marking, extract_marking, highest, is_marking_line, marking_rank

RESTRICTION = (
    "Not to be distributed outside of the Police network or other agencies without prior authorisation from the unit"
)


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("OFFICIAL - SENSITIVE", "OFFICIAL-SENSITIVE"),
        ("OFFICIAL – SENSITIVE", "OFFICIAL-SENSITIVE"),
        ("OFFICIAL — SENSITIVE", "OFFICIAL-SENSITIVE"),
        ("OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE"),
        ("Official Sensitive", "OFFICIAL-SENSITIVE"),
        ("official-sensitive", "OFFICIAL-SENSITIVE"),
        ("OFFICIAL SENSITIVE", "OFFICIAL-SENSITIVE"),
        ("OFFICIAL:SENSITIVE", "OFFICIAL-SENSITIVE"),
        ("**OFFICIAL - SENSITIVE**", "OFFICIAL-SENSITIVE"),
        ("[OFFICIAL]", "OFFICIAL"),
        ("OFFICIAL", "OFFICIAL"),
        ("  OFFICIAL  ", "OFFICIAL"),
        ("PROTECT – PRIVATE", "OFFICIAL"),
        ("PROTECT", "OFFICIAL"),
        ("RESTRICTED", "OFFICIAL-SENSITIVE"),
        ("CONFIDENTIAL", "SECRET"),
        ("SECRET", "SECRET"),
        ("TOP SECRET", "TOP SECRET"),
        ("NOT PROTECTIVELY MARKED", None),
        ("Not Protectively Marked", None),
    ],
)
def test_body_marking_lines(line: str, level: str | None) -> None:
    marking = extract_marking("", f"{line}\n\nDear All,\n\nSome text.")
    assert marking.level == level
    assert marking.as_written is not None
    assert marking.source == "body"


def test_as_written_keeps_spelling() -> None:
    assert extract_marking("", "PROTECT – PRIVATE\nhello").as_written == "PROTECT – PRIVATE"
    assert extract_marking("", "OFFICIAL – SENSITIVE\nhello").as_written == "OFFICIAL – SENSITIVE"


@pytest.mark.parametrize(
    "body",
    [
        "Freedom of Information Referral Officer",
        "The official statistics are published monthly.",
        "This email contains information which is confidential and may also be privileged.",
        "Any breach of the Official Secrets Act is an offence.",
        "Official\nSecret\nRestricted\nConfidential",  # single words must be capitals
        "Access is restricted to staff.",
        "It is no secret that forces use tools.",
        "top secret plans",
        "Protective Marking:",
        "Protective Marking:   \nDear All",
        "Classification: public",
        "",
    ],
)
def test_prose_is_not_a_marking(body: str) -> None:
    marking = extract_marking("Official statistics request", body)
    assert marking.level is None
    assert marking.as_written is None


@pytest.mark.parametrize(
    ("body", "level", "as_written"),
    [
        ("Protective Marking: OFFICIAL", "OFFICIAL", "OFFICIAL"),
        ("Protective Marking: Official Sensitive", "OFFICIAL-SENSITIVE", "Official Sensitive"),
        ("Classification: OFFICIAL-SENSITIVE PERSONAL", "OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE PERSONAL"),
        ("Security Classification: restricted", "OFFICIAL-SENSITIVE", "restricted"),
        ("Protective Marking: Not Protectively Marked", None, "Not Protectively Marked"),
    ],
)
def test_marking_fields(body: str, level: str | None, as_written: str) -> None:
    marking = extract_marking("", "Dear All\n" + "text\n" * 20 + body + "\n" + "text\n" * 20)
    assert (marking.level, marking.as_written) == (level, as_written)


@pytest.mark.parametrize(
    ("subject", "level", "as_written"),
    [
        ("Log No.995/24 CRU Circulation (12/11/2024) - S38(1)(b) - Palantir - OS", "OFFICIAL-SENSITIVE", "OS"),
        ("Topic - **OS**", "OFFICIAL-SENSITIVE", "OS"),
        ("[OFFICIAL] FOI request", "OFFICIAL", "OFFICIAL"),
        ("[OFFICIAL-SENSITIVE] FOI request", "OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE"),
        ("(OFFICIAL SENSITIVE) FOI request", "OFFICIAL-SENSITIVE", "OFFICIAL SENSITIVE"),
        ("OFFICIAL-SENSITIVE: FOI request", "OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE"),
        ("RE: OFFICIAL: FOI request", "OFFICIAL", "OFFICIAL"),
        ("FOI request - OFFICIAL - SENSITIVE", "OFFICIAL-SENSITIVE", "OFFICIAL - SENSITIVE"),
        ("FOI request - RESTRICTED", "OFFICIAL-SENSITIVE", "RESTRICTED"),
    ],
)
def test_subject_markings(subject: str, level: str, as_written: str) -> None:
    marking = extract_marking(subject, "")
    assert (marking.level, marking.as_written, marking.source) == (level, as_written, "subject")


@pytest.mark.parametrize(
    "subject",
    [
        "Official statistics request",
        "Official: thing",
        "Secret Santa - plans",
        "OS maps request",
        "Request about COSTS",
        "Restricted byways - FOI",
        "Confidential informants",
    ],
)
def test_subject_look_alikes(subject: str) -> None:
    assert extract_marking(subject, "").level is None


@pytest.mark.parametrize(
    ("labels", "level"),
    [
        (
            "MSIP_Label_1f2e-aa_Enabled=True; MSIP_Label_1f2e-aa_SiteId=x; "
            "MSIP_Label_1f2e-aa_Name=OFFICIAL-SENSITIVE; MSIP_Label_1f2e-aa_Method=Privileged",
            "OFFICIAL-SENSITIVE",
        ),
        ("MSIP_Label_abc_Name=OFFICIAL; MSIP_Label_abc_Enabled=true", "OFFICIAL"),
        # Disabled labels do not count.
        ("MSIP_Label_abc_Name=SECRET; MSIP_Label_abc_Enabled=False", None),
        # Several labels: the enabled ones, highest wins.
        (
            "MSIP_Label_a_Enabled=True; MSIP_Label_a_Name=OFFICIAL; "
            "MSIP_Label_b_Enabled=True; MSIP_Label_b_Name=Official Sensitive; "
            "MSIP_Label_c_Enabled=False; MSIP_Label_c_Name=TOP SECRET",
            "OFFICIAL-SENSITIVE",
        ),
        ("garbage", None),
    ],
)
def test_msip_labels(labels: str, level: str | None) -> None:
    marking = extract_marking("", "", {"msip_labels": labels})
    assert marking.level == level
    if level:
        assert marking.source == "header"


def test_x_protective_marking_header() -> None:
    marking = extract_marking(
        "", "", {"x-protective-marking": "VER=2018.4, SEC=OFFICIAL:Sensitive, CAVEAT=SH:UK EYES ONLY"}
    )
    assert marking.level == "OFFICIAL-SENSITIVE"
    assert marking.caveats == ("UK EYES ONLY",)
    assert extract_marking("", "", {"x-protective-marking": "OFFICIAL"}).level == "OFFICIAL"


def test_caveats_descriptors_and_restriction() -> None:
    body = f"OFFICIAL-SENSITIVE PERSONAL\nPOLICE EYES ONLY\n\n{RESTRICTION}.\n\nDear All,\n\nText."
    marking = extract_marking("", body)
    assert marking.level == "OFFICIAL-SENSITIVE"
    assert marking.descriptors == ("PERSONAL",)
    assert marking.caveats == ("POLICE EYES ONLY",)
    assert marking.distribution_restriction == RESTRICTION + "."


@pytest.mark.parametrize(
    "sentence",
    [
        "Not to be circulated outside of policing without the originator's consent",
        "Not to be forwarded outside the organisation",
        "NOT TO BE DISTRIBUTED OUTSIDE THE POLICE NETWORK",
    ],
)
def test_restriction_variants(sentence: str) -> None:
    assert extract_marking("", f"Hello\n{sentence}\nBye").distribution_restriction == sentence


def test_restriction_needs_outside() -> None:
    assert extract_marking("", "Not to be distributed further.").distribution_restriction is None


def test_highest_level_wins_across_sources_and_quotes() -> None:
    body = (
        "OFFICIAL\n\nDear All,\n\nPlease see below.\n\nKind regards,\n\n"
        "From: Someone\nSent: 12 November 2024 10:26\nSubject: older\n\nSECRET\nUK EYES ONLY\n\nOlder text.\n"
    )
    marking = extract_marking("FOI - OS", body)
    assert marking.level == "SECRET"
    assert marking.source == "body"
    assert marking.caveats == ("UK EYES ONLY",)


def test_marking_deep_in_long_body_is_ignored() -> None:
    body = "\n".join(["prose line"] * 20 + ["SECRET"] + ["prose line"] * 20)
    assert extract_marking("", body).level is None


def test_header_wins_ties() -> None:
    marking = extract_marking(
        "FOI - OS",
        "OFFICIAL - SENSITIVE\nhello",
        {"msip_labels": "MSIP_Label_a_Enabled=True; MSIP_Label_a_Name=OFFICIAL-SENSITIVE"},
    )
    assert marking.source == "header"


@pytest.mark.parametrize(
    ("level", "rank"),
    [
        (None, 0),
        ("", 0),
        ("OFFICIAL", 1),
        ("OFFICIAL-SENSITIVE", 2),
        ("SECRET", 3),
        ("TOP SECRET", 4),
        ("PROTECT", 1),
        ("RESTRICTED", 2),
        ("CONFIDENTIAL", 3),
        ("nonsense", 0),
    ],
)
def test_marking_rank(level: str | None, rank: int) -> None:
    assert marking_rank(level) == rank


def test_highest_merges() -> None:
    a = Marking("OFFICIAL", "OFFICIAL", ("UK EYES ONLY",), ("PERSONAL",), None, "body")
    b = Marking(
        "OFFICIAL-SENSITIVE", "OS", ("POLICE EYES ONLY", "UK EYES ONLY"), (), "Not to be x outside y", "subject"
    )
    c = Marking(None, "NOT PROTECTIVELY MARKED", (), ("COMMERCIAL",), "second", "header")
    result = highest([a, b, c])
    assert result.level == "OFFICIAL-SENSITIVE"
    assert result.as_written == "OS"
    assert result.source == "subject"
    assert result.caveats == ("UK EYES ONLY", "POLICE EYES ONLY")
    assert result.descriptors == ("PERSONAL", "COMMERCIAL")
    assert result.distribution_restriction == "Not to be x outside y"


def test_highest_of_nothing() -> None:
    assert highest([]) == Marking()
    npm = Marking(None, "NOT PROTECTIVELY MARKED", (), (), None, "body")
    assert highest([Marking(), npm]).as_written == "NOT PROTECTIVELY MARKED"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("OFFICIAL - SENSITIVE", True),
        ("POLICE EYES ONLY", True),
        ("OFFICIAL-SENSITIVE: COMMERCIAL", True),
        ("Official statistics", False),
        ("Freedom of Information Referral Officer", False),
    ],
)
def test_is_marking_line(line: str, expected: bool) -> None:
    assert is_marking_line(line) is expected


# --- seeds -----------------------------------------------------------------------------------


def test_seed_update(update_email) -> None:
    marking = extract_marking(update_email.subject, update_email.body)
    assert marking.level == "OFFICIAL-SENSITIVE"
    assert marking.caveats == ("POLICE EYES ONLY",)
    assert marking.distribution_restriction is not None
    assert marking.distribution_restriction.startswith("Not to be distributed outside of the Police network")


def test_seed_157_en_dash(log157_email) -> None:
    marking = extract_marking("", log157_email.body)
    assert marking.level == "OFFICIAL-SENSITIVE"
    assert marking.as_written == "OFFICIAL – SENSITIVE"
    assert marking.source == "body"


def test_seed_000_has_no_marking(seed000: str) -> None:
    assert extract_marking("", seed000).level is None
