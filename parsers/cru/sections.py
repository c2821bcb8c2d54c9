"""The parts of a CRU message: request, advice, fields, date, and what kind of message it is.

Why: a CRU circulation is a semi-structured form inside free text. Search and
digests need the applicant's request apart from the CRU's advice (the request
is the applicant's words, the advice is the CRU's position), the force it was
logged with (normalised, so "Met", "MPS" and "Metropolitan Police" are one
force), and the circulation date. Updates carry advice as prose with no
heading, and quote the earlier circulation below an Outlook header block, so
the message's own part is read first and quoted parts only as a fallback.

All dates are UK day-first (12/11/2024 is 12 November 2024); an impossible
date gives None, never an exception.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .exemptions import is_redaction_marker
from .log_numbers import parse_log_filename
from .markings import is_marking_line

__all__ = [
    "KINDS",
    "Sections",
    "classify_kind",
    "extract_sections",
    "normalise_force",
]

KINDS = ("circulation", "advice", "update", "internal_review", "force_response")


@dataclass(frozen=True)
class Sections:
    """The sections and fields of a CRU message (None where absent)."""

    applicant_request: str | None = None
    advice: str | None = None
    logged_with: str | None = None
    case_worker: str | None = None
    sent_from: str | None = None
    circulation_date: _dt.date | None = None


# --- forces -----------------------------------------------------------------------------------

_FORCES: tuple[str, ...] = (
    # The 43 territorial forces of England and Wales.
    "Avon and Somerset Police",
    "Bedfordshire Police",
    "Cambridgeshire Constabulary",
    "Cheshire Constabulary",
    "City of London Police",
    "Cleveland Police",
    "Cumbria Constabulary",
    "Derbyshire Constabulary",
    "Devon and Cornwall Police",
    "Dorset Police",
    "Durham Constabulary",
    "Dyfed-Powys Police",
    "Essex Police",
    "Gloucestershire Constabulary",
    "Greater Manchester Police",
    "Gwent Police",
    "Hampshire and Isle of Wight Constabulary",
    "Hertfordshire Constabulary",
    "Humberside Police",
    "Kent Police",
    "Lancashire Constabulary",
    "Leicestershire Police",
    "Lincolnshire Police",
    "Merseyside Police",
    "Metropolitan Police Service",
    "Norfolk Constabulary",
    "North Wales Police",
    "North Yorkshire Police",
    "Northamptonshire Police",
    "Northumbria Police",
    "Nottinghamshire Police",
    "South Wales Police",
    "South Yorkshire Police",
    "Staffordshire Police",
    "Suffolk Constabulary",
    "Surrey Police",
    "Sussex Police",
    "Thames Valley Police",
    "Warwickshire Police",
    "West Mercia Police",
    "West Midlands Police",
    "West Yorkshire Police",
    "Wiltshire Police",
    # Other UK forces that receive round-robin requests.
    "Police Service of Northern Ireland",
    "Police Scotland",
    "British Transport Police",
    "Civil Nuclear Constabulary",
    "Ministry of Defence Police",
)

_ALIASES: dict[str, str] = {
    "met": "Metropolitan Police Service",
    "mps": "Metropolitan Police Service",
    "metropolitan": "Metropolitan Police Service",
    "cambs": "Cambridgeshire Constabulary",
    "tvp": "Thames Valley Police",
    "gmp": "Greater Manchester Police",
    "wmp": "West Midlands Police",
    "west mids": "West Midlands Police",
    "w mids": "West Midlands Police",
    "wyp": "West Yorkshire Police",
    "west yorks": "West Yorkshire Police",
    "syp": "South Yorkshire Police",
    "south yorks": "South Yorkshire Police",
    "nyp": "North Yorkshire Police",
    "north yorks": "North Yorkshire Police",
    "nwp": "North Wales Police",
    "swp": "South Wales Police",
    "btp": "British Transport Police",
    "cnc": "Civil Nuclear Constabulary",
    "mdp": "Ministry of Defence Police",
    "mod": "Ministry of Defence Police",
    "psni": "Police Service of Northern Ireland",
    "northern ireland": "Police Service of Northern Ireland",
    "scotland": "Police Scotland",
    "col": "City of London Police",
    "colp": "City of London Police",
    "city of london": "City of London Police",
    "herts": "Hertfordshire Constabulary",
    "hants": "Hampshire and Isle of Wight Constabulary",
    "hampshire": "Hampshire and Isle of Wight Constabulary",
    "hiow": "Hampshire and Isle of Wight Constabulary",
    "notts": "Nottinghamshire Police",
    "northants": "Northamptonshire Police",
    "lancs": "Lancashire Constabulary",
    "leics": "Leicestershire Police",
    "lincs": "Lincolnshire Police",
    "glos": "Gloucestershire Constabulary",
    "wilts": "Wiltshire Police",
    "staffs": "Staffordshire Police",
    "beds": "Bedfordshire Police",
    "warks": "Warwickshire Police",
    "derbys": "Derbyshire Constabulary",
    "devon cornwall": "Devon and Cornwall Police",
    "avon somerset": "Avon and Somerset Police",
    "dyfed powys": "Dyfed-Powys Police",
}

_SUFFIX = re.compile(r"(?:\s+(?:police\s+service|police\s+force|constabulary|police|force))+$")


def _force_key(name: str) -> str:
    key = name.lower().replace("&", " and ")
    key = re.sub(r"[^a-z0-9]+", " ", key).strip()
    key = re.sub(r"^the\s+", "", key)
    return _SUFFIX.sub("", key).strip()


_FORCE_TABLE: dict[str, str] = {_force_key(f): f for f in _FORCES}
_FORCE_TABLE.update({_force_key(k): v for k, v in _ALIASES.items()})
_FORCE_TABLE.update({k.replace(" and ", " "): v for k, v in list(_FORCE_TABLE.items()) if " and " in k})


def normalise_force(name: str) -> str:
    """Canonical force name for a written name or common alias; unknown names come back stripped."""
    written = " ".join(name.split())
    if written.lower() == "national":
        return "National"
    key = _force_key(written)
    return _FORCE_TABLE.get(key) or _FORCE_TABLE.get(key.replace(" and ", " ")) or written


# --- headings and boundaries ------------------------------------------------------------------

_DECOR = r"[ \t*_#>]*"
_APPLICANT_HEAD = re.compile(
    rf"{_DECOR}(?:Applicant(?:'|’)?s?[ \t]+Request|Request"
    # A force's response quoting the request ("I note you seek access to the following information:").
    r"|I[ \t]+note[ \t]+(?:that[ \t]+)?you[ \t]+seek[ \t]+access[ \t]+to[ \t]+the[ \t]+following[ \t]+information)"
    r"[ \t*_]*(?::[ \t*_]*(?P<rest>.*?))?[ \t*_]*",
    re.IGNORECASE,
)
# Where a quoted request ends in a force's response: the decision that follows it.
_DECISION_LINE = re.compile(
    r"[ \t*_]*(?:(?:I|we)[ \t]+have[ \t]+(?:today[ \t]+|now[ \t]+)?(?:decided|completed)\b.*"
    r"|Reasons?[ \t]+for[ \t]+(?:the[ \t]+)?decision[ \t*_:]*)",
    re.IGNORECASE,
)
_ADVICE_HEAD = re.compile(
    rf"{_DECOR}(?:(?:CRU|NPCC)[ \t]+)?Advice[ \t*_]*(?::[ \t*_]*(?P<rest>.*?))?[ \t*_]*",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"[ \t*_]*(?:kind(?:est)?[ \t]+regards|(?:best|warm|warmest)[ \t]+(?:regards|wishes)|regards"
    r"|many[ \t]+thanks|thanks|thank[ \t]+you|yours[ \t]+(?:sincerely|faithfully|truly))[ \t]*[,.!]?[ \t*_]*",
    re.IGNORECASE,
)
_QUOTE_START = re.compile(r"[ \t>]*(?:-{2,}[ \t]*Original[ \t]+Message[ \t]*-{2,}|From[ \t]*:.*)", re.IGNORECASE)
_GREETING = re.compile(
    r"[ \t*_]*(?:Dear|Hi|Hello|Good[ \t]+(?:morning|afternoon|evening)|Morning|Afternoon|All)\b[^\n]{0,60}",
    re.IGNORECASE,
)
_RESTRICTION_LINE = re.compile(r"[ \t*_]*not[ \t]+to[ \t]+be[ \t]+\w+", re.IGNORECASE)

_SUBJECT_ADVICE_CUE = re.compile(r"\bUpdate\b|\bIncluding[ \t]+Advice\b|\bAdvice\b", re.IGNORECASE)
_BODY_ADVICE_CUE = re.compile(r"\badvice\b|\bNCND\b|\bneither[ \t]+confirm|\bstance\b", re.IGNORECASE)
_ADVICE_TO_FOLLOW = re.compile(r"\badvice[ \t]+(?:will|to)[ \t]+follow", re.IGNORECASE)


def _field(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"^[ \t*_>]*{name}[ \t]*:[ \t*_]*(?P<value>[^\n]{{0,200}}?)[ \t*_]*$", re.IGNORECASE | re.MULTILINE
    )


_LOGGED_WITH = _field(r"Logged[ \t]+with")
_CASE_WORKER = _field(r"Case[ \t]*worker")
_SENT_FROM = _field(r"Sent[ \t]+from")
_DATE_FIELD = _field(r"(?:Date[ \t]+(?:of[ \t]+)?circulat(?:ed|ion)|Circulation[ \t]+date|Circulated)")

_NUM_DATE = r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?!\d)"
_SUBJECT_DATE = re.compile(rf"\\?\([ \t]*{_NUM_DATE}[ \t]*\\?\)")
_BODY_CIRC_DATE = re.compile(rf"CRU[ \t]+Circulation[ \t]*\\?\([ \t]*{_NUM_DATE}[ \t]*\\?\)", re.IGNORECASE)
_NUM_DATE_RE = re.compile(rf"(?<!\d){_NUM_DATE}")
_MONTHS = {
    m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))
}
_WORD_DATE = re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?[ \t]+([A-Za-z]{3,9})\.?,?[ \t]+(\d{4}|\d{2})(?!\d)")

# classify_kind cues
_UPDATE_SUBJECT = re.compile(r"\bUpdate[ \t]+to\b|\bUpdate[ \t]*:", re.IGNORECASE)
_IR_SUBJECT = re.compile(r"(?<![A-Za-z])IR(?![A-Za-z])|(?i:\binternal[ \t]+review\b|\bIR[ \t]+Advice\b)")
_INCLUDING_ADVICE = re.compile(r"\bIncluding[ \t]+Advice\b", re.IGNORECASE)
_CRU_CIRCULATION = re.compile(r"\bCRU[ \t]+Circulation\b", re.IGNORECASE)
_LOG_FIELD = re.compile(r"^[ \t*_>]*Log[ \t]*(?:Number|No\.?)[ \t]*:", re.IGNORECASE | re.MULTILINE)
_FORCE_RESPONSE = re.compile(
    r"freedom[ \t]+of[ \t]+information[ \t]+request[ \t]+reference[ \t]+(?:no|number)"
    r"|\bI[ \t]+note[ \t]+you[ \t]+seek[ \t]+access"
    r"|this[ \t]+response[ \t]+(?:therefore[ \t]+)?serves[ \t]+as[ \t]+a[ \t]+refusal[ \t]+notice"
    r"|\bI[ \t]+have[ \t]+today[ \t]+decided[ \t]+to[ \t]+(?:disclose|withhold|refuse)"
    r"|\bwe[ \t]+have[ \t]+now[ \t]+completed[ \t]+(?:our|the)[ \t]+search",
    re.IGNORECASE,
)


def _make_date(day: int, month: int, year: int) -> _dt.date | None:
    if year < 100:
        year += 2000
    try:
        return _dt.date(year, month, day)
    except ValueError:
        return None


def _parse_date(value: str) -> _dt.date | None:
    m = _NUM_DATE_RE.search(value)
    if m is not None:
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    w = _WORD_DATE.search(value)
    if w is not None:
        month = _MONTHS.get(w.group(2)[:3].lower())
        if month is not None:
            return _make_date(int(w.group(1)), month, int(w.group(3)))
    return None


def _own_end(lines: list[str]) -> int:
    """Index of the first line of the first quoted message (or len(lines))."""
    for i, line in enumerate(lines):
        if len(line) < 300 and _QUOTE_START.fullmatch(line):
            return i
    return len(lines)


def _is_stop(line: str) -> bool:
    if len(line) > 200:
        return False
    return bool(
        _SIGN_OFF.fullmatch(line)
        or _QUOTE_START.fullmatch(line)
        or _ADVICE_HEAD.fullmatch(line)
        or _APPLICANT_HEAD.fullmatch(line)
        or _DECISION_LINE.fullmatch(line)
    )


def _section(lines: list[str], head: re.Pattern[str], lo: int, hi: int) -> str | None:
    """Text after the first ``head`` heading in lines[lo:hi] up to the next boundary."""
    for i in range(lo, hi):
        line = lines[i]
        if len(line) > 200:
            continue
        m = head.fullmatch(line)
        if m is None:
            continue
        parts: list[str] = []
        rest = m.group("rest")
        if rest:
            parts.append(rest.strip())
        for j in range(i + 1, len(lines)):
            if _is_stop(lines[j]):
                break
            parts.append(lines[j])
        text = "\n".join(parts).strip()
        return text or None
    return None


def _has_heading(lines: list[str], head: re.Pattern[str], lo: int, hi: int) -> bool:
    return any(len(lines[i]) <= 200 and head.fullmatch(lines[i]) for i in range(lo, hi))


def _prose_advice(lines: list[str], end: int) -> str | None:
    start = 0
    for i in range(end):
        if len(lines[i]) <= 200 and _GREETING.fullmatch(lines[i]):
            start = i + 1
            break
    else:
        while start < end and (
            not lines[start].strip() or is_marking_line(lines[start]) or _RESTRICTION_LINE.match(lines[start])
        ):
            start += 1
    parts: list[str] = []
    for j in range(start, end):
        if len(lines[j]) <= 200 and _SIGN_OFF.fullmatch(lines[j]):
            break
        parts.append(lines[j])
    text = "\n".join(parts).strip()
    return text or None


def _advice(subject: str, lines: list[str], own_end: int) -> str | None:
    own = _section(lines, _ADVICE_HEAD, 0, own_end)
    if own is not None:
        return own
    own_text = "\n".join(lines[:own_end])
    if not _ADVICE_TO_FOLLOW.search(own_text):
        subject_cue = _SUBJECT_ADVICE_CUE.search(subject) is not None
        body_cue = _BODY_ADVICE_CUE.search(own_text) is not None and not _has_heading(
            lines, _APPLICANT_HEAD, 0, own_end
        )
        if subject_cue or body_cue:
            prose = _prose_advice(lines, own_end)
            if prose is not None:
                return prose
    return _section(lines, _ADVICE_HEAD, own_end, len(lines))


def _field_value(rx: re.Pattern[str], body: str) -> str | None:
    m = rx.search(body)
    if m is None:
        return None
    value = m.group("value").strip()
    return value or None


def _person_field(rx: re.Pattern[str], body: str) -> str | None:
    value = _field_value(rx, body)
    if value is None or is_redaction_marker(value):
        return None
    return value


def _circulation_date(subject: str, body: str) -> _dt.date | None:
    m = _SUBJECT_DATE.search(subject)
    if m is not None:
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    value = _field_value(_DATE_FIELD, body)
    if value is not None:
        return _parse_date(value)
    m = _BODY_CIRC_DATE.search(body)
    if m is not None:
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return None


def extract_sections(subject: str, body: str) -> Sections:
    """Applicant's request, CRU advice, form fields and circulation date of a CRU message."""
    lines = body.splitlines()
    own_end = _own_end(lines)
    applicant = _section(lines, _APPLICANT_HEAD, 0, own_end) or _section(lines, _APPLICANT_HEAD, own_end, len(lines))
    logged = _field_value(_LOGGED_WITH, body)
    return Sections(
        applicant_request=applicant,
        advice=_advice(subject, lines, own_end),
        logged_with=normalise_force(logged) if logged else None,
        case_worker=_person_field(_CASE_WORKER, body),
        sent_from=_person_field(_SENT_FROM, body),
        circulation_date=_circulation_date(subject, body),
    )


def classify_kind(subject: str, body: str, attachment_names: Sequence[str] = ()) -> str | None:
    """What a message is: circulation, advice, update, internal_review, force_response, or None.

    The subject decides first (update, then internal review, then "Including Advice"), then the
    body (a CRU Advice section, a circulation form, a force's reply to an applicant). Attachment
    names are only a last resort: IR advice attached to an otherwise unclassified message.
    """
    subject = subject[:2000]
    if _UPDATE_SUBJECT.search(subject):
        return "update"
    if _IR_SUBJECT.search(subject):
        return "internal_review"
    lines = body.splitlines()
    if _INCLUDING_ADVICE.search(subject) or _has_heading(lines, _ADVICE_HEAD, 0, len(lines)):
        return "advice"
    circulation = _CRU_CIRCULATION.search(subject) or _CRU_CIRCULATION.search(body)
    if circulation and (_has_heading(lines, _APPLICANT_HEAD, 0, len(lines)) or _LOG_FIELD.search(body)):
        return "circulation"
    if _FORCE_RESPONSE.search(body):
        return "force_response"
    for name in attachment_names:
        ref = parse_log_filename(name)
        if ref is not None and ref.internal_review:
            return "internal_review"
    return None
