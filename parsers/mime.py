"""RFC 5322 / MIME messages, read with mail-parser.

mail-parser gives decoded headers, text and HTML bodies, attachments and MIME
defects. Attached ``message/rfc822`` parts are taken from the underlying
standard-library tree so that each becomes a child message with its own headers.
"""

from __future__ import annotations

import contextlib
import email
import email.header
import email.utils
import logging
from datetime import datetime
from email.message import Message

import mailparser

from parsers.errors import ParseError
from parsers.htmltext import html_to_text
from parsers.model import Attachment, ParsedMessage
from parsers.textcodec import decode_bytes

logging.getLogger("mailparser").setLevel(logging.CRITICAL)

#: Header fields kept for the extractors (marking labels, Exchange threading).
KEPT_HEADERS = ("msip_labels", "x-protective-marking", "x-classification", "thread-topic", "thread-index")


def _header(msg: object, name: str) -> str | None:
    try:
        value = msg.get(name)  # type: ignore[attr-defined]
    except Exception:  # a header the stdlib cannot decode is treated as absent
        return None
    if value is None:
        return None
    return " ".join(str(value).split())


def parse_date(value: str | None) -> datetime | None:
    """RFC 5322 date to an aware datetime; None when absent or nonsense (hour 27 ...)."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def split_ids(value: str | None) -> list[str]:
    """Message-IDs from a References / In-Reply-To value, in order, without duplicates."""
    if not value:
        return []
    out: list[str] = []
    for token in value.replace(",", " ").split():
        if token.startswith("<") and token.endswith(">") and len(token) > 2 and token not in out:
            out.append(token)
    return out


def normalise_message_id(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    ids = split_ids(value)
    if ids:
        return ids[0]
    return f"<{value}>" if value and " " not in value else None


def _addresses(msg: Message, name: str) -> list[str]:
    """Addresses of a header as "Name <addr>" strings.

    The standard library's getaddresses on the raw header is used rather than
    mail-parser's address properties: same result for our purpose (display and
    threading), at a fraction of the cost on the ingest hot path.
    """
    try:
        values = [str(v) for v in msg.get_all(name, [])]
        pairs = email.utils.getaddresses(values)
    except Exception:
        return []
    out = []
    for display, addr in pairs:
        if "=?" in display:
            with contextlib.suppress(Exception):  # undecodable encoded-word: keep it as written
                display = str(email.header.make_header(email.header.decode_header(display)))
        display = " ".join(display.split())
        out.append(f"{display} <{addr}>" if display and addr else (addr or display))
    return [a for a in out if a]


def _leaf_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _collect_parts(part: Message, message: ParsedMessage, embedded: list[tuple[str, bytes]]) -> None:
    """Gather attachments and attached messages from the standard-library MIME tree.

    mail-parser drops unnamed non-text parts (an unnamed ``application/ms-tnef``
    lands in its "not managed" text), so attachment bytes are taken from the tree
    itself: every leaf that is not an inline text body is kept.
    """
    ctype = part.get_content_type()
    if ctype == "message/rfc822" and part.is_multipart():
        inner = part.get_payload()
        if not inner:
            return
        try:
            inner_bytes = inner[0].as_bytes()
        except Exception:
            try:
                inner_bytes = inner[0].as_string().encode("utf-8", "surrogateescape")
            except Exception as exc:
                message.defects.append(f"attached message could not be re-serialised: {exc}")
                return
        name = part.get_filename() or (_header(inner[0], "Subject") or "attached message") + ".eml"
        embedded.append((str(name), inner_bytes))
        return
    if part.is_multipart():
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            _collect_parts(sub, message, embedded)
        return
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    disposition = (part.get_content_disposition() or "").lower()
    is_body = ctype in ("text/plain", "text/html") and not filename and disposition != "attachment"
    if is_body or part is None:
        return
    index = len(message.attachments) + 1
    name = str(filename) if filename else f"part-{index}.{ctype.split('/')[-1][:20] or 'bin'}"
    message.attachments.append(Attachment(filename=name, content_type=ctype, data=_leaf_bytes(part)))


def _stdlib_parse(data: bytes) -> tuple[Message, str, list[str], list[str]]:
    """The standard library's own reading, for messages mail-parser cannot handle."""
    msg = email.message_from_bytes(data)
    subject = ""
    with contextlib.suppress(Exception):
        subject = str(email.header.make_header(email.header.decode_header(msg.get("Subject", ""))))
    plain: list[str] = []
    html: list[str] = []
    for part in msg.walk():
        if part.is_multipart() or part.get_filename():
            continue
        ctype = part.get_content_type()
        if ctype in ("text/plain", "text/html"):
            payload = _leaf_bytes(part)
            charset = part.get_content_charset() or "utf-8"
            try:
                text = payload.decode(charset, errors="replace")
            except LookupError:
                text = decode_bytes(payload)
            (plain if ctype == "text/plain" else html).append(text)
    return msg, subject, plain, html


def parse_rfc822(data: bytes) -> tuple[ParsedMessage, list[tuple[str, bytes]]]:
    """Parse one RFC 5322 message.

    Returns the message (attachments with their bytes, no children yet) and the
    raw bytes of attached ``message/rfc822`` parts as (name, bytes) for the
    dispatcher to recurse into.
    """
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark hides the first header from the parser
        data = data[3:]
    defects: list[str] = []
    try:
        mail = mailparser.parse_from_bytes(data)
        raw = mail.message
        subject = (_header(raw, "Subject") or "") if raw is not None else ""
        with contextlib.suppress(Exception):  # a mangled encoded-word: keep the raw header value
            subject = mail.subject or subject
        plain_parts, html_parts = list(mail.text_plain), list(mail.text_html)
        if mail.has_defects:
            defects.extend(sorted(mail.defects_categories))
    except Exception as exc:  # mail-parser has bugs on some malformed MIME (e.g. a missing epilogue)
        raw, subject, plain_parts, html_parts = _stdlib_parse(data)
        defects.append(f"mail-parser failed ({type(exc).__name__}: {exc}); read with the standard library")
    if raw is None or (len(raw.keys()) == 0 and not raw.get_payload()):
        raise ParseError("no RFC 5322 header or body found")
    if len(raw.keys()) == 0:
        raise ParseError("not an email: no RFC 5322 header fields")
    text_plain = "\n".join(plain_parts)
    text_html = "\n".join(html_parts) or None
    body = text_plain
    if not body.strip() and text_html:
        body = html_to_text(text_html)
    headers = {k: v for k in KEPT_HEADERS if (v := _header(raw, k))}
    message = ParsedMessage(
        message_id=normalise_message_id(_header(raw, "Message-ID")),
        subject=" ".join(str(subject).split()),
        date=parse_date(_header(raw, "Date")),
        sender=(_addresses(raw, "From") or [_header(raw, "From") or ""])[0],
        to=_addresses(raw, "To"),
        cc=_addresses(raw, "Cc"),
        in_reply_to=(split_ids(_header(raw, "In-Reply-To")) or [None])[-1],
        references=split_ids(_header(raw, "References")),
        thread_topic=headers.get("thread-topic"),
        thread_index=headers.get("thread-index"),
        headers=headers,
        body_text=body,
        body_html=text_html,
        container="eml",
    )
    message.defects.extend(defects)
    embedded: list[tuple[str, bytes]] = []
    _collect_parts(raw, message, embedded)
    return message, embedded
