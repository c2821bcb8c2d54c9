"""Local mail files: .eml, .msg, TNEF, mbox, Maildir folders, and directories of these.

The Python standard library's ``mailbox`` module does mbox framing; we only
decide which framing a path has. What a single file holds (RFC 822, .msg, TNEF)
is left to the parsers, which sniff the bytes.
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pipeline.sources.base import RawMail, SourceProblem


def is_mbox(data: bytes) -> bool:
    """An mbox starts with a "From " envelope line (not a "From:" header)."""
    return data.startswith(b"From ") and b"\n" in data[:1000]


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
            # Maildir++ sub-folders (".Sent", ".My Folder.Nested") and any other sub-directory.
            for sub in sorted(p for p in path.iterdir() if p.is_dir() and p.name not in {"cur", "new", "tmp"}):
                yield from self._walk(sub)
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
        if is_mbox(data):
            yield from self._mbox(path)
            return
        yield RawMail(f"file:{path}", data, _mtime(path), "txt" if path.suffix.lower() == ".txt" else None)

    def _mbox(self, path: Path) -> Iterator[RawMail | SourceProblem]:
        try:
            box = mailbox.mbox(str(path), create=False)
            keys = list(box.keys())
        except Exception as exc:  # mailbox raises several unrelated types on a broken file
            yield SourceProblem(f"mbox:{path}", f"cannot read mbox: {exc}")
            return
        for index, key in enumerate(keys):
            try:
                data = box.get_bytes(key, from_=False)
            except Exception as exc:
                yield SourceProblem(f"mbox:{path}#{index}", f"cannot read mbox entry: {exc}")
                continue
            yield RawMail(f"mbox:{path}#{index}", data, _mtime(path), "eml")
        box.close()

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
