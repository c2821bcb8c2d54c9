"""Header threading checked against other projects' expectations (notmuch, Mail::Box), read in place."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

from pipeline.ingest import ingest
from pipeline.sources.local import LocalSource
from pipeline.store import Store
from tests.conftest import CORPUS, need

pytestmark = pytest.mark.corpus


def threads_by_subject(tmp_path: Path, *paths: Path) -> dict[str, list[str]]:
    db = tmp_path / "t.db"
    with Store(db) as store:
        ingest(store, LocalSource(list(paths)))
    conn = sqlite3.connect(db)
    out: dict[str, list[str]] = defaultdict(list)
    for subject, thread_id in conn.execute(
        "SELECT subject, thread_id FROM messages WHERE relation = 'root' AND copy_of IS NULL"
    ):
        out[subject].append(thread_id)
    conn.close()
    return out


def test_notmuch_ghost_root_joins_through_phantom_parents(tmp_path: Path) -> None:
    t = threads_by_subject(tmp_path, need(CORPUS / "notmuch/corpora/threading/ghost-root"))
    family = {t["root message"][0], t["fake root message"][0]}
    assert len(family) == 1, "fake-root reaches real-root only through a missing (phantom) message"
    for subject, ids in t.items():
        if "grand-child" in subject:
            assert set(ids) <= family
    rt = {i for s, ids in t.items() if "FYI" in s for i in ids}
    assert len(rt) == 1 and not rt & family


def test_notmuch_parent_priority(tmp_path: Path) -> None:
    t = threads_by_subject(tmp_path, need(CORPUS / "notmuch/corpora/threading/parent-priority"))
    assert len({ids[0] for ids in t.values()}) == 1


def test_notmuch_reference_loop_terminates_as_one_thread(tmp_path: Path) -> None:
    loop = need(CORPUS / "notmuch/corpora/broken/loop")
    t = threads_by_subject(tmp_path, loop)
    assert len({i for ids in t.values() for i in ids}) == 1


def test_mail_box_expected_threads(tmp_path: Path) -> None:
    """Mail::Box's START tree: four 'Problem resizing' messages and a reply under a shared dummy root."""
    t = threads_by_subject(tmp_path, need(CORPUS / "perl5-mail-box/mbox.src"))
    resizing = {i for s, ids in t.items() if s.endswith("Problem resizing images through perl script") for i in ids}
    convert = set(t["Re: Convert HTM, HTML files to the .jpg format"])
    assert len(resizing) == 1 and resizing == convert
    # Same subject, no threading headers: Mail::Box keeps these apart, and so do we.
    transparency = [i for s, ids in t.items() if s.endswith("Transparency question") for i in ids]
    assert len(transparency) == 5 and len(set(transparency)) == 5
    # A generic subject never merges on its own.
    your_mail = {i for s, ids in t.items() if s == "Re: your mail" for i in ids}
    assert len(your_mail) >= 3
