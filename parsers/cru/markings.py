"""Protective markings (Government Security Classifications) of CRU mail.

Why: CRU circulations are OFFICIAL-SENSITIVE and often carry a caveat
("POLICE EYES ONLY") and a distribution restriction. Anything built from a
message (digests, search results, exports) must carry at least the highest
marking of the message and of everything attached to or quoted in it, so the
marking is extracted from every place it can be written: the machine-set
Microsoft Purview ``msip_labels`` header and ``X-Protective-Marking``-style
headers, the subject ("... - OS", "[OFFICIAL]") and marking lines in the body.

Precision matters as much as recall: the words "official", "secret",
"restricted" and "confidential" are common in prose ("Referral Officer",
"official statistics", "Official Secrets Act", disclaimers), so a body marking
is only taken from a line that consists of the marking (near the top or
bottom of the message or of a quoted message) or from an explicit
"Protective Marking:"/"Classification:" field. Single-word tiers must be
written in capitals there; the compound OFFICIAL-SENSITIVE may be in any case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "LEVELS",
    "Marking",
    "extract_marking",
    "highest",
    "is_marking_line",
    "marking_rank",
]

OFFICIAL = "OFFICIAL"
OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE"
SECRET = "SECRET"
TOP_SECRET = "TOP SECRET"

#: Today's tiers, lowest first.
LEVELS: tuple[str, ...] = (OFFICIAL, OFFICIAL_SENSITIVE, SECRET, TOP_SECRET)
_RANK = {level: i + 1 for i, level in enumerate(LEVELS)}

# Pre-2014 Government Protective Marking Scheme (GPMS) -> today's tiers.
# The 2014 transition guidance moved most PROTECT and RESTRICTED material to
# OFFICIAL and most CONFIDENTIAL to OFFICIAL(-SENSITIVE), assessed item by item.
# We cannot reassess old mail, so we round *up* to keep handling at least as
# strict as the original marking: PROTECT -> OFFICIAL, RESTRICTED ->
# OFFICIAL-SENSITIVE (it always implied need-to-know handling), CONFIDENTIAL ->
# SECRET (the tier that kept its "serious damage" threshold). SECRET and TOP
# SECRET are unchanged. ``as_written`` keeps the original spelling.
_GPMS = {
    "PROTECT": OFFICIAL,
    "RESTRICTED": OFFICIAL_SENSITIVE,
    "CONFIDENTIAL": SECRET,
}

SOURCE_HEADER = "header"
SOURCE_SUBJECT = "subject"
SOURCE_BODY = "body"


@dataclass(frozen=True)
class Marking:
    """A protective marking: its tier, how it was written, caveats, descriptors, restriction, source."""

    level: str | None = None
    as_written: str | None = None
    caveats: tuple[str, ...] = ()
    descriptors: tuple[str, ...] = ()
    distribution_restriction: str | None = None
    source: str | None = None


NO_MARKING = Marking()

_DASH = r"\-–—"
# Level words. Single-word tiers are case-sensitive capitals in free positions (subject,
# body lines); the compound OFFICIAL-SENSITIVE and NOT PROTECTIVELY MARKED are matched in any case.
_LEVEL_STRICT = (
    rf"(?:(?i:official[ \t]*+(?:[{_DASH}:_][ \t]*+)?sensitive)"
    r"|(?i:not[ \t]+protectively[ \t]+marked)"
    r"|TOP[ \t]+SECRET|SECRET|OFFICIAL|PROTECT|RESTRICTED|CONFIDENTIAL|UNCLASSIFIED)"
)
_DESCRIPTORS = (
    "PERSONAL",
    "COMMERCIAL",
    "LOCSEN",
    "PRIVATE",
    "MANAGEMENT",
    "STAFF",
    "MEDICAL",
    "CONTRACTS",
    "POLICY",
    "APPOINTMENTS",
    "INVESTIGATION",
)
_DESCRIPTOR = r"(?i:" + "|".join(_DESCRIPTORS) + r")"
_CAVEAT = r"(?i:[A-Z]{2,12}(?:[ \t/][A-Z]{2,12}){0,2}[ \t]+EYES[ \t]+ONLY)"
_SEP = rf"(?:[ \t]*[{_DASH}:/,|;][ \t]*|[ \t]+)"
_EXTRA = rf"(?:{_SEP}[\[(]?(?:{_CAVEAT}|{_DESCRIPTOR})[\])]?)"

# A whole marking: level, then descriptors/caveats in any order (bounded).
_MARKING_BODY = rf"(?P<level>{_LEVEL_STRICT})(?P<extra>{_EXTRA}{{0,6}})"
_DECOR = r"[ \t*_#>\[\]()]*"
_MARKING_LINE = re.compile(rf"{_DECOR}(?P<marking>{_MARKING_BODY}){_DECOR}:?{_DECOR}")
_CAVEAT_LINE = re.compile(rf"{_DECOR}(?P<caveats>{_CAVEAT}(?:{_SEP}{_CAVEAT}){{0,3}}){_DECOR}")
_CAVEAT_RE = re.compile(_CAVEAT)
_DESCRIPTOR_RE = re.compile(rf"\b{_DESCRIPTOR}\b")

# "Protective Marking: OFFICIAL" / "Classification: Official Sensitive" fields (any case value).
_FIELD = re.compile(
    r"^[ \t*_>]*(?:(?:Government[ \t]+)?Security[ \t]+Classification|Protective[ \t]+Marking|Classification"
    r"|Security[ \t]+Marking)[ \t*_]*:[ \t*_]*(?P<value>[^\n]{0,120}?)[ \t*_]*$",
    re.IGNORECASE | re.MULTILINE,
)
_LOOSE_LEVEL = re.compile(
    rf"(?i:official[ \t]*+(?:[{_DASH}:_][ \t]*+)?sensitive|not[ \t]+protectively[ \t]+marked"
    r"|top[ \t]+secret|secret|official|protect|restricted|confidential|unclassified)\b",
)

# Subject forms: "... - OS", "[OFFICIAL]", "OFFICIAL-SENSITIVE: ...", "... - OFFICIAL SENSITIVE".
_SUBJECT_OS = re.compile(rf"(?:^|[ \t][{_DASH}][ \t]*)(?:\*\*)?(?P<os>OS)(?:\*\*)?[ \t]*$")
_SUBJECT_BRACKET = re.compile(rf"[\[(][ \t]*(?P<marking>{_MARKING_BODY})[ \t]*[\])]")
_SUBJECT_PREFIX = re.compile(
    rf"^[ \t]*(?:(?:RE|FW|FWD|AW|WG|SV)[ \t]*:[ \t]*)*(?P<marking>{_MARKING_BODY})[ \t]*[:{_DASH}]",
    re.IGNORECASE,
)
_SUBJECT_SUFFIX = re.compile(rf"[ \t][{_DASH}][ \t]*(?P<marking>{_MARKING_BODY})[ \t]*$")

_RESTRICTION = re.compile(
    r"\bnot[ \t]+to[ \t]+be[ \t]+(?:further[ \t]+)?"
    r"(?:distributed|circulated|forwarded|shared|disseminated|copied|disclosed|passed[ \t]+on)\b"
    r"[^.\n]{0,60}?\boutside\b[^.\n]{0,400}\.?",
    re.IGNORECASE,
)

# Where quoted messages begin, and the header lines that open them.
_QUOTE_START = re.compile(r"^[ \t>]*(?:-{2,}[ \t]*Original[ \t]+Message[ \t]*-{2,}|From[ \t]*:)", re.IGNORECASE)
_HEADER_LINE = re.compile(r"^[ \t>]*(?:From|Sent|To|Cc|Bcc|Subject|Date|Importance|Attachments)[ \t]*:", re.IGNORECASE)
# Lines near the top/bottom of each (own or quoted) message where a marking line counts.
_WINDOW = 8

_MSIP_NAME = re.compile(r"MSIP_Label_(?P<guid>[0-9A-Za-z\-]{1,64})_Name[ \t]*=[ \t]*(?P<value>[^;\r\n]{0,200})")
_MSIP_ENABLED = re.compile(r"MSIP_Label_(?P<guid>[0-9A-Za-z\-]{1,64})_Enabled[ \t]*=[ \t]*(?P<value>[A-Za-z]{1,8})")
_MARKING_HEADERS = (
    "x-protective-marking",
    "x-security-classification",
    "x-classification",
    "x-gov-security-classification",
)
_SEC_EQ = re.compile(r"\bSEC[ \t]*=[ \t]*(?P<value>[^,;]{1,80})", re.IGNORECASE)


def _norm_level(written: str) -> str | None:
    """Tier for a level phrase as written; None for NOT PROTECTIVELY MARKED / UNCLASSIFIED."""
    key = re.sub(r"[\s_:" + _DASH + r"]+", " ", written.upper()).strip()
    if key == "OFFICIAL SENSITIVE":
        return OFFICIAL_SENSITIVE
    if key in ("NOT PROTECTIVELY MARKED", "UNCLASSIFIED"):
        return None
    if key in _RANK:
        return key
    return _GPMS.get(key)


def marking_rank(level: str | None) -> int:
    """Order of a tier: 0 for None/unknown, then OFFICIAL < OFFICIAL-SENSITIVE < SECRET < TOP SECRET.

    GPMS names are accepted and ranked as their mapped tier.
    """
    if not level:
        return 0
    rank = _RANK.get(level)
    if rank is not None:
        return rank
    mapped = _norm_level(level)
    return _RANK.get(mapped, 0) if mapped else 0


_NOT_CAVEAT_WORDS = frozenset({*_DESCRIPTORS, "OFFICIAL", "SENSITIVE", "SECRET", "TOP", "PROTECT", "RESTRICTED"})


def _caveats(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for found in _CAVEAT_RE.findall(text):
        words = found.upper().split()
        while len(words) > 2 and words[0] in _NOT_CAVEAT_WORDS:
            words = words[1:]
        out.append(" ".join(words))
    return tuple(dict.fromkeys(out))


def _descriptors(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(d.upper() for d in _DESCRIPTOR_RE.findall(text)))


def _from_match(m: re.Match[str], source: str) -> Marking:
    written = m.group("marking").strip()
    level = _norm_level(m.group("level"))
    extra = m.group("extra") or ""
    return Marking(
        level=level,
        as_written=written,
        caveats=_caveats(extra),
        descriptors=_descriptors(extra),
        source=source,
    )


def _from_loose(value: str, source: str) -> Marking | None:
    """Marking from a value known to be a marking (header, field): any case, extra words tolerated."""
    value = value.strip().strip("*_[]()").strip()
    m = _LOOSE_LEVEL.search(value)
    if m is None:
        return None
    rest = value[m.end() :]
    return Marking(
        level=_norm_level(m.group(0)),
        as_written=value,
        caveats=_caveats(rest),
        descriptors=_descriptors(rest),
        source=source,
    )


def is_marking_line(line: str) -> bool:
    """True when the whole line is a protective marking or a handling caveat."""
    if len(line) > 200:
        return False
    return _MARKING_LINE.fullmatch(line) is not None or _CAVEAT_LINE.fullmatch(line) is not None


def _header_markings(headers: Mapping[str, str] | None) -> list[Marking]:
    if not headers:
        return []
    out: list[Marking] = []
    labels = headers.get("msip_labels") or ""
    if labels:
        enabled = {
            m.group("guid").lower() for m in _MSIP_ENABLED.finditer(labels) if m.group("value").lower() == "true"
        }
        for m in _MSIP_NAME.finditer(labels):
            if m.group("guid").lower() in enabled:
                found = _from_loose(m.group("value"), SOURCE_HEADER)
                if found is not None:
                    out.append(found)
    for key in _MARKING_HEADERS:
        value = headers.get(key)
        if not value:
            continue
        sec = _SEC_EQ.search(value)
        found = _from_loose(sec.group("value") if sec else value, SOURCE_HEADER)
        if found is not None:
            if sec:
                found = Marking(found.level, found.as_written, _caveats(value), found.descriptors, None, SOURCE_HEADER)
            out.append(found)
    return out


def _subject_markings(subject: str) -> list[Marking]:
    subject = subject[:500]
    out: list[Marking] = []
    for m in _SUBJECT_BRACKET.finditer(subject):
        out.append(_from_match(m, SOURCE_SUBJECT))
    for rx in (_SUBJECT_PREFIX, _SUBJECT_SUFFIX):
        m = rx.search(subject)
        if m is not None:
            level = m.group("level")
            # Prefix matching is case-insensitive (RE:/FW:), so insist on capitals for single words.
            if rx is _SUBJECT_PREFIX and " " not in level and "-" not in level and level != level.upper():
                continue
            out.append(_from_match(m, SOURCE_SUBJECT))
    if _SUBJECT_OS.search(subject):
        out.append(Marking(level=OFFICIAL_SENSITIVE, as_written="OS", source=SOURCE_SUBJECT))
    return out


def _window_lines(body: str) -> list[str]:
    """Non-blank lines near the top and bottom of the body and of each quoted message in it."""
    segments: list[list[str]] = [[]]
    for line in body.splitlines():
        if _QUOTE_START.match(line):
            segments.append([])
            continue
        if not line.strip():
            continue
        seg = segments[-1]
        if not seg and _HEADER_LINE.match(line):
            continue
        seg.append(line)
    out: list[str] = []
    for seg in segments:
        if len(seg) <= 2 * _WINDOW:
            out.extend(seg)
        else:
            out.extend(seg[:_WINDOW])
            out.extend(seg[-_WINDOW:])
    return out


def _body_markings(body: str) -> list[Marking]:
    out: list[Marking] = []
    caveats: list[str] = []
    for line in _window_lines(body):
        if len(line) > 200:
            continue
        m = _MARKING_LINE.fullmatch(line)
        if m is not None:
            out.append(_from_match(m, SOURCE_BODY))
            continue
        c = _CAVEAT_LINE.fullmatch(line)
        if c is not None:
            caveats.extend(_caveats(c.group("caveats")))
    for f in _FIELD.finditer(body):
        value = f.group("value").strip()
        if value:
            found = _from_loose(value, SOURCE_BODY)
            if found is not None:
                out.append(found)
    if caveats:
        out.append(Marking(caveats=tuple(dict.fromkeys(caveats)), source=SOURCE_BODY))
    r = _RESTRICTION.search(body)
    if r is not None:
        out.append(Marking(distribution_restriction=r.group(0).strip(), source=SOURCE_BODY))
    return out


def highest(markings: Iterable[Marking]) -> Marking:
    """The effective marking: the highest level (first wins on ties), the union of caveats and
    descriptors (order of first appearance), and the first distribution restriction."""
    items = list(markings)
    if not items:
        return NO_MARKING
    best: Marking | None = None
    for mk in items:
        if best is None:
            best = mk
            continue
        r, br = marking_rank(mk.level), marking_rank(best.level)
        if r > br or (r == br == 0 and best.as_written is None and mk.as_written is not None):
            best = mk
    assert best is not None
    caveats = tuple(dict.fromkeys(c for mk in items for c in mk.caveats))
    descriptors = tuple(dict.fromkeys(d for mk in items for d in mk.descriptors))
    restriction = next((mk.distribution_restriction for mk in items if mk.distribution_restriction), None)
    source = best.source
    if best.level is None and best.as_written is None:
        source = next((mk.source for mk in items if mk.source), None)
    return Marking(
        level=best.level,
        as_written=best.as_written,
        caveats=caveats,
        descriptors=descriptors,
        distribution_restriction=restriction,
        source=source,
    )


def extract_marking(subject: str, body: str, headers: Mapping[str, str] | None = None) -> Marking:
    """The highest protective marking of a message among its headers, subject and body.

    ``headers`` keys are lower-case. Pass the message's own text as ``body`` (quoted earlier
    messages may be included: their markings count too, the highest wins).
    """
    found = [*_header_markings(headers), *_subject_markings(subject), *_body_markings(body)]
    return highest(found)
