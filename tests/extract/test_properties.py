"""Property tests: no extractor raises on arbitrary text, and pathological inputs finish.

Timings are not asserted; a regex with catastrophic backtracking would make
the pathological cases hang, which the suite's own run time exposes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.cru import (
    CruFields,
    canonical_log,
    classify_kind,
    extract_cru_fields,
    extract_exemptions,
    extract_foi_refs,
    extract_log_numbers,
    extract_marking,
    extract_sections,
    extract_stance,
    highest,
    parse_log_filename,
    strip_boilerplate,
)
from parsers.cru.markings import Marking

SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

# Text biased towards the tokens the extractors look for, so the properties exercise the regexes.
_FRAGMENTS = [
    "Log No.",
    "Log Number:",
    "CRU ref ",
    "Case Nos ",
    "995/24",
    "000088/15",
    "12/11/2024",
    " and ",
    ", ",
    "; ",
    "S38(1)(b)",
    "S30(c) & ",
    "Section 31",
    "(1)",
    "(a)",
    "&(b)",
    "s21",
    "**",
    " - ",
    "OFFICIAL",
    " – SENSITIVE",
    "SECRET",
    "POLICE EYES ONLY",
    "Not to be distributed outside ",
    "NCND",
    "neither confirm nor deny",
    "if your force has ",
    "partial ",
    "disclose the information",
    "FOI ",
    "01.FOI.22.",
    "Ref: ",
    "2300/2025",
    "Applicants Request",
    "CRU Advice",
    "Kind regards,",
    "From: X",
    "Case worker: ",
    "Logged with: ",
    "(12112024)",
    "\n",
    "\n\n",
    "@npfdu.police.uk",
    "MSIP_Label_a_Name=",
    "MSIP_Label_a_Enabled=True;",
]
cru_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=5)), max_size=60).map("".join),
)

EXTRACTORS: list[Callable[[str], Any]] = [
    canonical_log,
    parse_log_filename,
    extract_exemptions,
    extract_foi_refs,
    extract_stance,
    strip_boilerplate,
    lambda t: extract_log_numbers(t, t, (t,)),
    lambda t: extract_marking(t, t, {"msip_labels": t, "x-protective-marking": t}),
    lambda t: extract_sections(t, t),
    lambda t: classify_kind(t, t, (t,)),
    lambda t: extract_cru_fields(t, t, (t,), {"msip_labels": t}),
]


@SETTINGS
@given(cru_text)
def test_no_extractor_raises(text: str) -> None:
    for extractor in EXTRACTORS:
        extractor(text)


@SETTINGS
@given(cru_text, cru_text)
def test_cru_fields_shape(subject: str, body: str) -> None:
    fields = extract_cru_fields(subject, body)
    assert isinstance(fields, CruFields)
    about = set(fields.log_numbers.about)
    assert about.isdisjoint(fields.log_numbers.referenced)
    assert {r.number for r in fields.log_numbers.refs} == about | set(fields.log_numbers.referenced)
    for number in about | set(fields.log_numbers.referenced):
        assert canonical_log(number) == number
    for ex in fields.exemptions.advised + fields.exemptions.redaction_markers:
        assert ex.startswith("s")
        assert " " not in ex
    assert fields.kind in (None, "circulation", "advice", "update", "internal_review", "force_response")
    assert fields.stance in (None, "full_ncnd", "partial_ncnd", "confirm_and_exempt", "disclose", "conditional")
    assert len(fields.foi_refs) == len(set(fields.foi_refs))


@SETTINGS
@given(st.text(max_size=2000))
def test_strip_boilerplate_only_removes(text: str) -> None:
    out = strip_boilerplate(text)
    assert len(out) <= len(text)


@SETTINGS
@given(
    st.lists(
        st.builds(Marking, level=st.sampled_from([None, "OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET", "TOP SECRET"]))
    )
)
def test_highest_is_max(markings: list[Marking]) -> None:
    from parsers.cru import marking_rank

    top = highest(markings)
    assert marking_rank(top.level) == max((marking_rank(m.level) for m in markings), default=0)


_BIG = 200_000
PATHOLOGICAL = {
    "log_no": "Log No." * 5000,
    "log_no_spaced": "Log No. " * 25000,
    "s_parens": "S" + "(1)" * 5000,
    "s1_parens": "S1" + "(1)" * 5000,
    "section": "Section 31 " * 3000,
    "section_and": "section 31 and " * 12000,
    "marker_chain": "S30(c) & " * 20000,
    "case_nos": "Case Nos " + "1/14, " * 30000,
    "digits_slashes": "1/" * (_BIG // 2),
    "dashes": " - " * (_BIG // 3),
    "stars": "*" * _BIG,
    "parens": "(" * _BIG,
    "newlines": "\n" * _BIG,
    "official": "OFFICIAL - " * 20000,
    "eyes": "POLICE " * 30000 + "EYES ONLY",
    "not_to_be": "Not to be distributed " * 10000,
    "ref": "Ref: " * 40000,
    "foi": "FOI " * 50000,
    "if_force": "if your force has NCND. " * 8000,
    "kind_regards": "Kind regards,\nX\n" * 12000,
    "headings": "Applicants Request\nCRU Advice\n" * 6000,
    "long_line": "a" * _BIG,
    "msip": "MSIP_Label_" * 20000,
}

# A cue followed by a long run of blanks: overlapping optional-blank quantifiers after a cue
# backtrack quadratically on these (each found once and fixed with possessive quantifiers).
_CUES = ["CRU ref ", "Log No.", "section 31 of the", "FOI ", "reference", "OFFICIAL", "if", "where", "Case Nos "]
for _cue in _CUES:
    for _blank in (" ", "\t"):
        PATHOLOGICAL[f"run[{_cue.strip()}|{_blank!r}]"] = _cue + _blank * 50_000 + "x " + _cue


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_inputs_finish(name: str) -> None:
    text = PATHOLOGICAL[name]
    for extractor in EXTRACTORS:
        extractor(text)
