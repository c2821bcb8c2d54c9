"""Shared test helpers: where the repository, the fixtures and ../shared are."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
CORPUS = SHARED / "corpus"
FIXTURE_MAILBOX = REPO / "fixtures" / "mailbox"


def need(path: Path) -> Path:
    """Skip the test with a clear reason when ../shared (absent in a user's fresh clone) is missing."""
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads ../shared in place (CI always has it)")
    return path


@pytest.fixture
def seed_update_text() -> str:
    return need(SEEDS / "001_0408a4dec1f2e07c.txt").read_text(encoding="utf-8")


@pytest.fixture
def seed_response_text() -> str:
    return need(SEEDS / "000_10cccf20ac60ae1f.txt").read_text(encoding="utf-8")
