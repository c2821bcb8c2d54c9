"""The parser manager: bytes in, a full message tree out.

In the manner of Aleph's ingest-file, one table says which handler takes which
container; the manager dispatches, then recurses into attached messages
(.msg, ``message/rfc822``, TNEF) up to a depth limit, extracts attachment text,
and splits Outlook reply chains into quoted child messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from parsers.attachments import extract_attachment_text
from parsers.chains import split_chain
from parsers.errors import ParseError
from parsers.mime import parse_rfc822
from parsers.model import RELATION_ATTACHED, RELATION_QUOTED, Attachment, ParsedMessage
from parsers.outlook import parse_msg
from parsers.sniff import TNEF_MAGIC, embedded_ole, sniff_container
from parsers.tnef import parse_tnef


@dataclass(frozen=True)
class ParseLimits:
    """Bounds that keep hostile or huge input from exhausting the worker."""

    max_depth: int = 5
    max_attachment_text_bytes: int = 20 * 1024 * 1024
    #: Quoted messages split out of one body (a 200-deep reply chain is a mailing list, not CRU mail).
    max_quoted: int = 50


def _parse_txt(data: bytes, limits: ParseLimits) -> tuple[ParsedMessage, list[tuple[str, bytes]]]:
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return ParsedMessage(body_text=text, container="txt"), []


def _parse_msg(data: bytes, limits: ParseLimits) -> tuple[ParsedMessage, list[tuple[str, bytes]]]:
    return parse_msg(data, limits.max_depth), []


def _parse_tnef(data: bytes, limits: ParseLimits) -> tuple[ParsedMessage, list[tuple[str, bytes]]]:
    return parse_tnef(data), []


def _parse_eml(data: bytes, limits: ParseLimits) -> tuple[ParsedMessage, list[tuple[str, bytes]]]:
    return parse_rfc822(data)


#: container -> handler(bytes, limits) -> (message, embedded rfc822 parts)
HANDLERS: dict[str, Callable[[bytes, ParseLimits], tuple[ParsedMessage, list[tuple[str, bytes]]]]] = {
    "eml": _parse_eml,
    "msg": _parse_msg,
    "tnef": _parse_tnef,
    "txt": _parse_txt,
}


def _child_container(att: Attachment) -> str | None:
    """Which handler an attachment's bytes need, if the attachment is itself a message."""
    if att.is_message or not att.data:
        return None
    if embedded_ole(att.data) is not None:
        return "msg"
    if att.data.startswith(TNEF_MAGIC):
        return "tnef"
    if att.content_type == "message/rfc822" or att.filename.lower().endswith(".eml"):
        return "eml"
    return None


def _expand(message: ParsedMessage, embedded: list[tuple[str, bytes]], depth: int, limits: ParseLimits) -> None:
    """Recurse into attached messages and extract attachment text, in place."""
    # Children the handler made itself (extract-msg's embedded messages) still need
    # their attachments expanded; children made below are expanded as they are made.
    native_children = list(message.children)
    for name, blob in embedded:
        att = Attachment(filename=name, content_type="message/rfc822", data=blob, is_message=True)
        message.attachments.append(att)
        _attach_child(message, att, "eml", blob, depth, limits)
    for att in list(message.attachments):
        container = _child_container(att)
        if container is not None:
            blob = embedded_ole(att.data) if container == "msg" else att.data
            att.is_message = True
            _attach_child(message, att, container, blob or b"", depth, limits)
            continue
        if att.is_message:
            continue
        if att.text is None and att.note is None:
            att.text, att.note = extract_attachment_text(
                att.filename, att.content_type, att.data, limits.max_attachment_text_bytes
            )
    for child in native_children:
        _expand(child, [], depth + 1, limits)


def _attach_child(
    parent: ParsedMessage, att: Attachment, container: str, blob: bytes, depth: int, limits: ParseLimits
) -> None:
    if depth + 1 >= limits.max_depth:
        att.note = f"kept, attached message not unpacked: depth limit {limits.max_depth}"
        parent.defects.append(f"attached message {att.filename!r} not unpacked: depth limit")
        return
    try:
        child, embedded = HANDLERS[container](blob, limits)
    except (ParseError, RecursionError) as exc:
        att.note = f"kept, attached message could not be parsed: {exc}"[:500]
        parent.defects.append(f"attached message {att.filename!r}: {exc}"[:500])
        return
    child.relation = RELATION_ATTACHED
    child.source_name = att.filename
    _expand(child, embedded, depth + 1, limits)
    parent.children.append(child)


def _split_quotes(message: ParsedMessage, limits: ParseLimits) -> None:
    """Replace the body by its own text and hang quoted earlier messages under it."""
    # One line-ending convention for everything downstream: mail fetched over IMAP and
    # Outlook bodies arrive with CRLF, local files mostly with LF.
    message.body_text = message.body_text.replace("\r\n", "\n").replace("\r", "\n")
    for child in list(message.children):
        _split_quotes(child, limits)
    segments = split_chain(message.body_text)
    top = segments[0]
    if top.header is not None and message.container == "txt":
        # A saved or printed message: its first header block is its own.
        message.subject = message.subject or top.header.subject
        message.sender = message.sender or top.header.sender
        message.date = message.date or top.header.sent
        if top.header.attachments:
            message.headers["x-cru-listed-attachments"] = "; ".join(top.header.attachments)
    if len(segments) == 1:
        return
    message.headers.setdefault("x-cru-original-body", message.body_text)
    message.body_text = top.text
    holder = message
    for segment in segments[1 : limits.max_quoted + 1]:
        header = segment.header
        assert header is not None
        quoted = ParsedMessage(
            subject=header.subject,
            date=header.sent,
            sender=header.sender,
            to=[t.strip() for t in header.to.split(";") if t.strip()],
            cc=[t.strip() for t in header.cc.split(";") if t.strip()],
            body_text=segment.text,
            relation=RELATION_QUOTED,
            container="quoted",
        )
        if header.attachments:
            quoted.headers["x-cru-listed-attachments"] = "; ".join(header.attachments)
        holder.children.append(quoted)
        holder = quoted
    if len(segments) > limits.max_quoted + 1:
        message.defects.append(f"reply chain longer than {limits.max_quoted} messages: rest kept in the body")


def parse_mail(
    data: bytes, container: str | None = None, name: str = "", limits: ParseLimits | None = None
) -> ParsedMessage:
    """Parse one message's bytes into a full tree; raise ParseError when the top level is unreadable."""
    limits = limits or ParseLimits()
    if container is None:
        container = sniff_container(data, name)
    elif container == "txt":
        # A .txt file that starts with header fields is RFC 822 mail saved under that name.
        container = sniff_container(data, "x.txt")
    handler = HANDLERS.get(container)
    if handler is None:
        raise ParseError(f"no parser for container {container!r}")
    try:
        message, embedded = handler(data, limits)
        _expand(message, embedded, 0, limits)
        _split_quotes(message, limits)
    except RecursionError as exc:
        raise ParseError("message structure nests too deeply") from exc
    return message
