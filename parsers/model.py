"""The one shape that travels: a parsed message tree.

Every parser (MIME, Outlook .msg, TNEF, quoted reply chains) produces
``ParsedMessage`` objects; children are messages attached to or quoted in
their parent. Extraction and storage read this shape and nothing else, so a
new container format only has to produce it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

#: How a child message came to be inside its parent.
RELATION_ROOT = "root"
RELATION_ATTACHED = "attached"  # an attached .msg / message/rfc822 / TNEF message object
RELATION_QUOTED = "quoted"  # an earlier message quoted Outlook-style in the body


@dataclass
class Attachment:
    """An attachment's bytes (kept whole, addressed by sha256) and its searchable text."""

    filename: str
    content_type: str
    data: bytes
    text: str | None = None
    #: Why no text was extracted, or why extraction failed (kept and listed, never dropped).
    note: str | None = None
    #: True when this attachment was parsed as a message and appears as a child.
    is_message: bool = False

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class ParsedMessage:
    """A message and, recursively, the messages attached to or quoted in it."""

    message_id: str | None = None
    subject: str = ""
    date: datetime | None = None
    sender: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    thread_topic: str | None = None
    thread_index: str | None = None
    #: Header fields the extractors need (e.g. ``msip_labels``), lower-case names.
    headers: dict[str, str] = field(default_factory=dict)
    body_text: str = ""
    body_html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    children: list[ParsedMessage] = field(default_factory=list)
    relation: str = RELATION_ROOT
    #: For attached children: the attachment's file name (slashes often stripped).
    source_name: str | None = None
    #: "eml", "msg", "tnef", "quoted", "txt"
    container: str = "eml"
    #: Non-fatal problems met while parsing (malformed MIME, undecodable part ...).
    defects: list[str] = field(default_factory=list)

    def walk(self) -> list[ParsedMessage]:
        """This message then every descendant, depth first (parents before children)."""
        out: list[ParsedMessage] = [self]
        for child in self.children:
            out.extend(child.walk())
        return out
