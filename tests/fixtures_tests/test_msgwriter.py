"""fixtures.msgwriter writes MS-OXMSG files that independent readers accept.

Two readers: extract-msg (the one the pipeline uses) and Debian's msgconvert
(Email::Outlook::Message, a separate implementation), so a fixture bug cannot
hide behind a reader that shares our assumptions.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import extract_msg
import olefile
import pytest
from extract_msg.enums import AttachmentType

from fixtures.msgwriter import MsgAttachment, MsgSpec, build_msg, filetime, outlook_attachment_name

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24


def _spec(level: int, inner: MsgSpec | None = None, dash: str = "–") -> MsgSpec:
    """A message at nesting ``level``; ``inner`` (if any) is attached as an Outlook item."""
    atts = [MsgAttachment(f"notes-{level}.txt", f"attachment at level {level}\n".encode(), "text/plain")]
    if inner is not None:
        atts.append(
            MsgAttachment(
                outlook_attachment_name(inner.subject), mime_type="application/vnd.ms-outlook", embedded=inner
            )
        )
    return MsgSpec(
        subject=f"Level {level} {dash} Log No.{100 + level}/24 CRU Circulation (12/11/2024)",
        sender_name="NPCC CRU Mailbox",
        sender_email="npcc.cru@example.police.uk",
        to=[
            ("Thames Valley Police FOI", "foi@thamesvalley.example.police.uk"),
            ("Kent Police FOI", "foi@kent.example.police.uk"),
        ],
        date=datetime(2024, 11, 12, 10, 26, level, tzinfo=UTC),
        body=f"OFFICIAL - SENSITIVE\n\nBody of level {level} – with an en dash.\n",
        html=f"<html><body><p class=MsoNormal>Level {level}</p></body></html>",
        message_id=f"<level{level}@EXCH01.example.police.uk>",
        in_reply_to=f"<parent{level}@EXCH01.example.police.uk>",
        attachments=atts,
    )


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    path = tmp_path / "outer.msg"
    path.write_bytes(build_msg(_spec(0, _spec(1, _spec(2)))))
    return path


def _norm(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n")


def _check_level(msg: extract_msg.msg_classes.MessageBase, level: int) -> None:
    spec = _spec(level)
    assert msg.subject == spec.subject
    assert msg.sender == "NPCC CRU Mailbox <npcc.cru@example.police.uk>"
    assert "foi@thamesvalley.example.police.uk" in msg.to and "foi@kent.example.police.uk" in msg.to
    assert msg.date == spec.date
    assert _norm(msg.body) == spec.body
    assert msg.htmlBody == (spec.html or "").encode()
    assert msg.messageId == spec.message_id
    assert msg.header["In-Reply-To"] == spec.in_reply_to
    assert msg.inReplyTo == spec.in_reply_to
    files = [a for a in msg.attachments if a.type is AttachmentType.DATA]
    assert [(a.longFilename, a.data) for a in files] == [(f"notes-{level}.txt", spec.attachments[0].data)]
    assert [a.mimetype for a in files] == ["text/plain"]


def test_extract_msg_reads_back_everything_nested_two_levels(nested: Path) -> None:
    with extract_msg.openMsg(str(nested)) as outer:
        _check_level(outer, 0)
        (emb1,) = [a for a in outer.attachments if a.type is AttachmentType.MSG]
        assert emb1.longFilename == outlook_attachment_name(_spec(1).subject)
        assert isinstance(emb1.data, extract_msg.Message)
        _check_level(emb1.data, 1)
        (emb2,) = [a for a in emb1.data.attachments if a.type is AttachmentType.MSG]
        assert isinstance(emb2.data, extract_msg.Message)
        _check_level(emb2.data, 2)
        assert not [a for a in emb2.data.attachments if a.type is AttachmentType.MSG]


def test_property_stream_headers_follow_ms_oxmsg(nested: Path) -> None:
    """32-byte header at top level, 24 in embedded messages, 8 in recipients/attachments."""
    with olefile.OleFileIO(str(nested)) as ole:
        streams = ["/".join(s) for s in ole.listdir(streams=True, storages=False)]
        props = [s for s in streams if s.endswith("__properties_version1.0")]
        assert "__nameid_version1.0/__substg1.0_00020102" in streams
        for name in props:
            data = ole.openstream(name).read()
            parent = name.split("/")[-2] if "/" in name else ""
            if parent == "":
                header = 32
            elif parent == "__substg1.0_3701000D":
                header = 24
            else:
                assert parent.startswith(("__recip_version1.0_#", "__attach_version1.0_#"))
                header = 8
            assert (len(data) - header) % 16 == 0, name
            assert data[:8] == b"\0" * 8
        top = ole.openstream("__properties_version1.0").read()
        # next recipient id, next attachment id, recipient count, attachment count
        assert top[8:24] == bytes([2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0])
        assert any(
            s.startswith(
                "__attach_version1.0_#00000001/__substg1.0_3701000D/__attach_version1.0_#00000001/"
                "__substg1.0_3701000D/__recip_version1.0_#00000001"
            )
            for s in streams
        )


def test_output_is_deterministic() -> None:
    assert build_msg(_spec(0, _spec(1))) == build_msg(_spec(0, _spec(1)))


def test_date_must_be_timezone_aware() -> None:
    spec = _spec(0)
    spec.date = datetime(2024, 1, 1)  # deliberately naive
    with pytest.raises(ValueError):
        build_msg(spec)


def test_filetime_and_attachment_names() -> None:
    assert filetime(datetime(1970, 1, 1, tzinfo=UTC)) == 116444736000000000
    bst = timezone(timedelta(hours=1))
    assert filetime(datetime(2022, 9, 13, 11, 0, tzinfo=bst)) == filetime(
        datetime(2022, 9, 13, 10, 0, tzinfo=UTC)
    )
    assert (
        outlook_attachment_name("Log No.995/24 CRU Circulation (12/11/2024) - Palantir")
        == "Log No.99524 CRU Circulation (12112024) - Palantir.msg"
    )


def test_plain_message_without_optional_fields(tmp_path: Path) -> None:
    spec = MsgSpec(
        subject="FOI request",
        sender_name="Kent Police FOI",
        sender_email="foi@kent.example.police.uk",
        to=[("", "foi@thamesvalley.example.police.uk")],
        date=datetime(2024, 6, 5, 11, 12, tzinfo=UTC),
        body="Hi",
    )
    path = tmp_path / "plain.msg"
    path.write_bytes(build_msg(spec))
    with extract_msg.openMsg(str(path)) as msg:
        assert msg.subject == "FOI request"
        assert msg.attachments == []
        assert msg.messageId is None
        assert _norm(msg.body) == "Hi"


@pytest.mark.skipif(
    shutil.which("msgconvert") is None,
    reason="msgconvert not installed (apt-get install libemail-outlook-message-perl libemail-address-perl)",
)
def test_msgconvert_second_opinion(tmp_path: Path) -> None:
    """Debian's independent .msg reader converts our file to MIME with the same subject and body."""
    # ASCII subjects: msgconvert mis-encodes the whole output when a header has non-Latin-1 characters
    # ("Wide character" warnings); non-ASCII bodies are fine and are kept.
    spec = _spec(0, _spec(1, dash="-"), dash="-")
    src = tmp_path / "x.msg"
    src.write_bytes(build_msg(spec))
    out = tmp_path / "x.eml"
    subprocess.run(
        ["msgconvert", "--outfile", str(out), str(src)], check=True, capture_output=True, timeout=60
    )
    mime = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    assert mime["Subject"] == spec.subject
    assert mime["Message-ID"].strip() == spec.message_id
    assert mime["In-Reply-To"].strip() == spec.in_reply_to
    plain = mime.get_body(("plain",))
    assert plain is not None
    assert _norm(plain.get_content()).strip() == spec.body.strip()
    names = [p.get_filename() for p in mime.walk() if p.get_filename()]
    assert "notes-0.txt" in names
    assert outlook_attachment_name(_spec(1, dash="-").subject) in names
