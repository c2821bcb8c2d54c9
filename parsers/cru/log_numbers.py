"""CRU log numbers: find them, canonicalise them, and tell "about" from "referenced".

Why: the CRU log number (``NNN/YY``) is the key that links a circulation, its
later advice, updates, internal-review advice and the forces' replies. A
message names several: the log it is *about* (subject, ``Log Number:`` field)
and logs it merely *refers to* ("CRU ref 1750/22", attached earlier advice).
Linking on the wrong one merges unrelated threads, so the two are kept apart.

Recognition is cue-driven: a bare ``N/YY`` is never a log number, because the
same shape is a date, a fraction, a page count or a product name ("20/20").
Only numbers after a ``Log No``/``Log Number``/``CRU [ref|Case No]``/``Case
No(s)`` cue count. Attachment names lose their slashes when Outlook saves
them ("Log No.99524 ... (12112024)"): the year is then the last two digits,
checked against the date in the name when there is one.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "LogNumbers",
    "LogRef",
    "canonical_log",
    "extract_log_numbers",
    "parse_log_filename",
]

SOURCE_SUBJECT = "subject"
SOURCE_BODY = "body"
SOURCE_ATTACHMENT = "attachment"


@dataclass(frozen=True)
class LogRef:
    """One occurrence of a CRU log number."""

    number: str
    date: _dt.date | None = None
    internal_review: bool = False
    source: str = SOURCE_BODY


@dataclass(frozen=True)
class LogNumbers:
    """The logs a message is about, the logs it only references, and every occurrence."""

    about: tuple[str, ...] = ()
    referenced: tuple[str, ...] = ()
    refs: tuple[LogRef, ...] = ()


# A log number token: up to six digits (older mail zero-pads: 000088/15), a slash,
# a two-digit year. Not preceded by a digit or slash and not followed by a digit or
# another slash, so dates (12/11/2024, 12/11/24) never match.
_NUM = r"(?<![\d/])\d{1,6}\s?/\s?\d{2}(?![\d/])"
_NUM_PARTS = re.compile(r"(\d{1,6})\s?/\s?(\d{2})")

# Cues. Named groups tell the kind of cue, which decides about/referenced.
_CUE = (
    r"(?:"
    r"(?P<log>\bLog\s*(?:Nos?|Numbers?|Num|Ref)\b\.?)"
    r"|(?P<cru>\bCRU\b(?:\s+(?:Case|Log))?(?:\s*(?:ref(?:erence)?s?|Nos?|Numbers?)\b)?\.?)"
    r"|(?P<case>\bCase\s*(?:Nos?|Numbers?|Ref)\b\.?)"
    r")"
)
# Possessive quantifiers (Python 3.11+) so a run of blanks after a cue cannot backtrack quadratically.
_SEP_AFTER_CUE = r"[ \t]*+(?:[:#.]{1,2}[ \t]*+)?"
_LIST_TAIL = rf"(?:\s*(?:,|;|&|\band\b)\s*{_NUM}){{0,40}}"
_CUED = re.compile(rf"{_CUE}{_SEP_AFTER_CUE}(?P<first>{_NUM})(?P<tail>{_LIST_TAIL})", re.IGNORECASE)
_NUM_RE = re.compile(_NUM)

# "Log Number: 995/24" as a field at the start of a line: the message is about it.
_FIELD_LINE = re.compile(r"^[ \t>*_]*(?:CRU\s+)?Log\s*(?:Number|No\.?|Ref)\s*:", re.IGNORECASE | re.MULTILINE)

# "CRU Circulation (12/11/2024)" straight after a log number gives its date.
_CIRC_DATE = re.compile(
    r"[ \t]*(?:-[ \t]*)?(?:CRU[ \t]+)?Circulation[ \t]*\\?\([ \t]*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})[ \t]*\\?\)",
    re.IGNORECASE,
)

# Internal-review cue immediately before the log cue ("IR Advice Log No.", "internal review for CRU").
_IR_BEFORE = re.compile(
    r"(?:(?-i:\bIR\b)|\binternal\s+review\b)(?:\s+advice)?(?:\s+(?:for|on|re))?[ \t]*[:\-–]?[ \t]*$",
    re.IGNORECASE,
)
_IR_ANYWHERE = re.compile(r"(?:(?<![A-Za-z])(?-i:IR)(?![A-Za-z])|\binternal\s+review\b)", re.IGNORECASE)

# canonical_log: the whole string is one log number, optionally after a cue.
_CANONICAL = re.compile(rf"\s*(?:{_CUE}{_SEP_AFTER_CUE})?(?P<token>{_NUM})\s*", re.IGNORECASE)

# Attachment names: slashes stripped ("Log No.99524"), or replaced by _ or -.
_FILE_LOG = re.compile(
    r"(?:\bLog\s*(?:Nos?|Numbers?|Ref)?\b\.?|\bCase\s*(?:Nos?|Numbers?)\b\.?|\bCRU(?:\s*ref)?\b\.?)"
    r"[ \t]*+(?:[:#.]{1,2}[ \t]*+)?"
    r"(?:(?P<num>\d{1,6})[_\-/](?P<yy>\d{2})|(?P<joined>\d{3,8}))(?!\d)",
    re.IGNORECASE,
)
_FILE_DATE = re.compile(
    r"\\?\(\s*(?:(?P<compact>\d{8}|\d{6})|(?P<d>\d{1,2})[\-_.](?P<m>\d{1,2})[\-_.](?P<y>\d{2}|\d{4}))\s*\\?\)"
)

# How many non-blank body lines count as "the first lines" for the about fallback.
_ABOUT_HEAD_LINES = 12


def _canon(number: str, year: str) -> str | None:
    stripped = number.lstrip("0")
    if not stripped:
        return None
    return f"{stripped}/{year}"


def _canon_token(token: str) -> str | None:
    m = _NUM_PARTS.search(token)
    if m is None:
        return None
    return _canon(m.group(1), m.group(2))


def _make_date(day: int, month: int, year: int) -> _dt.date | None:
    if year < 100:
        year += 2000
    try:
        return _dt.date(year, month, day)
    except ValueError:
        return None


def canonical_log(text: str) -> str | None:
    """Canonical ``N/YY`` for a string that is a log number ("995/24", "Log No.995/24", "000088/15").

    Returns None when the string is anything else (a date, free text, several numbers).
    """
    if len(text) > 200:
        return None
    m = _CANONICAL.fullmatch(text)
    if m is None:
        return None
    return _canon_token(m.group("token"))


def _date_from_filename(name: str) -> _dt.date | None:
    m = _FILE_DATE.search(name)
    if m is None:
        return None
    compact = m.group("compact")
    if compact:
        day, month, year = int(compact[:2]), int(compact[2:4]), int(compact[4:])
    else:
        day, month, year = int(m.group("d")), int(m.group("m")), int(m.group("y"))
    return _make_date(day, month, year)


def parse_log_filename(name: str) -> LogRef | None:
    """The log an attachment name points to, e.g. ``IR Advice Log No.00175022 CRU Circulation (29112022) .msg``.

    Saved attachment names have lost their slashes: the year is the last two digits
    (checked against the date in the name when one is there; a mismatch gives None).
    """
    m = _FILE_LOG.search(name)
    if m is None:
        return None
    date = _date_from_filename(name[m.end() :])
    if m.group("joined") is not None:
        digits = m.group("joined")
        number, year = digits[:-2], digits[-2:]
    else:
        number, year = m.group("num"), m.group("yy")
    if date is not None and f"{date.year % 100:02d}" != year:
        return None
    canon = _canon(number, year)
    if canon is None:
        return None
    ir = _IR_ANYWHERE.search(name[: m.start()]) is not None
    return LogRef(number=canon, date=date, internal_review=ir, source=SOURCE_ATTACHMENT)


@dataclass(frozen=True)
class _Hit:
    number: str
    date: _dt.date | None
    internal_review: bool
    kind: str  # "log" | "cru" | "case"
    start: int
    field: bool


def _scan(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    field_starts = {m.start() for m in _FIELD_LINE.finditer(text)}
    for m in _CUED.finditer(text):
        kind = next(key for key in ("log", "cru", "case") if m.group(key) is not None)
        if kind == "cru":
            # "CRU Case No 88/15" / "CRU Log No 5/20" carry a Case/Log cue too.
            words = m.group("cru").lower().split()
            kind = "case" if "case" in words else "log" if "log" in words else "cru"
        lo = max(0, m.start() - 40)
        nl = text.rfind("\n", lo, m.start())
        line_start = nl + 1 if nl >= 0 or lo == 0 else -1
        is_field = (
            kind == "log"
            and line_start in field_starts
            and text[line_start : m.start()].strip(" \t>*_").upper() in ("", "CRU")
        )
        ir = _IR_BEFORE.search(text[max(0, m.start() - 40) : m.start()]) is not None
        tokens = [m.group("first"), *_NUM_RE.findall(m.group("tail"))]
        date = None
        cd = _CIRC_DATE.match(text, m.end())
        if cd is not None:
            date = _make_date(int(cd.group(1)), int(cd.group(2)), int(cd.group(3)))
        for i, token in enumerate(tokens):
            canon = _canon_token(token)
            if canon is None:
                continue
            d = date if i == len(tokens) - 1 else None
            if d is not None and f"{d.year % 100:02d}" != canon.rsplit("/", 1)[1]:
                d = None
            hits.append(_Hit(canon, d, ir, kind, m.start(), is_field))
    return hits


def _head_limit(body: str) -> int:
    """Offset of the end of the first few non-blank lines of the body."""
    seen = 0
    pos = 0
    for line in body.splitlines(keepends=True):
        pos += len(line)
        if line.strip():
            seen += 1
            if seen >= _ABOUT_HEAD_LINES:
                break
    return pos


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def extract_log_numbers(subject: str, body: str, attachment_names: Sequence[str] = ()) -> LogNumbers:
    """Every CRU log number in a message, split into the logs it is about and those it references."""
    refs: list[LogRef] = []
    about: list[str] = []
    found: list[str] = []

    for hit in _scan(subject):
        refs.append(LogRef(hit.number, hit.date, hit.internal_review, SOURCE_SUBJECT))
        about.append(hit.number)
        found.append(hit.number)

    body_hits = _scan(body)
    for hit in body_hits:
        refs.append(LogRef(hit.number, hit.date, hit.internal_review, SOURCE_BODY))
        found.append(hit.number)
        if hit.field:
            about.append(hit.number)

    if not about:
        limit = _head_limit(body)
        about.extend(h.number for h in body_hits if h.start < limit and h.kind in ("log", "case"))

    for name in attachment_names:
        ref = parse_log_filename(name)
        if ref is not None:
            refs.append(ref)
            found.append(ref.number)

    about_t = _unique(about)
    referenced = tuple(n for n in _unique(found) if n not in about_t)
    return LogNumbers(about=about_t, referenced=referenced, refs=tuple(dict.fromkeys(refs)))
