"""Bad input gets a clear error and leaves the store intact; nothing is lost, nothing blocks the queue."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from fixtures.msgwriter import MsgAttachment, MsgSpec, build_msg
from parsers.dispatch import ParseLimits, parse_mail
from pipeline.cli import cli

GOOD = (b"From: CRU <cru@example.police.uk>\nTo: foi@example.police.uk\nSubject: Log No.12/25 CRU Circulation "
        b"(02/01/2025) - Drones\nMessage-ID: <good-1@example.police.uk>\nDate: Thu, 2 Jan 2025 10:00:00 +0000\n\n"
        b"OFFICIAL\n\nLog Number:12/25\nLogged with:Kent Police\n\nApplicants Request\n\nHow many drones?\n")


def spec(subject: str, inner: MsgSpec | None = None) -> MsgSpec:
    return MsgSpec(
        subject=subject, sender_name="CRU", sender_email="cru@example.police.uk", to=[("FOI", "foi@example.police.uk")],
        date=datetime(2025, 1, 2, 10, 0, tzinfo=UTC), body=f"Body of {subject}",
        message_id=f"<{abs(hash(subject))}@example.police.uk>",
        attachments=[MsgAttachment(filename=f"{inner.subject}.msg", embedded=inner)] if inner else [],
    )


def test_broken_msg_and_garbage_are_quarantined_and_later_mail_still_lands(tmp_path: Path) -> None:
    good_msg = build_msg(spec("Log No.13/25 CRU Circulation"))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a-truncated.msg").write_bytes(good_msg[: len(good_msg) // 3])
    (tmp_path / "in" / "b-garbage.eml").write_bytes(b"\x00\x01\x02 not mail at all")
    (tmp_path / "in" / "c-good.eml").write_bytes(GOOD)
    (tmp_path / "in" / "d-good.msg").write_bytes(good_msg)
    db = tmp_path / "cru.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "ingest", str(tmp_path / "in"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report == {"files": 4, "messages": 4, "new": 2, "duplicates": 0, "quarantined": 2}
    conn = sqlite3.connect(db)
    # The raw bytes of what failed are kept, byte for byte, with the reason.
    kept = dict(conn.execute("SELECT q.source_ref, r.data FROM quarantine q JOIN raw_mail r USING (sha256)"))
    assert {Path(k.split(":", 1)[1]).name for k in kept} == {"a-truncated.msg", "b-garbage.eml"}
    assert good_msg[: len(good_msg) // 3] in kept.values()
    reasons = [r for (r,) in conn.execute("SELECT error FROM quarantine")]
    assert all(reasons) and any("extract-msg" in r for r in reasons)
    conn.close()
    status = json.loads(CliRunner().invoke(cli, ["--db", str(db), "status", "--json", "--quarantine"]).stdout)
    assert status["quarantined"] == 2 and len(status["quarantine"]) == 2


def test_nested_msg_beyond_the_depth_limit_is_kept_with_a_note() -> None:
    inner = spec("level 6")
    for level in range(5, -1, -1):
        inner = spec(f"level {level}", inner)
    tree = parse_mail(build_msg(inner), limits=ParseLimits(max_depth=3))
    depth, node = 0, tree
    while node.children:
        node, depth = node.children[0], depth + 1
    assert depth == 2
    assert any("depth limit" in d for d in tree.walk()[2].defects)
    assert tree.walk()[2].attachments[0].is_message  # the deeper message's bytes are still kept


def test_missing_file_is_reported_and_the_rest_ingested(tmp_path: Path) -> None:
    (tmp_path / "ok.eml").write_bytes(GOOD)
    db = tmp_path / "cru.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "ingest", str(tmp_path / "ok.eml"), str(tmp_path / "nope.eml"),
                                      "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["new"] == 1
    assert "cannot read" in result.stderr and "nope.eml" in result.stderr


def test_store_that_is_not_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "not.db"
    db.write_bytes(b"this is not a database" * 100)
    result = CliRunner().invoke(cli, ["--db", str(db), "status"])
    assert result.exit_code == 2
    assert "not a usable SQLite store" in result.output and "Traceback" not in result.output
    assert db.read_bytes() == b"this is not a database" * 100
