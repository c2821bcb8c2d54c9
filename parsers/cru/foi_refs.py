"""Forces' and the NPCC's own FOI reference numbers.

Why: a force's reply quotes its own reference (``01.FOI.22.027525`` at the
MPS, ``FOI 0720-2024/25`` at North Yorkshire, ``FOI24725`` at South Wales,
``2300/2025`` at the NPCC), not the CRU log number. Those references link a
published response back to the circulation it answered, so they are kept as
written.

Each scheme has a distinctive shape, except the NPCC's ``NNNN/YYYY``, which
is only taken after a "FOI"/"reference"/"Ref" cue. Whatever follows a cue is
rejected when it is a CRU log number (``995/24``), a date, a year, or has too
few digits to be a reference.
"""

from __future__ import annotations

import re

__all__ = ["extract_foi_refs"]

# MPS style: 01.FOI.22.027525
_DOTTED = re.compile(r"(?<![\w.])\d{1,3}\.FOI\.\d{2}\.\d{3,8}(?![\w])", re.IGNORECASE)
# FOI-prefixed: FOI24725, FOI 0720-2024/25, FOI-12345, FOI/2023/00123, FOI 2023-1234
_PREFIXED = re.compile(
    r"(?<![\w.])FOI[ \-/_]?(?:"
    r"(?P<year>(?:19|20)\d{2})[\-/](?P<seq>\d{2,6})"
    r"|(?P<num>\d{3,8})(?P<suffix>[\-/](?:19|20)\d{2}(?:/\d{2})?)?"
    r")(?![\d/]|-\d)",
    re.IGNORECASE,
)
# A cue and the token after it: "reference no: X", "Our Ref: X", "FOI ref X", "Request ref. X".
_CUED = re.compile(
    r"\b(?:ref(?:erence)?s?|FOI)\b\.?(?:[ \t]*+(?:no|number|num)\b\.?)?[ \t]*+(?:[:#.\-][ \t]*+)?"
    r"(?=(?P<token>[A-Za-z0-9][A-Za-z0-9./\-_]{1,40}))",  # lookahead: a rejected token is not consumed
    re.IGNORECASE,
)
_LOG = re.compile(r"\d{1,6}/\d{2}")
_DATE = re.compile(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}")
_YEAR = re.compile(r"(?:19|20)\d{2}(?:[/\-]\d{2})?")
_NPCC = re.compile(r"\d{2,6}/(?:19|20)\d{2}")


def _acceptable_cued(token: str) -> bool:
    if sum(ch.isdigit() for ch in token) < 4:
        return False
    if _LOG.fullmatch(token) or _DATE.fullmatch(token) or _YEAR.fullmatch(token):
        return False
    if _NPCC.fullmatch(token):
        return True
    # Other cued tokens must look like a reference scheme: letters + digits, or digits with separators.
    has_alpha = any(ch.isalpha() for ch in token)
    has_sep = any(ch in "./-_" for ch in token)
    return has_alpha or has_sep or len(token) >= 5


def extract_foi_refs(text: str) -> tuple[str, ...]:
    """FOI reference numbers in ``text``, as written, de-duplicated, in order of appearance."""
    candidates: list[tuple[int, int, str]] = []
    for m in _DOTTED.finditer(text):
        candidates.append((m.start(), m.end(), m.group(0)))
    for m in _PREFIXED.finditer(text):
        num = m.group("num")
        if num is not None and m.group("suffix") is None and _YEAR.fullmatch(num):
            continue  # "FOI 2000" is the Act, not a reference
        candidates.append((m.start(), m.end(), m.group(0)))
    for m in _CUED.finditer(text):
        token = m.group("token").rstrip("./-_")
        if _acceptable_cued(token):
            candidates.append((m.start("token"), m.start("token") + len(token), token))
    candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    accepted: list[tuple[int, int, str]] = []
    for start, end, token in candidates:
        if any(start < a_end and a_start < end for a_start, a_end, _ in accepted):
            continue
        accepted.append((start, end, token))
    return tuple(dict.fromkeys(token for _, _, token in accepted))
