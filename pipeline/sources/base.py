"""The source interface: where mail comes from, as raw bytes, before any parsing.

Local files and IMAP both yield ``RawMail``; nothing in a source parses a message,
so the same bytes reach the store whatever their origin (raw first, everything
else derived).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class RawMail:
    """One message's bytes and where they were found.

    ``source_ref`` is a stable, human-readable locator ("file:/path",
    "mbox:/path#3", "maildir:/path/cur/name", "imap://account/folder;UID=7").
    ``container`` hints how the bytes are framed ("eml", "msg", "tnef", "txt"),
    or is None when the parser should sniff it.
    """

    source_ref: str
    data: bytes
    received_at: datetime | None = None
    container: str | None = None


@dataclass(frozen=True)
class SourceProblem:
    """A place a source could not read (unreadable file, broken mbox): reported, never silent."""

    source_ref: str
    error: str


class Source(Protocol):
    """Anything that yields raw mail (and problems it met) in a stable order."""

    def __iter__(self) -> Iterator[RawMail | SourceProblem]: ...
