"""The labelled request set (classifiers/data/requests.jsonl) and its fixed held-out split.

Each line is one FOI request text with its topics and provenance. The split is
chosen by a seeded hash of the id and stored in the file, so it never moves
when examples are added, and training code can check it has not drifted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.taxonomy import Taxonomy, load_taxonomy

DATA_DIR = Path(__file__).resolve().parent / "data"
REQUESTS_PATH = DATA_DIR / "requests.jsonl"
SUPPLIERS_PATH = DATA_DIR / "suppliers.jsonl"
SUPPLIERS_REAL_PATH = DATA_DIR / "suppliers_real.jsonl"
# Collected and labelled after the supplier rules were frozen; all held out (see evaluate_fresh_suppliers).
SUPPLIERS_FRESH_PATH = DATA_DIR / "suppliers_fresh.jsonl"
# Both annotators' topic labels and the adjudicated result, per request id (ANNOTATION.md says how).
TOPIC_ANNOTATIONS_PATH = DATA_DIR / "topic_annotations.jsonl"
SPLIT_SEED = "cru-split-v1"
TEST_PERCENT = 25


class DatasetError(ValueError):
    """A data file line is malformed or disagrees with the taxonomy."""


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    topics: tuple[str, ...]
    primary: str
    source: str
    provenance: str
    split: str


def split_for(example_id: str, test_percent: int = TEST_PERCENT) -> str:
    """'test' for about test_percent% of ids, decided by sha256(seed:id), else 'train'."""
    h = int(hashlib.sha256(f"{SPLIT_SEED}:{example_id}".encode()).hexdigest()[:8], 16)
    return "test" if h % 100 < test_percent else "train"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_records(path: Path, what: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file:line, record) for each line of a JSONL data file; malformed lines and repeated ids are errors.

    ``what`` names a record in messages ("example", "passage"). Every record needs
    id, text, source, provenance and split; the caller checks its own fields.
    """
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            d = json.loads(line)
            missing = [k for k in ("id", "text", "source", "provenance", "split") if k not in d]
            if missing:
                raise KeyError(", ".join(missing))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DatasetError(f"{where}: malformed {what}: {exc}") from exc
        if d["id"] in seen:
            raise DatasetError(f"{where}: duplicate id {d['id']!r}")
        seen.add(d["id"])
        yield where, d


def load_examples(path: str | Path | None = None, split: str | None = None,
                  taxonomy: Taxonomy | None = None) -> list[Example]:
    """Read requests.jsonl, validate every line against the taxonomy, optionally keep one split."""
    p = Path(path) if path is not None else REQUESTS_PATH
    tax = taxonomy or load_taxonomy()
    known = set(tax.ids)
    out: list[Example] = []
    for where, d in read_records(p, "example"):
        try:
            ex = Example(d["id"], d["text"], tuple(d["topics"]), d["primary"], d["source"], d["provenance"],
                         d["split"])
        except (KeyError, TypeError) as exc:
            raise DatasetError(f"{where}: malformed example: {exc}") from exc
        bad = [t for t in ex.topics if t not in known]
        if bad or not ex.topics:
            raise DatasetError(f"{where}: topics {bad or '[]'} not in the taxonomy ({tax.path})")
        if ex.primary not in ex.topics:
            raise DatasetError(f"{where}: primary {ex.primary!r} is not one of its topics")
        if ex.split not in ("train", "test"):
            raise DatasetError(f"{where}: split must be 'train' or 'test'")
        if split is None or ex.split == split:
            out.append(ex)
    return out
