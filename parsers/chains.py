"""Split Outlook reply chains into the earlier messages they quote.

Outlook rarely quotes with ``>``: it appends the earlier message under a
"From: / Sent: / To: / Subject:" block, sometimes preceded by
"-----Original Message-----". No maintained library splits these blocks and
keeps their headers (talon and email-reply-parser only cut the reply off), so
this is our own small, pure function: text in, list of segments out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser

LONDON = ZoneInfo("Europe/London")

# A header line of a quoted block: "From: x", "**Sent:** y", "Sent : z".
_FIELD = re.compile(
    r"^[ \t>*_]*(From|Sent|Date|To|Cc|Subject|Attachments|Importance)[ \t*_]*:[ \t*_]*(.*)$",
    re.IGNORECASE,
)
_ORIGINAL = re.compile(r"^[ \t>]*-{2,}\s*(Original Message|Forwarded message|Forwarded by)[^\n]*-*\s*$", re.I)
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
# Outlook's one-line form after HTML flattening: "From: A Sent: B To: C Subject: D".
_ONE_LINE = re.compile(
    r"^[ \t*]*From:\s*(?P<from>.+?)\s+(?:Sent|Date):\s*(?P<sent>.+?)\s+(?:To:\s*(?P<to>.+?)\s+)?"
    r"(?:Cc:\s*(?P<cc>.+?)\s+)?Subject:\s*(?P<subject>.+)$",
    re.IGNORECASE,
)
_MAX_BLOCK_LINES = 12


@dataclass
class QuotedHeader:
    """The header block Outlook writes above an earlier message."""

    sender: str = ""
    sent: datetime | None = None
    sent_text: str = ""
    to: str = ""
    cc: str = ""
    subject: str = ""
    attachments: list[str] = field(default_factory=list)


@dataclass
class ChainSegment:
    """One message of a chain: its header block (None for the newest, top one) and its own text."""

    header: QuotedHeader | None
    text: str


def _clean(value: str) -> str:
    """Drop Markdown/print artefacts (links, bold, escaped brackets) from a header value."""
    value = _MD_LINK.sub(r"\1", value).replace("**", "").replace("\\(", "(").replace("\\)", ")")
    return value.strip().strip("*_").strip()


def parse_sent(value: str) -> datetime | None:
    """Parse an Outlook "Sent:" value, day first as in UK mail; local times are Europe/London."""
    value = _clean(value)
    if not value or len(value) > 80:
        return None
    try:
        parsed = dateparser.parse(value, dayfirst=True, fuzzy=True)
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LONDON)
    return parsed


def _split_attachment_list(value: str) -> list[str]:
    names = [_clean(v) for v in re.split(r";|\]\(#\)\s*\[|\n", value)]
    return [n.strip("[]") for n in names if n.strip("[]")]


def _block_at(lines: list[str], start: int) -> tuple[QuotedHeader, int] | None:
    """If a quoted-header block starts at ``start`` return it and the index after it."""
    one = _ONE_LINE.match(lines[start])
    if one:
        header = QuotedHeader(
            sender=_clean(one["from"]),
            sent_text=_clean(one["sent"]),
            sent=parse_sent(one["sent"]),
            to=_clean(one["to"] or ""),
            cc=_clean(one["cc"] or ""),
            subject=_clean(one["subject"]),
        )
        return header, start + 1
    first = _FIELD.match(lines[start])
    if not first or first.group(1).lower() != "from":
        return None
    seen: dict[str, str] = {"from": first.group(2)}
    attachments: list[str] = []
    i = start + 1
    last_key = "from"
    while i < len(lines) and i - start <= _MAX_BLOCK_LINES:
        line = lines[i]
        m = _FIELD.match(line)
        if m:
            key = m.group(1).lower()
            if key in seen and key != "attachments":
                break
            seen[key] = m.group(2)
            last_key = key
            if key == "attachments" and m.group(2).strip():
                attachments.extend(_split_attachment_list(m.group(2)))
        elif not line.strip():
            if "subject" in seen:
                break
        elif last_key == "attachments" and line.strip():
            attachments.extend(_split_attachment_list(line))
        elif last_key in {"to", "cc", "subject"} and line.startswith((" ", "\t")):
            seen[last_key] += " " + line.strip()
        else:
            break
        i += 1
    if "subject" not in seen or not ({"sent", "date"} & seen.keys()):
        return None
    sent_text = seen.get("sent") or seen.get("date") or ""
    header = QuotedHeader(
        sender=_clean(seen["from"]),
        sent_text=_clean(sent_text),
        sent=parse_sent(sent_text),
        to=_clean(seen.get("to", "")),
        cc=_clean(seen.get("cc", "")),
        subject=_clean(seen["subject"]),
        attachments=attachments,
    )
    return header, i


def split_chain(text: str) -> list[ChainSegment]:
    """Split a body into its own text and the earlier messages it quotes, newest first.

    The first segment has ``header=None`` unless the text itself starts with a
    header block (a printed or saved message), in which case that block is the
    first segment's header. Each later segment is one quoted message; its text
    stops where the next quoted block begins.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    segments: list[ChainSegment] = []
    current_header: QuotedHeader | None = None
    current_start = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        marker = bool(_ORIGINAL.match(line))
        probe = i + 1 if marker else i
        # Skip blank lines between the marker and the header block.
        while marker and probe < len(lines) and not lines[probe].strip():
            probe += 1
        found = _block_at(lines, probe) if probe < len(lines) and "from" in lines[probe][:14].lower() else None
        if found:
            header, after = found
            own = "\n".join(lines[current_start:i]).strip()
            if own or segments or current_header is not None:
                segments.append(ChainSegment(current_header, own))
            current_header = header
            current_start = after
            i = after
            continue
        i += 1
    segments.append(ChainSegment(current_header, "\n".join(lines[current_start:]).strip()))
    return segments
