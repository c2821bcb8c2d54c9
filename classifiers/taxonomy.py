"""Load and validate the topic taxonomy (config/taxonomy.toml).

The taxonomy is data a force edits, not code, so every mistake in it must stop
cru with a message that names the file, the topic and the key, rather than
surfacing later as a KeyError inside training.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "config" / "taxonomy.toml"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class TaxonomyError(ValueError):
    """The taxonomy file is missing, unreadable or invalid."""


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    description: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    topics: tuple[Topic, ...]
    version: str
    fallback: str
    keyword_floor: float
    sha256: str
    path: Path

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.topics)

    def get(self, topic_id: str) -> Topic:
        for t in self.topics:
            if t.id == topic_id:
                return t
        raise KeyError(f"unknown topic {topic_id!r}; known: {', '.join(self.ids)}")

    def label(self, topic_id: str) -> str:
        return self.get(topic_id).label


def default_path() -> Path:
    """$CRU_TAXONOMY if set (a force's own file), else the packaged config/taxonomy.toml."""
    env = os.environ.get("CRU_TAXONOMY")
    return Path(env) if env else DEFAULT_PATH


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file; raise TaxonomyError naming the problem."""
    p = Path(path) if path is not None else default_path()
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise TaxonomyError(f"{p}: cannot read taxonomy file: {exc}") from exc
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TaxonomyError(f"{p}: not valid TOML: {exc}") from exc
    return _parse(doc, p, hashlib.sha256(raw).hexdigest())


def _parse(doc: dict, p: Path, digest: str) -> Taxonomy:
    unknown = set(doc) - {"version", "fallback", "rules", "topic"}
    if unknown:
        raise TaxonomyError(f"{p}: unknown top-level key(s): {', '.join(sorted(unknown))}")
    version = doc.get("version", "1")
    fallback = doc.get("fallback", "other")
    if not isinstance(version, str) or not isinstance(fallback, str):
        raise TaxonomyError(f"{p}: 'version' and 'fallback' must be strings")
    rules = doc.get("rules", {})
    if not isinstance(rules, dict) or set(rules) - {"keyword_floor"}:
        raise TaxonomyError(f"{p}: [rules] may only contain keyword_floor")
    floor = rules.get("keyword_floor", 0.6)
    if not isinstance(floor, int | float) or not 0.0 <= float(floor) <= 1.0:
        raise TaxonomyError(f"{p}: [rules] keyword_floor must be a number between 0 and 1")
    entries = doc.get("topic")
    if not isinstance(entries, list) or not entries:
        raise TaxonomyError(f"{p}: needs at least one [[topic]] table")
    topics: list[Topic] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        where = f"{p}: [[topic]] #{i}"
        if not isinstance(entry, dict):
            raise TaxonomyError(f"{where}: must be a table")
        extra = set(entry) - {"id", "label", "description", "keywords"}
        if extra:
            raise TaxonomyError(f"{where}: unknown key(s): {', '.join(sorted(extra))}")
        tid = entry.get("id")
        if not isinstance(tid, str) or not _ID.match(tid):
            raise TaxonomyError(f"{where}: 'id' must be lower_snake_case text, got {tid!r}")
        where = f"{p}: topic {tid!r}"
        if tid in seen:
            raise TaxonomyError(f"{where}: duplicate id")
        seen.add(tid)
        for key in ("label", "description"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise TaxonomyError(f"{where}: '{key}' is required and must be non-empty text")
        keywords = entry.get("keywords", [])
        if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
            raise TaxonomyError(f"{where}: 'keywords' must be a list of non-empty strings")
        topics.append(Topic(tid, entry["label"].strip(), entry["description"].strip(),
                            tuple(k.strip().lower() for k in keywords)))
    if fallback not in seen:
        raise TaxonomyError(f"{p}: fallback topic {fallback!r} is not defined as a [[topic]]")
    return Taxonomy(tuple(topics), version, fallback, float(floor), digest, p)
