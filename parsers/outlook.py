"""Outlook .msg (MS-OXMSG compound files), read with extract-msg.

Embedded messages (attachment method 5) come back as extract-msg ``Message``
objects; we convert them directly (no re-serialising needed to read them) and
keep their bytes via extract-msg's own writer so they are stored like any other
attachment.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

import extract_msg
from extract_msg.enums import AttachmentType

from parsers.errors import ParseError
from parsers.htmltext import html_to_text
from parsers.mime import KEPT_HEADERS, normalise_message_id, split_ids
from parsers.model import Attachment, ParsedMessage
from parsers.textcodec import decode_bytes

logging.getLogger("extract_msg").setLevel(logging.CRITICAL)

#: olefile's MINIMAL_OLEFILE_SIZE: one header sector plus one sector.
OLE_MINIMAL_SIZE = 1536


def _safe(obj: Any, name: str) -> Any:
    """Read a property; extract-msg raises on malformed streams, which we treat as absent."""
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _text(value: Any) -> str:
    return decode_bytes(value if isinstance(value, (bytes, str)) or value is None else str(value)).replace("\x00", "")


def _headers(msg: Any) -> dict[str, str]:
    header = _safe(msg, "header")
    out: dict[str, str] = {}
    if header is None:
        return out
    try:
        items = list(header.items())
    except Exception:
        return out
    for key, value in items:
        out[str(key).lower()] = " ".join(str(value).split())
    return out


def _date(msg: Any) -> datetime | None:
    value = _safe(msg, "date")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def convert_msg(msg: Any, max_depth: int, depth: int = 0) -> ParsedMessage:
    """Turn an open extract-msg object into a ParsedMessage, recursing into embedded messages."""
    headers = _headers(msg)
    html = _safe(msg, "htmlBody")
    html_text = _text(html) if html else None
    body = _text(_safe(msg, "body"))
    if not body.strip() and html_text:
        body = html_to_text(html_text)
    message_id = normalise_message_id(_safe(msg, "messageId") or headers.get("message-id"))
    in_reply_to = split_ids(_safe(msg, "inReplyTo") or headers.get("in-reply-to"))
    parsed = ParsedMessage(
        message_id=message_id,
        subject=" ".join(_text(_safe(msg, "subject")).split()),
        date=_date(msg),
        sender=_text(_safe(msg, "sender")),
        to=[t.strip() for t in _text(_safe(msg, "to")).split(";") if t.strip()],
        cc=[t.strip() for t in _text(_safe(msg, "cc")).split(";") if t.strip()],
        in_reply_to=in_reply_to[-1] if in_reply_to else None,
        references=split_ids(headers.get("references")),
        thread_topic=headers.get("thread-topic"),
        thread_index=headers.get("thread-index"),
        headers={k: v for k in KEPT_HEADERS if (v := headers.get(k))},
        body_text=body,
        body_html=html_text,
        container="msg",
    )
    attachments = _safe(msg, "attachments") or []
    for index, att in enumerate(attachments):
        name = _text(_safe(att, "longFilename") or _safe(att, "shortFilename") or _safe(att, "name"))
        name = name or f"attachment-{index + 1}"
        mime = _text(_safe(att, "mimetype")) or "application/octet-stream"
        att_type = _safe(att, "type")
        data = _safe(att, "data")
        if att_type == AttachmentType.MSG or (data is not None and hasattr(data, "attachments")):
            if not name.lower().endswith(".msg"):
                name = name + ".msg"
            try:
                blob = data.exportBytes()
            except Exception as exc:
                blob = b""
                parsed.defects.append(f"embedded message {name!r}: bytes could not be re-written: {exc}")
            parsed.attachments.append(
                Attachment(filename=name, content_type="application/vnd.ms-outlook", data=blob, is_message=True)
            )
            if depth + 1 >= max_depth:
                parsed.defects.append(f"embedded message {name!r} not unpacked: depth limit {max_depth}")
                continue
            try:
                child = convert_msg(data, max_depth, depth + 1)
            except Exception as exc:
                parsed.defects.append(f"embedded message {name!r} could not be read: {exc}")
                continue
            child.relation = "attached"
            child.source_name = name
            parsed.children.append(child)
            continue
        if isinstance(data, bytes):
            parsed.attachments.append(Attachment(filename=name, content_type=mime.lower(), data=data))
        elif data is not None:
            parsed.defects.append(f"attachment {name!r} of type {att_type} kept as a listing only")
            parsed.attachments.append(
                Attachment(filename=name, content_type=mime.lower(), data=b"", note=f"unsupported type {att_type}")
            )
    return parsed


def parse_msg(data: bytes, max_depth: int) -> ParsedMessage:
    """Parse .msg bytes; raise ParseError when extract-msg cannot open them."""
    if len(data) < OLE_MINIMAL_SIZE:
        # olefile takes bytes shorter than this for a file *path*: say what is really wrong.
        raise ParseError(f"truncated .msg: {len(data)} bytes is too short for an OLE compound file")
    try:
        msg = extract_msg.openMsg(
            data, delayAttachments=False, errorBehavior=extract_msg.enums.ErrorBehavior.SUPPRESS_ALL
        )
    except Exception as exc:
        raise ParseError(f"extract-msg could not open the .msg: {type(exc).__name__}: {exc}") from exc
    try:
        return convert_msg(msg, max_depth)
    except RecursionError as exc:
        raise ParseError("embedded messages nest too deeply") from exc
    finally:
        with contextlib.suppress(Exception):
            msg.close()
