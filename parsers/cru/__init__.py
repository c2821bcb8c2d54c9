"""Pure extraction of CRU fields from message text: log numbers, markings, exemptions, sections,
kind, stance and FOI references.

Why: extraction is kept apart from parsing and storage so it can be tested on
plain strings (text in, frozen dataclass out, no I/O) and re-run over the
store whenever a rule improves. ``extract_cru_fields`` is the one call the
pipeline makes per message; the per-field functions are public for search
queries and for tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .boilerplate import strip_boilerplate
from .exemptions import Exemptions, extract_exemptions, is_redaction_marker
from .foi_refs import extract_foi_refs
from .log_numbers import LogNumbers, LogRef, canonical_log, extract_log_numbers, parse_log_filename
from .markings import Marking, extract_marking, highest, is_marking_line, marking_rank
from .sections import Sections, classify_kind, extract_sections, normalise_force
from .stance import extract_stance

__all__ = [
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
    "is_marking_line",
    "is_redaction_marker",
    "marking_rank",
    "normalise_force",
    "parse_log_filename",
    "stance_text",
    "strip_boilerplate",
]


@dataclass(frozen=True)
class CruFields:
    """Everything extracted from one message."""

    log_numbers: LogNumbers
    marking: Marking
    exemptions: Exemptions
    sections: Sections
    kind: str | None
    stance: str | None
    foi_refs: tuple[str, ...]
    #: The text stance and advised exemptions were read from (see stance_text): the stance classifier reads it too.
    stance_source: str = ""


def _without(body: str, part: str | None) -> str:
    if not part:
        return body
    return body.replace(part, "", 1)


def stance_text(advice: str | None, request: str | None, body: str) -> str:
    """The text stance and advised exemptions are read from.

    The advice when there is one, else the body without the applicant's request (an
    applicant citing "NCND" or "section 31" is not advice). When the advice is only a
    covering note ("please see below the MPS final response ...": no stance, no
    exemption), the forwarded response below it is what states the stance, so the
    body without the request is read instead.
    """
    rest = _without(body, request)
    if advice is None:
        return rest
    if extract_stance(advice) is None and not extract_exemptions(advice).advised:
        return rest
    return advice


def extract_cru_fields(
    subject: str,
    body: str,
    attachment_names: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
) -> CruFields:
    """All CRU fields of a message.

    Stance and advised exemptions are read from the advice when there is one, else from the
    body without the applicant's request (an applicant citing "NCND" or "section 31" is not
    advice). Redaction markers are collected from the subject and the whole body.
    """
    sections = extract_sections(subject, body)
    advice_text = stance_text(sections.advice, sections.applicant_request, body)
    advised = extract_exemptions(advice_text)
    everywhere = extract_exemptions(subject + "\n" + body)
    exemptions = Exemptions(advised=advised.advised, redaction_markers=everywhere.redaction_markers)
    return CruFields(
        log_numbers=extract_log_numbers(subject, body, attachment_names),
        marking=extract_marking(subject, body, headers),
        exemptions=exemptions,
        sections=sections,
        kind=classify_kind(subject, body, attachment_names),
        stance=extract_stance(advice_text),
        foi_refs=extract_foi_refs(subject + "\n" + body),
        stance_source=advice_text,
    )
