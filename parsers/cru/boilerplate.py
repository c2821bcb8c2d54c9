"""Strip email disclaimers and signature blocks, keep everything else.

Why: every CRU message and every force reply ends in a legal disclaimer and
a signature (role, unit, PO Box, phone, email). Repeated across thousands
of messages they swamp search results and digests, and signatures carry
names and contact details that should not spread. The request and the
advice must survive intact, so removal is conservative:

* a *disclaimer* is a paragraph with two or more disclaimer cues ("intended
  recipient", "may be privileged", "received this ... in error", "may be
  monitored", ...), or one cue in a paragraph that opens like a disclaimer
  ("This e-mail ...", "If you are not ...", "All communications ...");
* a *signature* is the run of short lines after a sign-off line ("Kind
  regards,", "Many thanks"), up to a gap of two blank lines, a quoted-message
  header, a section heading or field, a marking line, or a line of prose.
  The sign-off line itself is kept (it marks where a section ends).
"""

from __future__ import annotations

import re

from .markings import is_marking_line

__all__ = ["strip_boilerplate"]

_CUES = re.compile(
    r"intended[ \t]+(?:solely[ \t]+)?(?:for[ \t]+the[ \t]+)?(?:recipient|addressee|solely)"
    r"|(?:may|might)[ \t]+(?:also[ \t]+)?be[ \t]+(?:legally[ \t]+)?privileged"
    r"|\bconfidential[ \t]+and[ \t]+(?:may|might|is|are)\b"
    r"|(?:received|receive)[ \t]+this[ \t]+(?:e-?mail|message|communication)[ \t]+in[ \t]+error"
    r"|(?:is|are)[ \t]+strictly[ \t]+prohibited"
    r"|(?:may|will|might)[ \t]+be[ \t]+(?:monitored|recorded|intercepted)"
    r"|views[ \t]+(?:or|and)[ \t]+opinions[ \t]+expressed"
    r"|(?:delete|destroy)[ \t]+(?:this|the|it|any)[ \t]+(?:e-?mail|message|copies)"
    r"|free[ \t]+(?:from|of)[ \t]+(?:viruses|virus)|virus[ \t]+(?:check|scan)"
    r"|exclusive[ \t]+use[ \t]+of[ \t]+the[ \t]+addressee",
    re.IGNORECASE,
)
_OPENER = re.compile(
    r"[ \t*_]*(?:this[ \t]+e-?mail|this[ \t]+message|this[ \t]+communication"
    r"|if[ \t]+you[ \t]+(?:are[ \t]+not|have[ \t]+received)"
    r"|all[ \t]+(?:e-?mail[ \t]+)?communications|disclaimer|confidentiality[ \t]+notice"
    r"|the[ \t]+information[ \t]+(?:in|contained[ \t]+in)[ \t]+this)",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"[ \t*_]*(?:kind(?:est)?[ \t]+regards|(?:best|warm|warmest)[ \t]+(?:regards|wishes)|regards"
    r"|many[ \t]+thanks|thanks|thank[ \t]+you|yours[ \t]+(?:sincerely|faithfully|truly))[ \t]*[,.!]?[ \t*_]*",
    re.IGNORECASE,
)
_QUOTE_START = re.compile(
    r"[ \t>]*(?:-{2,}[ \t]*Original[ \t]+Message[ \t]*-{2,}|(?:From|Sent|To|Subject|Date)[ \t]*:"
    r"|On[ \t].{0,150}wrote:)",
    re.IGNORECASE,
)
# Section headings and form fields that end a signature (never part of it).
_SECTION = re.compile(
    r"[ \t*_#>]*(?:(?:CRU|NPCC)[ \t]+)?(?:Advice|Applicant(?:'|’)?s?[ \t]+Request|Request)\b"
    r"|[ \t*_>]*(?:Log[ \t]*(?:Number|No)|Case[ \t]*(?:worker|No)|Logged[ \t]+with|Sent[ \t]+from)\b",
    re.IGNORECASE,
)
_PARA_SPLIT = re.compile(r"(\n[ \t]*\n)")
_MAX_SIGNATURE_LINES = 14
#: Shorter paragraphs are never disclaimers ("All communications may be monitored." is 37).
_MIN_DISCLAIMER = 30
_MAX_SIGNATURE_LINE = 100


def _is_disclaimer(paragraph: str) -> bool:
    if len(paragraph) < _MIN_DISCLAIMER:
        return False
    cues = len(_CUES.findall(paragraph))
    if cues >= 2:
        return True
    return cues == 1 and _OPENER.match(paragraph) is not None


def _strip_disclaimers(text: str) -> str:
    parts = _PARA_SPLIT.split(text)
    kept: list[str] = []
    for i, part in enumerate(parts):
        if i % 2 == 0 and part.strip() and _is_disclaimer(part):
            continue
        kept.append(part)
    return "".join(kept)


def _signature_end(lines: list[str], start: int) -> int:
    """Index after the last signature line following a sign-off at ``start - 1``."""
    end = start
    blanks = 0
    taken = 0
    i = start
    while i < len(lines) and taken < _MAX_SIGNATURE_LINES:
        line = lines[i]
        if not line.strip():
            blanks += 1
            if blanks >= 2:
                break
            i += 1
            continue
        if (
            len(line) > _MAX_SIGNATURE_LINE
            or _QUOTE_START.match(line)
            or _SECTION.match(line)
            or _SIGN_OFF.fullmatch(line)
            or is_marking_line(line)
        ):
            break
        blanks = 0
        taken += 1
        i += 1
        end = i
    return end


def _strip_signatures(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        if len(line) <= _MAX_SIGNATURE_LINE and _SIGN_OFF.fullmatch(line):
            i = _signature_end(lines, i)
    return "\n".join(out)


def strip_boilerplate(text: str) -> str:
    """``text`` without email disclaimers and the signature blocks after sign-offs."""
    stripped = _strip_signatures(_strip_disclaimers(text))
    return re.sub(r"\n(?:[ \t]*\n){2,}", "\n\n", stripped).strip("\n")
