"""fixtures.generate: a deterministic, parseable, realistic synthetic CRU corpus."""

from __future__ import annotations

import email
import email.policy
import io
import re
import time
from email.message import EmailMessage
from pathlib import Path

import extract_msg
import mailparser
import pytest
from extract_msg.enums import AttachmentType

from fixtures.generate import FORCES, generate_corpus, main

LOG_RE = re.compile(r"(?:Log No\.(\d{1,4})/(\d\d)|Case No (\d{6})/(\d\d))")


def _parse(path: Path) -> EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_corpus(tmp_path_factory.mktemp("corpus"), 300, seed=7)


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    a = generate_corpus(tmp_path / "a", 50, seed=3)
    b = generate_corpus(tmp_path / "b", 50, seed=3)
    assert [p.name for p in a] == [p.name for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))
    c = generate_corpus(tmp_path / "c", 50, seed=4)
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]


def test_maildir_and_eml_layouts(tmp_path: Path) -> None:
    md = generate_corpus(tmp_path / "md", 5)
    assert all(p.parent == tmp_path / "md" / "cur" and p.name.endswith(":2,S") for p in md)
    assert (tmp_path / "md" / "new").is_dir() and (tmp_path / "md" / "tmp").is_dir()
    eml = generate_corpus(tmp_path / "eml", 5, fmt="eml")
    assert [p.name for p in eml] == [f"{i:05d}.eml" for i in range(1, 6)]
    assert [p.read_bytes() for p in md] == [p.read_bytes() for p in eml]
    with pytest.raises(ValueError):
        generate_corpus(tmp_path / "x", 1, fmt="mbox")


def test_fifty_parse_with_stdlib_and_mailparser(tmp_path: Path) -> None:
    for path in generate_corpus(tmp_path, 50, seed=0):
        std = _parse(path)
        parsed = mailparser.parse_from_bytes(path.read_bytes())
        assert std["Message-ID"] and parsed.message_id == str(std["Message-ID"])
        assert not std.defects and not parsed.defects
        assert std.get_body(("plain",)) is not None
        assert LOG_RE.search(str(std["Subject"])), std["Subject"]


def test_shape_of_the_corpus(corpus: list[Path]) -> None:
    msgs = [_parse(p) for p in corpus]
    ids = [str(m["Message-ID"]) for m in msgs]
    assert len(set(ids)) == len(ids) == 300
    subjects = [str(m["Subject"]) for m in msgs]
    assert any(s.startswith("Update to - RE: ") for s in subjects)
    assert any(s.startswith("IR Advice ") for s in subjects)
    assert any(s.endswith(" - Including Advice") for s in subjects)
    assert any(s.startswith("Case No ") for s in subjects)
    years = {m["Date"].datetime.year for m in msgs}
    assert min(years) == 2014 and max(years) == 2026
    to_domains = {str(m["To"]).split("@")[1].rstrip(">") for m in msgs}
    assert len(to_domains) > 30 and len(FORCES) >= 40
    bodies = [m.get_body(("plain",)).get_content() for m in msgs]  # type: ignore[union-attr]
    assert any(b.startswith("PROTECT") for b in bodies)
    assert any(
        b.startswith(("OFFICIAL - SENSITIVE", "OFFICIAL – SENSITIVE", "OFFICIAL-SENSITIVE")) for b in bodies
    )
    assert sum(m.get_body(("html",)) is not None for m in msgs) > 60
    # log numbers rise within each year
    last: dict[str, int] = {}
    for m in msgs:
        s = str(m["Subject"])
        if s.startswith(("Update to", "IR Advice")):
            continue
        g = LOG_RE.search(s)
        assert g
        num, yy = int(g.group(1) or g.group(3)), g.group(2) or g.group(4)
        assert num > last.get(yy, 0)
        last[yy] = num


def test_replies_point_into_the_corpus(corpus: list[Path]) -> None:
    msgs = [_parse(p) for p in corpus]
    by_id = {str(m["Message-ID"]): m for m in msgs}
    updates = [m for m in msgs if str(m["Subject"]).startswith("Update to - RE: ")]
    assert updates
    for upd in updates:
        parent = by_id[str(upd["In-Reply-To"])]
        assert str(upd["Subject"]) == "Update to - RE: " + str(parent["Subject"])
        assert f"Subject: {parent['Subject']}" in upd.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert parent["Date"].datetime < upd["Date"].datetime


def test_some_carry_earlier_advice_as_msg(corpus: list[Path]) -> None:
    with_msg = 0
    for path in corpus:
        msg = _parse(path)
        for part in msg.walk():
            if (part.get_filename() or "").endswith(".msg"):
                with_msg += 1
                data = part.get_payload(decode=True)
                assert isinstance(data, bytes)
                with extract_msg.openMsg(io.BytesIO(data)) as inner:
                    assert inner.subject and inner.messageId
                    assert inner.date is not None
                    assert all(a.type in (AttachmentType.DATA, AttachmentType.MSG) for a in inner.attachments)
    assert 0.04 * len(corpus) <= with_msg <= 0.2 * len(corpus)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "cli"), "-n", "3", "--format", "eml"]) == 0
    assert sorted(p.name for p in (tmp_path / "cli").iterdir()) == ["00001.eml", "00002.eml", "00003.eml"]
    assert "wrote 3 messages" in capsys.readouterr().out


@pytest.mark.slow
def test_five_thousand_is_fast(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    paths = generate_corpus(tmp_path, 5000, seed=1)
    elapsed = time.perf_counter() - t0
    assert len(paths) == 5000
    assert len({p.name for p in paths}) == 5000
    assert elapsed < 30, f"took {elapsed:.1f} s"
