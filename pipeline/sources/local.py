"""Local mail files: .eml, .msg, TNEF, mbox, Maildir folders, and directories of these.

The Python standard library's ``mailbox`` module does mbox framing; we only
decide which framing a path has. What a single file holds (RFC 822, .msg, TNEF)
is left to the parsers, which sniff the bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pipeline.sources.base import RawMail, SourceProblem

BOM = b"\xef\xbb\xbf"
# An envelope line: "From sender date" or Netscape's "From - date". A body line such as
# "From Russia with love" (unescaped, as in "unmunged" mboxes) has no digit and no "-".
_ENVELOPE = re.compile(rb"^From (?:-|\S+ .*\d|\S*\d\S*)[^\n]*$", re.MULTILINE)
_CONTENT_LENGTH = re.compile(rb"^Content-Length:[ \t]*(\d+)[ \t]*\r?$", re.MULTILINE | re.IGNORECASE)


def is_mbox(data: bytes) -> bool:
    """An mbox starts with a "From " envelope line (not a "From:" header)."""
    data = data.removeprefix(BOM)
    return bool(_ENVELOPE.match(data[:1000])) and not data.startswith(b"From:")


def split_mbox(data: bytes) -> list[bytes]:
    """Split mbox bytes into messages (without their envelope lines).

    Our own splitter because the standard library's ``mailbox.mbox`` cuts a
    message at any body line beginning "From " (it loses the first message of
    an "unmunged" mbox) and ignores Content-Length. Here a separator is an
    envelope-shaped "From " line (real mboxes do not always put a blank line
    before it); a
    Content-Length header is honoured when it lands exactly on the next
    separator or the end. Every byte other than envelope lines ends up in
    exactly one message.
    """
    data = data.removeprefix(BOM)
    seps = list(_ENVELOPE.finditer(data))
    starts = {m.start() for m in seps}
    messages: list[bytes] = []
    i = 0
    while i < len(seps):
        line_end = data.find(b"\n", seps[i].start())
        body_start = len(data) if line_end < 0 else line_end + 1
        nxt = i + 1
        header_end = data.find(b"\n\n", body_start)
        header_end_crlf = data.find(b"\r\n\r\n", body_start)
        cl = _CONTENT_LENGTH.search(data, body_start, header_end if header_end >= 0 else len(data))
        end = seps[nxt].start() if nxt < len(seps) else len(data)
        if cl:
            he = min(x for x in (header_end + 2, header_end_crlf + 4) if x > 1) if (header_end >= 0 or
                                                                                   header_end_crlf >= 0) else -1
            target = he + int(cl.group(1)) if he > 0 else -1
            for candidate in (target, target + 1, target + 2):
                if candidate == len(data) or candidate in starts:
                    end = candidate
                    while nxt < len(seps) and seps[nxt].start() < end:
                        nxt += 1
                    break
        messages.append(data[body_start:end])
        i = nxt
    return messages


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return None


def is_maildir(path: Path) -> bool:
    return path.is_dir() and ((path / "cur").is_dir() or (path / "new").is_dir())


class LocalSource:
    """Yield every message under the given paths (files, mboxes, Maildirs, directories, recursively).

    Order is deterministic (sorted names) so that a run is reproducible.
    Unreadable paths are yielded as ``SourceProblem`` rather than raised.
    """

    def __init__(self, paths: Iterable[str | Path]) -> None:
        self.paths = [Path(p) for p in paths]
        #: Number of files opened (an mbox counts once, whatever it holds).
        self.files_read = 0

    def __iter__(self) -> Iterator[RawMail | SourceProblem]:
        for path in self.paths:
            yield from self._walk(path)

    def _walk(self, path: Path) -> Iterator[RawMail | SourceProblem]:
        if not path.exists():
            yield SourceProblem(f"file:{path}", "no such file or directory")
            return
        if is_maildir(path):
            yield from self._maildir(path)
            # Maildir++ sub-folders (".Sent", ".My Folder.Nested"), other sub-directories, and loose
            # files beside cur/ and new/ (seen in real trees): nothing under the path is skipped.
            for entry in sorted(path.iterdir()):
                if entry.name in {"cur", "new", "tmp"} or (entry.name.startswith(".") and not entry.is_dir()):
                    continue
                yield from self._walk(entry)
            return
        if path.is_dir():
            try:
                entries = sorted(path.iterdir())
            except OSError as exc:
                yield SourceProblem(f"file:{path}", f"cannot list directory: {exc}")
                return
            for entry in entries:
                if entry.name.startswith("."):
                    # Hidden files (.gitkeep, editor droppings) are not mail, but Maildir++
                    # folders are dot-named directories.
                    if entry.is_dir() and is_maildir(entry):
                        yield from self._walk(entry)
                    continue
                yield from self._walk(entry)
            return
        yield from self._file(path)

    def _file(self, path: Path) -> Iterator[RawMail | SourceProblem]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield SourceProblem(f"file:{path}", f"cannot read: {exc}")
            return
        self.files_read += 1
        if is_mbox(data) and path.suffix.lower() != ".eml":
            messages = split_mbox(data)
            if len(messages) > 1 or "mbox" in path.name.lower():
                for index, message in enumerate(messages):
                    yield RawMail(f"mbox:{path}#{index}", message, _mtime(path), "eml")
                return
            # A single saved message that keeps its envelope line: stored whole, byte for byte.
        yield RawMail(f"file:{path}", data, _mtime(path), "txt" if path.suffix.lower() == ".txt" else None)

    def _maildir(self, path: Path) -> Iterator[RawMail | SourceProblem]:
        for sub in ("new", "cur"):
            folder = path / sub
            if not folder.is_dir():
                continue
            for name in sorted(os.listdir(folder)):
                if name.startswith("."):
                    continue
                file = folder / name
                if not file.is_file():
                    continue
                try:
                    data = file.read_bytes()
                except OSError as exc:
                    yield SourceProblem(f"maildir:{file}", f"cannot read: {exc}")
                    continue
                self.files_read += 1
                yield RawMail(f"maildir:{file}", data, _mtime(file))
