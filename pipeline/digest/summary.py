"""One-line, applicant-blind summaries of a request, and topic fallbacks.

FOI is applicant-blind: a digest that goes to a whole team must not spread the
applicant's name, address or contact details. The extractor keeps the request
as written; here the greeting, the sign-off and everything after it, email
addresses, phone numbers, URLs, postcodes and "my name is ..." are removed and
the first sentence is kept, shortened at a word boundary.
"""

from __future__ import annotations

import re

MAX_SUMMARY = 160

_GREETING = re.compile(r"(?im)^\s*(dear|hello|hi|good (morning|afternoon))\b[^\n]*\n?")
_SIGN_OFF = re.compile(
    r"(?im)^\s*(yours\s+(sincerely|faithfully|truly)|(with\s+)?(kind|best|warm)(est)?\s+regards|regards|"
    r"many\s+thanks|thanks(\s+in\s+advance)?|thank\s+you(\s+in\s+advance)?|cheers|best\s+wishes)\b.*",
    re.S,
)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
_URL = re.compile(r"(https?://|www\.)\S+", re.I)
_PHONE = re.compile(r"(?<!\w)(\+44\s?\(?0?\)?\s?|\(?0)\d[\d\s()-]{7,}\d(?!\w)")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")
_MY_NAME = re.compile(r"\b(?i:my name is|i am called|i'm called)\s+[A-Z][\w'-]*(\s+[A-Z][\w'-]*)*\s*(?i:and\s+|,\s*)?")
_PREAMBLES = [
    re.compile(p, re.I)
    for p in (
        r"^(i\s*(am|'m|’m)\s+writing\s+(to\s+)+(you\s+)?(under\s+the\s+freedom\s+of\s+information\s+act"
        r"(\s*\(?2000\)?)?\s+)?(to\s+)+)",
        r"^(under|in\s+accordance\s+with|pursuant\s+to)\s+the\s+freedom\s+of\s+information\s+act(\s*\(?2000\)?)?,?\s*"
        r"((please\s+)?(could|can|would)\s+you\s+(please\s+)?(tell|provide|send|supply|disclose)\s+(to\s+)?me"
        r"(\s+with)?(\s+the\s+following)?\s*:?\s*)?",
        r"^(please\s+)?(could|can|would)\s+you\s+(please\s+)?(tell|provide|send|supply|disclose)\s+(to\s+)?me"
        r"(\s+with)?(\s+the\s+following)?\s*:?\s*",
        r"^ask\s+(that\s+you\s+(please\s+)?disclose\s+(to\s+)?me\s+)?",
        r"^i\s*(am|'m|’m)\s+(seeking|requesting|asking\s+for)\s+",
        r"^i\s+would\s+(like|be\s+grateful\s+for)\s+(to\s+(know|request|ask)\s+)?",
        r"^(please\s+)?(provide|disclose|send)\s+(me\s+)?(with\s+)?",
        r"^\(?(1|a|i)[.)]\s+",
    )
]
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]][.?!])\s+(?=[A-Z(\d])")


def scrub(text: str) -> str:
    """Remove contact details and self-identification from free text (used for evidence quotes too)."""
    text = _EMAIL.sub("[removed]", text)
    text = _URL.sub("[link]", text)
    text = _PHONE.sub("[removed]", text)
    text = _POSTCODE.sub("[removed]", text)
    return _MY_NAME.sub("", text)


def request_summary(request: str | None, limit: int = MAX_SUMMARY) -> str:
    """The first sentence of an applicant's request, without personal data, on one line."""
    if not request or not request.strip():
        return ""
    text = _SIGN_OFF.sub("", request)
    text = _GREETING.sub("", text)
    text = " ".join(scrub(text).split())
    for _ in range(3):  # preambles can stack: "I'm writing to you under the Act to ask that you disclose ..."
        before = text
        for pattern in _PREAMBLES:
            text = pattern.sub("", text).lstrip(" :,-")
        if text == before:
            break
    first = _SENTENCE_END.split(text, maxsplit=1)[0] if text else ""
    first = first.strip()
    if len(first) > limit:
        cut = first[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-")
        first = cut + "…"
    return first[:1].upper() + first[1:]


_MARKING_WORDS = re.compile(r"(?i)^(os|official([ -–]+sensitive)?|protect([ -–]+\w+)?|restricted|police eyes only)$")
_NOT_TOPIC = re.compile(r"(?i)^(s\d+[\w()&\s,]*|including advice|advice|update|ir advice|[\d/ ()]+|\W*)$")


def subject_topic(subject: str | None) -> str:
    """A topic from a circulation subject when the classifier has not set one.

    ``Log No.995/24 CRU Circulation (12/11/2024) - S38(1)(b) - Palantir - OS``
    gives ``Palantir``: the segments after the date, minus redaction markers
    (the redacted case worker), the marking and words such as "Including Advice".
    """
    if not subject:
        return ""
    m = re.search(r"(?i)circulation\s*(\([^)]*\))?\s*-\s*(.*)$", subject)
    if not m:
        return ""
    parts = [p.strip() for p in re.split(r"\s+[-–]\s+", m.group(2))]
    kept = [p for p in parts if p and not _MARKING_WORDS.match(p) and not _NOT_TOPIC.match(p)]
    return kept[-1] if kept else ""
