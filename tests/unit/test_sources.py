"""Local sources: files, mbox, Maildir, directories; nothing parsed, nothing lost."""

from __future__ import annotations

import mailbox
from pathlib import Path

from pipeline.sources.base import RawMail, SourceProblem
from pipeline.sources.local import LocalSource

MSG = b"From: a@example.org\nSubject: s%d\nMessage-ID: <m%d@example.org>\n\nbody\n"


def test_directory_mbox_maildir_and_files(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(MSG % (1, 1))
    (tmp_path / "sub").mkdir()
    box = mailbox.mbox(str(tmp_path / "sub" / "box.mbox"))
    for i in (2, 3):
        box.add(MSG % (i, i))
    box.close()
    md = mailbox.Maildir(str(tmp_path / "md"), create=True)
    md.add(MSG % (4, 4))
    md.close()
    (tmp_path / ".hidden").write_bytes(b"not mail")
    items = list(LocalSource([tmp_path]))
    raws = [i for i in items if isinstance(i, RawMail)]
    assert len(raws) == 4
    refs = [r.source_ref for r in raws]
    assert any(r.startswith("mbox:") and r.endswith("#1") for r in refs)
    assert any(r.startswith("maildir:") for r in refs)
    assert all(b"Subject: s" in r.data for r in raws)


def test_missing_path_is_reported_not_raised(tmp_path: Path) -> None:
    items = list(LocalSource([tmp_path / "nope"]))
    assert len(items) == 1 and isinstance(items[0], SourceProblem)


def test_maildir_without_tmp_and_new(tmp_path: Path) -> None:
    (tmp_path / "cur").mkdir()
    (tmp_path / "cur" / "1:2,S").write_bytes(MSG % (1, 1))
    (tmp_path / "cur" / ".gitkeep").write_bytes(b"")
    raws = list(LocalSource([tmp_path]))
    assert len(raws) == 1 and raws[0].data.startswith(b"From: a@")
