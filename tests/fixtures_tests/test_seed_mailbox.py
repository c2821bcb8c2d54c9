"""The committed seed Maildir (fixtures/mailbox) is real, parseable mail with the links tests rely on.

See fixtures/README.md for what each message is for.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
from email.message import EmailMessage
from pathlib import Path

import extract_msg
import mailparser
import pytest
from extract_msg.enums import AttachmentType

from fixtures.build_mailbox import DEFAULT_DEST, SEEDS_DIR, build_seed_mailbox, load_seeds

MAILBOX = DEFAULT_DEST
needs_seeds = pytest.mark.skipif(not SEEDS_DIR.is_dir(), reason=f"seed texts not present at {SEEDS_DIR}")

SUBJECTS = {
    "1750": "Log No.1750/22 CRU Circulation (13/09/2022) - S38(1)(b) - Palantir - OS",
    "mps": "RE: Log No.1750/22 CRU Circulation (13/09/2022) - S38(1)(b) - Palantir - OS",
    "ir": "IR Advice Log No.1750/22 CRU Circulation (29/11/2022)",
    "412": "Log No.412/24 CRU Circulation (03/06/2024) - Drones",
    "995": "Log No.995/24 CRU Circulation (12/11/2024) - S38(1)(b) - Palantir - OS",
    "update": "Update to - RE: Log No.995/24 CRU Circulation (12/11/2024) - S38(1)(b) - Palantir - OS",
    "157": "Log No.157/25 CRU Circulation (21/03/2025) - Including Advice",
}
IR_MSG = "IR Advice Log No.00175022 CRU Circulation (29112022) .msg"
ORIG_MSG = "Log No.175022 CRU Circulation (13092022) - S38(1)(b) - Palantir - OS.msg"
UPDATE_MSG = "Update to - RE Log No.99524 CRU Circulation (12112024) - - Palantir - OS.msg"


def _files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "cur").iterdir() if not p.name.startswith("."))


def _parse(path: Path) -> EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.fixture(scope="module")
def mailbox() -> dict[str, EmailMessage]:
    """Messages by subject (the two ``RE: FOI request`` replies by sender domain)."""
    out: dict[str, EmailMessage] = {}
    for path in _files(MAILBOX):
        msg = _parse(path)
        key = str(msg["Subject"])
        if key == "RE: FOI request":
            key += " " + str(msg["From"]).split("@")[1].split(".")[0]
        out[key] = msg
    return out


def _plain(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return part.get_content()


def test_layout_is_a_maildir() -> None:
    assert (MAILBOX / "new" / ".gitkeep").exists()
    assert (MAILBOX / "tmp" / ".gitkeep").exists()
    names = [p.name for p in _files(MAILBOX)]
    assert len(names) == 9
    assert all(re.fullmatch(r"\d{10}\.M\d+P\d+\.fixtures\.example\.police\.uk:2,S", n) for n in names)


def test_subjects_and_message_ids(mailbox: dict[str, EmailMessage]) -> None:
    assert set(SUBJECTS.values()) <= set(mailbox)
    assert {"RE: FOI request kent", "RE: FOI request hampshire"} <= set(mailbox)
    ids = [str(m["Message-ID"]) for m in mailbox.values()]
    assert all(re.fullmatch(r"<[0-9A-F]{40}@[A-Za-z0-9.-]+\.example\.police\.uk>", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_every_message_parses_with_mailparser() -> None:
    for path in _files(MAILBOX):
        parsed = mailparser.parse_from_bytes(path.read_bytes())
        std = _parse(path)
        assert parsed.message_id == str(std["Message-ID"])
        # Long subjects are folded, as Exchange does; mailparser (compat32) leaves them folded.
        assert re.sub(r"\r?\n(?=[ \t])", "", parsed.subject) == str(std["Subject"])
        assert parsed.text_plain, path.name
        assert not parsed.defects, path.name


def test_reply_links(mailbox: dict[str, EmailMessage]) -> None:
    first, mps = mailbox[SUBJECTS["1750"]], mailbox[SUBJECTS["mps"]]
    orig, update = mailbox[SUBJECTS["995"]], mailbox[SUBJECTS["update"]]
    assert mps["In-Reply-To"] == first["Message-ID"]
    assert update["In-Reply-To"] == orig["Message-ID"]
    assert str(update["References"]).split() == [str(orig["Message-ID"])]
    assert update["Thread-Topic"] == SUBJECTS["995"]
    assert str(update["Thread-Index"]).startswith(str(orig["Thread-Index"])[:28])
    for key in ("ir", "412", "995", "157"):
        assert mailbox[SUBJECTS[key]]["In-Reply-To"] is None
    # Outlook-style quote of the 12 Nov email in the update
    text = _plain(update)
    assert "From: NPCC CRU Mailbox <npcc.cru@example.police.uk>\nSent: 12 November 2024 10:26\nTo: " in text
    assert f"Subject: {SUBJECTS['995']}" in text
    assert text.index("Apologies for having to wait") < text.index("Logged with:Cambridgeshire Constabulary")


def test_generic_subjects_are_distinct_conversations(mailbox: dict[str, EmailMessage]) -> None:
    kent, hants = mailbox["RE: FOI request kent"], mailbox["RE: FOI request hampshire"]
    assert kent["In-Reply-To"] != hants["In-Reply-To"]
    assert str(kent["Thread-Index"])[:20] != str(hants["Thread-Index"])[:20]
    palantir_ids = {
        str(m["Message-ID"]) for s, m in mailbox.items() if "Palantir" in _plain(m) or "1750" in s
    }
    for msg in (kent, hants):
        assert not set(str(msg["References"]).split()) & palantir_ids
        assert not re.search(r"\d+/\d\d", str(msg["Subject"]) + _plain(msg).split("From:")[0])


def test_markings_and_labels(mailbox: dict[str, EmailMessage]) -> None:
    for key in ("1750", "ir", "995", "update", "157"):
        msg = mailbox[SUBJECTS[key]]
        assert "_Name=OFFICIAL-SENSITIVE;" in str(msg["msip_labels"])
        assert re.search(r"MSIP_Label_[0-9a-f-]{36}_Enabled=True", str(msg["msip_labels"]))
        assert re.match(r"OFFICIAL [-–] SENSITIVE\n+POLICE EYES ONLY", _plain(msg))
        assert msg["Content-Language"] == "en-GB"
    assert _plain(mailbox[SUBJECTS["157"]]).startswith("OFFICIAL – SENSITIVE")  # en dash, as in the seed
    for key in ("mps", "412"):
        assert "_Name=OFFICIAL;" in str(mailbox[SUBJECTS[key]]["msip_labels"])
        assert _plain(mailbox[SUBJECTS[key]]).startswith("OFFICIAL\n")
    assert mailbox["RE: FOI request kent"]["msip_labels"] is None


def test_html_alternative_is_outlook_word_html(mailbox: dict[str, EmailMessage]) -> None:
    msg = mailbox[SUBJECTS["update"]]
    html = msg.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "<p class=MsoNormal>" in content and 'content="Microsoft Word 15 (filtered medium)"' in content
    cids = re.findall(r'src="cid:([^"]+)"', content)
    inline = {str(p["Content-ID"]).strip("<>") for p in msg.walk() if p["Content-ID"]}
    assert cids and set(cids) <= inline
    assert mailbox["RE: FOI request hampshire"].get_content_type() == "text/plain"


def _attachments(msg: EmailMessage) -> dict[str, bytes]:
    out = {}
    for part in msg.walk():
        name = part.get_filename()
        if name:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            out[name] = payload
    return out


def test_update_attaches_2022_advice_as_msg(mailbox: dict[str, EmailMessage]) -> None:
    atts = _attachments(mailbox[SUBJECTS["update"]])
    assert list(atts) == ["image001.png", "image002.png", IR_MSG, ORIG_MSG]
    assert atts["image001.png"].startswith(b"\x89PNG\r\n\x1a\n")
    with extract_msg.openMsg(io.BytesIO(atts[IR_MSG])) as ir:
        assert ir.subject == SUBJECTS["ir"]
        assert ir.messageId == mailbox[SUBJECTS["ir"]]["Message-ID"]
    with extract_msg.openMsg(io.BytesIO(atts[ORIG_MSG])) as orig:
        assert orig.subject == SUBJECTS["1750"]


def test_157_25_msg_nests_the_ir_advice(mailbox: dict[str, EmailMessage]) -> None:
    atts = _attachments(mailbox[SUBJECTS["157"]])
    assert list(atts) == ["image001.png", "image002.png", UPDATE_MSG]
    with extract_msg.openMsg(io.BytesIO(atts[UPDATE_MSG])) as upd:
        assert upd.subject == SUBJECTS["update"]
        assert upd.messageId == mailbox[SUBJECTS["update"]]["Message-ID"]
        assert upd.header["In-Reply-To"] == mailbox[SUBJECTS["995"]]["Message-ID"]
        assert "Apologies for having to wait" in (upd.body or "")
        inner = {a.longFilename: a for a in upd.attachments}
        assert set(inner) == {"image001.png", "image002.png", IR_MSG, ORIG_MSG}
        ir = inner[IR_MSG]
        assert ir.type is AttachmentType.MSG
        assert isinstance(ir.data, extract_msg.Message)
        assert ir.data.subject == SUBJECTS["ir"]
        assert "uphold the original stance" in (ir.data.body or "")
        assert inner[ORIG_MSG].data.subject == SUBJECTS["1750"]


def test_mps_response_pdf(mailbox: dict[str, EmailMessage]) -> None:
    pypdf = pytest.importorskip("pypdf")
    atts = _attachments(mailbox[SUBJECTS["mps"]])
    (name,) = atts
    assert name == "01.FOI.22.027525 Final Response.pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(atts[name])).pages)
    assert "01.FOI.22.027525" in text and "Neither Confirm Nor Deny" in text


@needs_seeds
def test_content_comes_from_the_seeds(mailbox: dict[str, EmailMessage]) -> None:
    seeds = load_seeds()
    assert seeds.update.subject == SUBJECTS["update"]
    assert seeds.advice157.attachments[-1] == UPDATE_MSG
    assert seeds.update.attachments[-1] == IR_MSG  # ".msq" in the rendering, repaired
    body = _plain(mailbox[SUBJECTS["157"]])
    assert "Practitioners may recall the advice to maintain NCND for CRU 995/24" in body
    assert seeds.disclaimer in body.replace("\n", " ")
    assert "information that may be found online." in _plain(mailbox[SUBJECTS["update"]])


@needs_seeds
def test_build_is_deterministic(tmp_path: Path) -> None:
    a = build_seed_mailbox(tmp_path / "a")
    b = build_seed_mailbox(tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))


@needs_seeds
def test_committed_mailbox_matches_a_fresh_build(tmp_path: Path) -> None:
    fresh = {p.name: p.read_bytes() for p in build_seed_mailbox(tmp_path / "fresh")}
    committed = {p.name: p.read_bytes() for p in _files(MAILBOX)}
    assert fresh.keys() == committed.keys(), "re-run: python -m fixtures.build_mailbox"
    assert [n for n in fresh if fresh[n] != committed[n]] == [], "re-run: python -m fixtures.build_mailbox"
