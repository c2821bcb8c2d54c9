"""Shared helpers for the extraction tests: locate the seed documents and split seed 001 into emails."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS = REPO_ROOT.parent / "shared" / "seeds"
SEED_001 = SEEDS / "001_0408a4dec1f2e07c.txt"
SEED_000 = SEEDS / "000_10cccf20ac60ae1f.txt"

_HEADER = re.compile(r"^(From|Sent|Subject|Date|To|Cc|Attachments):[ \t]*(.*)$")
_LINK = re.compile(r"\[(.*?)\]\(.*?\)")


@dataclass(frozen=True)
class SeedEmail:
    subject: str
    body: str  # the email's own text (up to the next header block)
    attachments: tuple[str, ...]
    date_line: str
    body_line: int = 0  # index of the body's first line in the document


def read_seed(path: Path) -> str:
    if not path.is_file():
        pytest.skip(f"seed documents not available at {path.parent} (../shared/seeds is absent)")
    return path.read_text(encoding="utf-8")


def _unescape(name: str) -> str:
    return name.replace("\\(", "(").replace("\\)", ")")


def split_emails(text: str) -> list[SeedEmail]:
    """Split a document of Outlook-printed emails at each ``From:`` header block."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("From:")]
    emails: list[SeedEmail] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        subject = ""
        date_line = ""
        attachments: list[str] = []
        i = start
        in_attachments = False
        while i < end:
            line = lines[i]
            m = _HEADER.match(line)
            if m:
                key, value = m.groups()
                in_attachments = key == "Attachments"
                if key == "Subject":
                    subject = value
                elif key in ("Date", "Sent"):
                    date_line = value
                elif in_attachments:
                    attachments.extend(_unescape(x) for x in _LINK.findall(value))
                i += 1
                continue
            if in_attachments and line.startswith("["):
                attachments.extend(_unescape(x) for x in _LINK.findall(line))
                i += 1
                continue
            break
        emails.append(SeedEmail(subject, "\n".join(lines[i:end]), tuple(attachments), date_line, i))
    return emails


@pytest.fixture(scope="session")
def seed001() -> list[SeedEmail]:
    emails = split_emails(read_seed(SEED_001))
    assert len(emails) == 3
    return emails


@pytest.fixture(scope="session")
def seed000() -> str:
    return read_seed(SEED_000)


@pytest.fixture(scope="session")
def update_email(seed001: list[SeedEmail]) -> SeedEmail:
    """The 9 Dec 2024 update (own text only)."""
    return seed001[0]


@pytest.fixture(scope="session")
def circulation_email(seed001: list[SeedEmail]) -> SeedEmail:
    """The 12 Nov 2024 circulation quoted in the update."""
    return seed001[1]


@pytest.fixture(scope="session")
def log157_email(seed001: list[SeedEmail]) -> SeedEmail:
    """The 25 Mar 2025 circulation of 157/25 including advice."""
    return seed001[2]


@pytest.fixture(scope="session")
def update_with_quote(seed001: list[SeedEmail]) -> SeedEmail:
    """The update as a mail client delivers it: own text followed by the quoted circulation."""
    lines = read_seed(SEED_001).splitlines()
    first, third = seed001[0], seed001[2]
    # The third email's header block starts with its From: line, just before its body.
    third_start = max(i for i in range(third.body_line) if lines[i].startswith("From:"))
    body = "\n".join(lines[first.body_line : third_start])
    return SeedEmail(first.subject, body, first.attachments, first.date_line, first.body_line)
