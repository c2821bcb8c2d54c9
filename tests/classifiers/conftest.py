"""Fixtures for the classifier tests: one trained model per session, seed request texts."""

from __future__ import annotations

from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def _seed_text() -> str:
    path = SEEDS / "001_0408a4dec1f2e07c.txt"
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads ../shared in place (CI always has it)")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def request_995_24() -> str:
    """The Applicants Request of Log 995/24 (2024, Palantir contract)."""
    return _seed_text().split("Applicants Request")[1].split("Kind regards")[0].strip()


@pytest.fixture(scope="session")
def request_157_25() -> str:
    """The Applicants Request of Log 157/25 (2025, Palantir contracts and DPIAs)."""
    return _seed_text().split("Applicants Request")[2].split("CRU Advice")[0].strip()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """Train once per test session (a few seconds) into a temporary directory."""
    from classifiers.topics import train

    return train(out_dir=tmp_path_factory.mktemp("models"), seed=0)


@pytest.fixture(scope="session")
def model(model_dir):
    from classifiers.topics import load_model

    return load_model(model_dir)


@pytest.fixture(scope="session")
def fixture_texts(tmp_path_factory) -> list[str]:
    """Subjects and bodies of every message in the fixture mailbox and of 200 generated messages."""
    from fixtures.generate import generate_corpus
    from parsers.dispatch import parse_mail

    repo = Path(__file__).resolve().parents[2]
    files = sorted((repo / "fixtures" / "mailbox" / "cur").iterdir())
    files += generate_corpus(tmp_path_factory.mktemp("generated"), 200, seed=1)
    texts: list[str] = []

    def visit(node) -> None:
        texts.append(f"{node.subject}\n{node.body_text}")
        for child in node.children:
            visit(child)

    for path in files:
        visit(parse_mail(path.read_bytes()))
    return texts
