"""TNEF (winmail.dat) streams, read with tnefparse.

A TNEF stream carries an Outlook message's body and attachments through
non-Outlook mail systems. Embedded message objects inside it are OLE storages
behind a 16-byte interface id; the dispatcher hands those to the .msg parser.
"""

from __future__ import annotations

import logging

import tnefparse

from parsers.errors import ParseError
from parsers.htmltext import html_to_text
from parsers.model import Attachment, ParsedMessage

logging.getLogger("tnefparse").setLevel(logging.CRITICAL)


def _decode(value: bytes | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        return value
    for enc in ("utf-8", "cp1252"):
        try:
            return value.decode(enc)
        except UnicodeDecodeError:
            continue
    return value.decode("latin-1")


def parse_tnef(data: bytes) -> ParsedMessage:
    """Parse a TNEF stream into a message whose attachments are the stream's files."""
    try:
        tnef = tnefparse.TNEF(data)
    except Exception as exc:  # tnefparse raises ValueError, struct.error, IndexError ...
        raise ParseError(f"tnefparse could not read the TNEF stream: {type(exc).__name__}: {exc}") from exc
    html = _decode(getattr(tnef, "htmlbody", None)) or None
    body = _decode(getattr(tnef, "body", None))
    if not body.strip() and html:
        body = html_to_text(html)
    message = ParsedMessage(body_text=body, body_html=html, container="tnef")
    for index, att in enumerate(tnef.attachments):
        try:
            name = att.long_filename() or att.name
        except Exception:
            name = getattr(att, "name", None)
        name = _decode(name) if name else f"attachment-{index + 1}"
        name = name.replace("\x00", "").strip() or f"attachment-{index + 1}"
        message.attachments.append(
            Attachment(filename=name, content_type="application/octet-stream", data=bytes(att.data or b""))
        )
    return message
