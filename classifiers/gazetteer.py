"""Load and validate the supplier/technology gazetteer (config/gazetteer.toml).

Kept apart from the spaCy pipeline so that the data (which a force edits) is
validated with clear errors, and so tests and evaluation can look names up
without building a pipeline.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "config" / "gazetteer.toml"
KINDS = ("supplier", "product", "technology")
_CORPORATE_SUFFIXES = {"ltd", "ltd.", "limited", "plc", "inc", "inc.", "llp", "llc", "corp", "corporation", "uk",
                       "group"}


class GazetteerError(ValueError):
    """The gazetteer file is missing, unreadable or invalid."""


@dataclass(frozen=True)
class Entry:
    """One canonical name with the ways requests spell it."""

    name: str
    kind: str  # supplier | product | technology
    aliases: tuple[str, ...]
    exact_aliases: tuple[str, ...] = ()
    supplier: str | None = None  # products: the supplier they normalise to
    tech: bool = False  # suppliers: sells policing technology

    @property
    def canonical_supplier(self) -> str | None:
        """The supplier name this entry reports as, or None for a generic technology."""
        if self.kind == "supplier":
            return self.name
        if self.kind == "product":
            return self.supplier
        return None


@dataclass(frozen=True)
class Gazetteer:
    entries: tuple[Entry, ...]
    stop_names: frozenset[str]
    stop_words: frozenset[str]
    sha256: str
    _by_alias: dict[str, Entry] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, name: str) -> Entry | None:
        """Find an entry by any alias (case-insensitive), also with corporate suffixes stripped."""
        key = normalise_key(name)
        hit = self._by_alias.get(key)
        if hit is None:
            stripped = normalise_key(strip_corporate_suffixes(name))
            hit = self._by_alias.get(stripped)
        return hit

    def supplier(self, name: str) -> Entry:
        for e in self.entries:
            if e.kind == "supplier" and e.name == name:
                return e
        raise KeyError(name)

    def is_stopped(self, name: str) -> bool:
        """True for names that look organisational but are never suppliers (forces, regulators, laws)."""
        key = normalise_key(name)
        if key in self.stop_names:
            return True
        words = set(re.findall(r"[a-z0-9']+", key))
        return bool(words & self.stop_words)


def normalise_key(text: str) -> str:
    text = text.replace("’", "'").replace("-", " ").lower()
    return re.sub(r"\s+", " ", text).strip(" .,;:'\"")


def strip_corporate_suffixes(name: str) -> str:
    """'Acme Analytics UK Ltd' -> 'Acme Analytics': how a pattern-caught name is shown."""
    words = name.split()
    while len(words) > 1 and words[-1].lower().strip(".,") in _CORPORATE_SUFFIXES:
        words.pop()
    return " ".join(words)


def default_path() -> Path:
    env = os.environ.get("CRU_GAZETTEER")
    return Path(env) if env else DEFAULT_PATH


def load_gazetteer(path: str | Path | None = None) -> Gazetteer:
    """Read and validate a gazetteer file; raise GazetteerError naming the problem."""
    p = Path(path) if path is not None else default_path()
    try:
        raw = p.read_bytes()
        doc = tomllib.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise GazetteerError(f"{p}: cannot read gazetteer file: {exc}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GazetteerError(f"{p}: not valid TOML: {exc}") from exc
    unknown = set(doc) - {*KINDS, "stoplist"}
    if unknown:
        raise GazetteerError(f"{p}: unknown top-level key(s): {', '.join(sorted(unknown))}")
    entries: list[Entry] = []
    for kind in KINDS:
        tables = doc.get(kind, [])
        if not isinstance(tables, list):
            raise GazetteerError(f"{p}: '{kind}' must be an array of tables ([[{kind}]])")
        for i, t in enumerate(tables, 1):
            entries.append(_entry(t, kind, f"{p}: [[{kind}]] #{i}"))
    by_alias: dict[str, Entry] = {}
    names = {e.name for e in entries if e.kind == "supplier"}
    for e in entries:
        if e.kind == "product" and e.supplier not in names:
            raise GazetteerError(f"{p}: product {e.name!r} names unknown supplier {e.supplier!r}")
        for alias in (e.name, *e.aliases, *e.exact_aliases):
            key = normalise_key(alias)
            other = by_alias.get(key)
            if other is not None and other is not e:
                raise GazetteerError(f"{p}: alias {alias!r} is given to both {other.name!r} and {e.name!r}")
            by_alias[key] = e
    stop = doc.get("stoplist", {})
    if not isinstance(stop, dict) or set(stop) - {"names", "contains"}:
        raise GazetteerError(f"{p}: [stoplist] may only contain 'names' and 'contains'")
    for key in ("names", "contains"):
        vals = stop.get(key, [])
        if not isinstance(vals, list) or not all(isinstance(v, str) and v.strip() for v in vals):
            raise GazetteerError(f"{p}: [stoplist] {key} must be a list of non-empty strings")
    return Gazetteer(
        tuple(entries),
        frozenset(normalise_key(n) for n in stop.get("names", [])),
        frozenset(w.lower() for w in stop.get("contains", [])),
        hashlib.sha256(raw).hexdigest(),
        by_alias,
    )


def _entry(t: object, kind: str, where: str) -> Entry:
    if not isinstance(t, dict):
        raise GazetteerError(f"{where}: must be a table")
    allowed = {"name", "aliases", "exact_aliases"} | {"supplier": {"tech"}, "product": {"supplier"}}.get(kind, set())
    extra = set(t) - allowed
    if extra:
        raise GazetteerError(
            f"{where}: unknown key(s) {', '.join(sorted(extra))} (allowed: {', '.join(sorted(allowed))})")
    name = t.get("name")
    if not isinstance(name, str) or not name.strip():
        raise GazetteerError(f"{where}: 'name' is required")
    where = f"{where} ({name})"
    lists = {}
    for key in ("aliases", "exact_aliases"):
        vals = t.get(key, [])
        if not isinstance(vals, list) or not all(isinstance(v, str) and v.strip() for v in vals):
            raise GazetteerError(f"{where}: '{key}' must be a list of non-empty strings")
        lists[key] = tuple(v.strip() for v in vals)
    if not lists["aliases"] and not lists["exact_aliases"]:
        raise GazetteerError(f"{where}: needs at least one alias")
    supplier = t.get("supplier")
    if kind == "product" and (not isinstance(supplier, str) or not supplier.strip()):
        raise GazetteerError(f"{where}: 'supplier' is required for a product")
    tech = t.get("tech", False)
    if not isinstance(tech, bool):
        raise GazetteerError(f"{where}: 'tech' must be true or false")
    return Entry(name.strip(), kind, lists["aliases"], lists["exact_aliases"], supplier, tech)
