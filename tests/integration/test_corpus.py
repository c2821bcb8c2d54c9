"""Every real third-party mail file in ../shared/corpus is ingested or quarantined with a reason.

The files are read in place (their licences are their authors'); the test skips
where ../shared is absent, as in a user's fresh clone.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from parsers.dispatch import parse_mail
from pipeline.ingest import ingest
from pipeline.sources.local import BOM, LocalSource, split_mbox
from pipeline.store import Store
from tests.conftest import CORPUS, need

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

MAIL_KINDS = {"eml", "msg", "tnef", "mbox"}


def _manifest() -> list[dict[str, str]]:
    with (need(CORPUS) / "manifest.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _expected_raw(rows: list[dict[str, str]]) -> tuple[int, set[str]]:
    """How many raw messages the mail files hold, and their sha256 set."""
    count = 0
    shas: set[str] = set()
    for row in rows:
        path = CORPUS / row["relpath"]
        if row["kind"] == "mbox":
            for message in split_mbox(path.read_bytes()):  # (a one-message mbox file would be kept whole)
                count += 1
                shas.add(hashlib.sha256(message).hexdigest())
        else:
            count += 1
            shas.add(row["sha256"])
    return count, shas


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, object, list[dict[str, str]]]:
    rows = [r for r in _manifest() if r["kind"] in MAIL_KINDS]
    store = Store(tmp_path_factory.mktemp("corpus") / "cru.db")
    source = LocalSource([CORPUS / r["relpath"] for r in rows])
    report = ingest(store, source)
    yield store, report, rows
    store.close()


def test_manifest_counts_match_the_files_on_disk() -> None:
    rows = _manifest()
    kinds = Counter(r["kind"] for r in rows)
    assert sum(kinds.values()) == 1235
    for row in rows:
        assert (CORPUS / row["relpath"]).is_file(), row["relpath"]


def test_every_mail_file_is_stored_none_lost(corpus_store) -> None:
    store, report, rows = corpus_store
    expected_count, expected_shas = _expected_raw(rows)
    assert report.files == len(rows)
    assert report.messages == expected_count
    assert report.messages == report.new + report.duplicates + report.quarantined
    stored = {sha for (sha,) in store.db.execute("SELECT sha256 FROM raw_mail")}
    assert expected_shas <= stored, f"lost: {sorted(expected_shas - stored)[:5]}"
    # Every raw message ended in a known state, and every quarantined one says why.
    statuses = Counter(s for (s,) in store.db.execute("SELECT status FROM raw_mail"))
    assert set(statuses) <= {"parsed", "quarantined", "duplicate", "oversize"}, statuses
    for sha, error in store.db.execute(
        "SELECT r.sha256, q.error FROM raw_mail r LEFT JOIN quarantine q USING (sha256) "
        "WHERE r.status IN ('quarantined', 'oversize')"
    ):
        assert error and error.strip(), f"{sha} quarantined without a reason"
    # Real mail parses: at most 5% of these deliberately odd files are quarantined.
    assert statuses["quarantined"] + statuses["oversize"] <= 0.05 * expected_count, statuses


def test_reingesting_the_corpus_changes_nothing(corpus_store) -> None:
    store, _, rows = corpus_store
    before = store.db.execute(
        "SELECT (SELECT COUNT(*) FROM raw_mail), (SELECT COUNT(*) FROM messages), "
        "(SELECT COUNT(*) FROM attachments), (SELECT COUNT(*) FROM quarantine)"
    ).fetchone()
    report = ingest(store, LocalSource([CORPUS / r["relpath"] for r in rows]))
    assert report.new == 0 and report.quarantined == 0
    assert report.duplicates == report.messages
    after = store.db.execute(
        "SELECT (SELECT COUNT(*) FROM raw_mail), (SELECT COUNT(*) FROM messages), "
        "(SELECT COUNT(*) FROM attachments), (SELECT COUNT(*) FROM quarantine)"
    ).fetchone()
    assert before == after


@pytest.mark.parametrize("name", ["content-length", "issue1189"])
def test_mbox_split_matches_mimekit_expected_offsets(name: str) -> None:
    base = need(CORPUS / "mimekit" / "mbox")
    expected = json.loads((base / f"{name}.unix-offsets.json").read_text())
    assert len(split_mbox((base / f"{name}.mbox.txt").read_bytes())) == len(expected)


def test_mbox_split_loses_no_byte() -> None:
    for row in _manifest():
        if row["kind"] != "mbox":
            continue
        data = (CORPUS / row["relpath"]).read_bytes().removeprefix(BOM)
        messages = split_mbox(data)
        envelopes = re.findall(rb"^From [^\n]*\n?", data, re.MULTILINE)
        # Everything that is not a separator line is inside exactly one message.
        assert sum(map(len, messages)) + sum(len(e) for e in envelopes) >= len(data), row["relpath"]
        assert sum(map(len, messages)) <= len(data)


def test_unmunged_mbox_keeps_its_first_message() -> None:
    data = need(CORPUS / "mimekit" / "mbox" / "unmunged.mbox.txt").read_bytes()
    messages = split_mbox(data)
    assert len(messages) == 2
    assert all(m.startswith(b"From: ") for m in messages)


def test_embedded_msg_attachments_become_child_messages() -> None:
    for rel in ("msgreader/EmailWithMsgAttachment.msg", "apache-poi/hsmf/attachment_msg_pdf.msg",
                "apache-poi/hsmf/58214_with_attachment.msg"):
        tree = parse_mail(need(CORPUS / rel).read_bytes())
        attached = [c for c in tree.children if c.relation == "attached"]
        assert attached, rel
        assert attached[0].subject, rel


def test_message_rfc822_parts_become_child_messages() -> None:
    tree = parse_mail(need(CORPUS / "cpython-email-py2.7.3/msg_02.txt").read_bytes())
    assert len([c for c in tree.children if c.relation == "attached"]) == 5


@pytest.mark.parametrize("name", ["attachments", "body", "multi-name-property", "data-before-name"])
def test_tnef_attachment_names_match_mimekit_expectations(name: str) -> None:
    tnef = need(CORPUS / "mimekit" / "tnef" / f"{name}.tnef")
    # MimeKit lists the message body as body.rtf/body.html; cru keeps the body as the message's text.
    expected = [line.strip() for line in (tnef.with_suffix(".list")).read_text().splitlines()
                if line.strip() and not line.strip().startswith("body.")]
    tree = parse_mail(tnef.read_bytes())
    got = [a.filename for a in tree.attachments]
    assert sorted(got) == sorted(expected)


@pytest.mark.parametrize("name", ["plain_jpeg_attached", "plain_unsent", "charset"])
def test_msg_subject_matches_msgconvert_expected_eml(name: str) -> None:
    base = need(CORPUS / "email-outlook-message-perl")
    from_msg = parse_mail((base / f"{name}.msg").read_bytes())
    from_eml = parse_mail((base / f"{name}.eml").read_bytes())
    assert from_msg.subject == from_eml.subject
    def words(text: str) -> list[str]:  # msgconvert re-encodes some punctuation
        return re.findall(r"\w+", text)[:12]

    assert words(from_msg.body_text) == words(from_eml.body_text)


def test_whole_corpus_directory_walk_accounts_for_every_file(tmp_path: Path) -> None:
    """Pointing `cru ingest` at the whole tree (expected outputs included) never crashes or loses a file."""
    need(CORPUS)
    store = Store(tmp_path / "all.db")
    source = LocalSource([CORPUS])
    report = ingest(store, source)
    on_disk = [p for p in CORPUS.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert report.files == len(on_disk)
    assert report.messages == report.new + report.duplicates + report.quarantined
    store.close()
