"""Suppliers, products and technologies named in a request, from the gazetteer plus organisation patterns.

A spaCy pipeline on spacy.blank("en"): an EntityRuler holds the gazetteer's
aliases as phrase patterns matched on the LOWER attribute (case-insensitive),
case-sensitive token patterns for short aliases ("AWS", "AI"), and token
patterns for organisation-like names ("X Technologies Ltd", "X Systems") so
that suppliers nobody has added to the gazetteer are still caught. A second,
plain-Python pass takes the capitalised name after cues such as "software by"
and "provided by". Everything is normalised to one canonical name and filtered
through the stop list (forces, regulators, laws), because a false supplier in
the store is worse than a missed one: officers browse by it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from classifiers.gazetteer import Gazetteer, load_gazetteer, normalise_key, strip_corporate_suffixes

ORG_LABEL = "ORG_PATTERN"
_ORG_HEADS = ["technologies", "technology", "solutions", "systems", "software", "forensics", "analytics",
              "intelligence", "networks", "labs", "digital", "data"]
_ORG_SUFFIXES = ["ltd", "ltd.", "limited", "plc", "inc", "inc.", "llp", "corp", "corporation", "gmbh"]
# "software by X", "provided by X" ...: the capitalised words after the cue are a supplier name.
_CUES = {
    ("software", "by"), ("provided", "by"), ("supplied", "by"), ("developed", "by"), ("built", "by"),
    ("manufactured", "by"), ("made", "by"), ("sold", "by"), ("licensed", "from"), ("purchased", "from"),
    ("bought", "from"), ("contract", "with"), ("contracts", "with"), ("services", "of"), ("the", "company"),
    ("company", "called"), ("vendor", "called"), ("supplier", "called"),
}
_NAME_JOINERS = {"&", "and", "of", "-"}
_lock = threading.Lock()


@dataclass(frozen=True)
class Entity:
    """One mention: what the text says, and the canonical name it stands for."""

    text: str
    name: str  # canonical name (for a product: the product's own name)
    kind: str  # supplier | product | technology | organisation (pattern-caught, not in the gazetteer)
    supplier: str | None  # the supplier this mention counts as, None for a generic technology
    start_char: int
    end_char: int


def _variants(alias: str, plural: bool) -> set[str]:
    out = {alias, alias.replace("-", " ")}
    if plural:
        out |= {a + "s" for a in list(out) if not a.endswith("s")}
    return out


def build_pipeline(gazetteer: Gazetteer | None = None) -> Language:
    """A blank English pipeline with the gazetteer and organisation patterns in one EntityRuler."""
    gaz = gazetteer or load_gazetteer()
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True})
    patterns: list[dict] = []
    for e in gaz.entries:
        label = e.kind.upper()
        plural = e.kind == "technology"
        for alias in {e.name, *e.aliases} if e.kind != "technology" else set(e.aliases) | {e.name}:
            for v in _variants(alias, plural):
                patterns.append({"label": label, "pattern": v, "id": e.name})
        for alias in e.exact_aliases:
            toks = [t.text for t in nlp.make_doc(alias)]
            for suffix in ([""] + (["s"] if plural else [])):
                pat = [{"ORTH": t} for t in toks[:-1]] + [{"ORTH": toks[-1] + suffix}]
                patterns.append({"label": label, "pattern": pat, "id": e.name})
    cap = {"IS_TITLE": True}
    capword = {"TEXT": {"REGEX": r"^[A-Z][A-Za-z0-9]+$"}}
    patterns += [
        {"label": ORG_LABEL, "pattern": [capword, {**cap, "OP": "*"}, {"LOWER": {"IN": _ORG_HEADS}, "IS_TITLE": True},
                                         {"LOWER": "uk", "OP": "?"}, {"LOWER": {"IN": _ORG_SUFFIXES}, "OP": "?"}]},
        {"label": ORG_LABEL, "pattern": [capword, {**cap, "OP": "*"}, {"LOWER": "uk", "OP": "?"},
                                         {"LOWER": {"IN": _ORG_SUFFIXES}}]},
    ]
    ruler.add_patterns(patterns)
    return nlp


@lru_cache(maxsize=1)
def get_pipeline() -> Language:
    """The process-wide pipeline, built once from the default gazetteer."""
    return build_pipeline(get_gazetteer())


@lru_cache(maxsize=1)
def get_gazetteer() -> Gazetteer:
    return load_gazetteer()


@lru_cache(maxsize=1)
def _prefilter() -> re.Pattern[str]:
    """A superset of everything the EntityRuler and the cue rules can match, as one regex.

    Most messages name no supplier; a case-insensitive scan for any alias, organisation
    head word, corporate suffix or cue pair lets them skip the spaCy pipeline (the
    costliest step of classification) without changing any result: every pattern needs
    one of these strings, and a prefix match also covers plurals.
    """
    gaz = get_gazetteer()
    words = {a.lower() for e in gaz.entries for a in (e.name, *e.aliases, *e.exact_aliases) if a}
    words |= set(_ORG_HEADS) | set(_ORG_SUFFIXES)
    # Token patterns ignore how much whitespace (or a hyphen) separates words: so must this.
    alternatives = sorted((r"[\s\-]+".join(re.escape(p) for p in re.split(r"[\s\-]+", w) if p) for w in words),
                          key=len, reverse=True)
    alternatives += [rf"{re.escape(a)}\s+{re.escape(b)}" for a, b in _CUES]
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


def _clean_org(span_tokens: list, gaz: Gazetteer) -> str | None:
    """Trim a pattern-caught name to the organisation itself, or None if it is not one."""
    from spacy.lang.en.stop_words import STOP_WORDS

    toks = [t.text for t in span_tokens]
    while toks and (toks[0].lower() in STOP_WORDS or toks[0].lower() in {"please", "via"}):
        toks.pop(0)
    while toks and toks[-1].lower() in _NAME_JOINERS:
        toks.pop()
    if not toks:
        return None
    name = " ".join(toks).replace(" - ", "-")
    bare = strip_corporate_suffixes(name)
    if gaz.is_stopped(name) or gaz.is_stopped(bare) or bare.lower() in _ORG_HEADS:
        return None
    return name


def _cue_names(doc: Doc) -> list[tuple[int, int]]:
    """Token ranges of capitalised names that follow 'software by', 'provided by' and similar cues."""
    out = []
    for i in range(len(doc) - 2):
        if (doc[i].lower_, doc[i + 1].lower_) not in _CUES:
            continue
        j = i + 2
        while j < len(doc) and (doc[j].is_title or doc[j].is_upper or (
                doc[j].lower_ in _NAME_JOINERS and j + 1 < len(doc) and doc[j + 1].is_title and j > i + 2)):
            if doc[j].is_upper and len(doc[j]) == 1 and not doc[j].is_alpha:
                break
            j += 1
        if j > i + 2:
            out.append((i + 2, j))
    return out


def extract_entities(text: str, nlp: Language | None = None, gazetteer: Gazetteer | None = None) -> tuple[Entity, ...]:
    """Every supplier, product, technology and unknown organisation mention, in text order."""
    if not text or (gazetteer is None and nlp is None and not _prefilter().search(text)):
        return ()
    gaz = gazetteer or get_gazetteer()
    pipe = nlp or get_pipeline()
    with _lock:  # spaCy pipelines are not guaranteed thread-safe; the worker may call from threads
        doc = pipe(text)
    found: list[Entity] = []
    taken: set[int] = set()
    for ent in doc.ents:
        taken.update(range(ent.start, ent.end))
        if ent.label_ == ORG_LABEL:
            name = _clean_org(list(ent), gaz)
            if name is None:
                continue
            found.append(_org_entity(name, ent.start_char, ent.end_char, gaz))
            continue
        entry = gaz.lookup(ent.ent_id_) if ent.ent_id_ else gaz.lookup(ent.text)
        if entry is None:
            continue
        found.append(Entity(ent.text, entry.name, entry.kind, entry.canonical_supplier, ent.start_char, ent.end_char))
    for start, end in _cue_names(doc):
        if any(i in taken for i in range(start, end)):
            continue
        span = doc[start:end]
        if end < len(doc) and doc[end].lower_ in gaz.stop_words:  # "contract with Leicestershire police"
            continue
        name = _clean_org(list(span), gaz)
        if name is None:
            continue
        taken.update(range(start, end))
        found.append(_org_entity(name, span.start_char, span.end_char, gaz))
    found.sort(key=lambda e: e.start_char)
    return tuple(found)


def _org_entity(name: str, start: int, end: int, gaz: Gazetteer) -> Entity:
    entry = gaz.lookup(name)
    if entry is not None:
        return Entity(name, entry.name, entry.kind, entry.canonical_supplier, start, end)
    bare = strip_corporate_suffixes(name)
    return Entity(name, bare, "organisation", bare, start, end)


def _dedupe(names: list[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out = []
    for n in names:
        k = normalise_key(n)
        if k not in seen:
            seen.add(k)
            out.append(n)
    return tuple(out)


def extract_suppliers(text: str) -> tuple[str, ...]:
    """Canonical supplier names in order of first appearance, each once (products count as their supplier)."""
    return _dedupe([e.supplier for e in extract_entities(text) if e.supplier])


def extract_technologies(text: str) -> tuple[str, ...]:
    """Canonical generic technologies (facial recognition, drone, ANPR ...) in order of first appearance."""
    return _dedupe([e.name for e in extract_entities(text) if e.kind == "technology"])


def names_policing_technology_supplier(text: str) -> bool:
    """True when the text names a supplier or product that sells policing technology (not e.g. G4S)."""
    gaz = get_gazetteer()
    for e in extract_entities(text):
        if e.kind == "product":
            return True
        if e.kind == "supplier" and gaz.supplier(e.name).tech:
            return True
    return False
