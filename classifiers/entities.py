"""Suppliers, products and technologies named in a request, from the gazetteer plus organisation patterns.

spaCy's matchers on spacy.blank("en") (EntityMatcher): the gazetteer's aliases
as phrase patterns matched on the LOWER attribute (case-insensitive), short
aliases ("AWS", "AI") matched case-sensitively, and token patterns for
organisation-like names ("X Technologies Ltd", "X Systems") so that suppliers
nobody has added to the gazetteer are still caught. A second,
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
from spacy.matcher import Matcher, PhraseMatcher
from spacy.strings import hash_string
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from classifiers.gazetteer import Gazetteer, load_gazetteer, normalise_key, strip_corporate_suffixes

ORG_LABEL = "ORG_PATTERN"
_ORG_HEADS = ["technologies", "technology", "solutions", "systems", "software", "forensics", "analytics",
              "intelligence", "networks", "labs", "digital", "data"]
_ORG_SUFFIXES = ["ltd", "ltd.", "limited", "plc", "inc", "inc.", "llp", "llc", "corp", "corporation", "gmbh"]
# "software by X", "provided by X" ...: the capitalised words after the cue are a supplier name.
_CUES = {
    ("software", "by"), ("provided", "by"), ("supplied", "by"), ("developed", "by"), ("built", "by"),
    ("manufactured", "by"), ("made", "by"), ("sold", "by"), ("licensed", "from"), ("purchased", "from"),
    ("bought", "from"), ("contract", "with"), ("contracts", "with"), ("services", "of"), ("the", "company"),
    ("company", "called"), ("vendor", "called"), ("supplier", "called"),
}
# "the Portuguese company Tekever", "the companies NSO Group, DarkMatter Group and Quadream": a lower-case
# word naming a kind of firm, directly followed by a capitalised name.
_CUE_WORDS = {"company", "companies", "firm", "firms", "manufacturer", "vendor", "contractor", "contractors"}
_NAME_JOINERS = {"&", "and", "of", "-"}
_LIST_JOINERS = {",", "and", "or", "/"}
_MAX_LISTED = 6  # names taken from one cue's list ("with A, B, C and D")
_CUE_HASHES = {(hash_string(a), hash_string(b)) for a, b in _CUES}
_CUE_WORD_HASHES = {hash_string(w) for w in _CUE_WORDS}
_CUE_FIRST_HASHES = {a for a, _ in _CUE_HASHES} | _CUE_WORD_HASHES
_LIST_JOINER_HASHES = {hash_string(w) for w in _LIST_JOINERS}
_AND_OR_HASHES = {hash_string("and"), hash_string("or")}
_lock = threading.Lock()
# Line breaks, tabs and no-break spaces become plain spaces before tokenising: same length, so every
# offset still points into the original text. Why: spaCy's tokenizer is about ten times slower on
# text whose words are separated by newlines (each becomes a whitespace token outside its cache);
# the one meaning a line break carries here, "a name does not run on to the next line", is
# restored from the original text by _line_break_before.
_TO_SPACE = str.maketrans({c: " " for c in "\n\r\t\x0b\x0c\xa0\u2028\u2029"})


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


class EntityMatcher:
    """spaCy's English tokenizer with the gazetteer in PhraseMatchers and the organisation patterns in a Matcher.

    The gazetteer's aliases are phrase patterns on LOWER (case-insensitive); short or
    ambiguous aliases ("AWS", "AI") are phrase patterns on ORTH (exact case). Overlaps are
    resolved as spaCy's EntityRuler does, longest match first (spacy.util.filter_spans).
    Why not one EntityRuler, as before: its token Matcher walked every token of every text in
    Python for the exact-case aliases, and the organisation patterns are costly too; kept
    apart, the organisation patterns run only on texts where they can match at all
    (see _org_gate), and the rest is two hash lookups per token.
    """

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.nlp = spacy.blank("en")
        vocab = self.nlp.vocab
        self.lower = PhraseMatcher(vocab, attr="LOWER")
        self.exact = PhraseMatcher(vocab, attr="ORTH")
        self.organisations = Matcher(vocab)
        for e in gazetteer.entries:
            key = f"{e.kind.upper()}|{e.name}"
            plural = e.kind in ("technology", "product")  # "drones", "iPads"; a company name takes no plural
            # The name is an alias too, unless it is given as an exact (case-sensitive) one: "Ring" the
            # company must not match "ring", nor "NICE" the supplier "nice".
            aliases = {*e.aliases, *([] if e.name in e.exact_aliases else [e.name])}
            self.lower.add(key, [self.nlp.make_doc(v) for a in sorted(aliases) for v in sorted(_variants(a, plural))])
            exact = []
            for alias in e.exact_aliases:
                toks = [t.text for t in self.nlp.make_doc(alias)]
                for suffix in ([""] + (["s"] if plural else [])):
                    exact.append(Doc(vocab, words=[*toks[:-1], toks[-1] + suffix]))
            if exact:
                self.exact.add(key, exact)
        cap = {"IS_TITLE": True}
        capword = {"TEXT": {"REGEX": r"^[A-Z][A-Za-z0-9]+$"}}
        self.organisations.add(ORG_LABEL, [
            [capword, {**cap, "OP": "*"}, {"LOWER": {"IN": _ORG_HEADS}, "IS_TITLE": True},
             {"LOWER": "uk", "OP": "?"}, {"LOWER": {"IN": _ORG_SUFFIXES}, "OP": "?"}],
            [capword, {**cap, "OP": "*"}, {"LOWER": "uk", "OP": "?"}, {"LOWER": {"IN": _ORG_SUFFIXES}}],
        ])

    def match(self, text: str, organisations: bool = True) -> tuple[Doc, list[Span]]:
        """Tokenise text; return it with its non-overlapping matches (label "KIND|Name" or ORG_LABEL)."""
        doc = self.nlp.make_doc(text)
        spans = [*self.lower(doc, as_spans=True), *self.exact(doc, as_spans=True)]
        if organisations:
            spans += self.organisations(doc, as_spans=True)
        return doc, sorted(filter_spans(spans), key=lambda sp: sp.start)


def build_pipeline(gazetteer: Gazetteer | None = None) -> EntityMatcher:
    """The matcher for a gazetteer (the default one if None)."""
    return EntityMatcher(gazetteer or load_gazetteer())


@lru_cache(maxsize=1)
def get_pipeline() -> EntityMatcher:
    """The process-wide pipeline, built once from the default gazetteer."""
    return build_pipeline(get_gazetteer())


@lru_cache(maxsize=1)
def get_gazetteer() -> Gazetteer:
    return load_gazetteer()


@lru_cache(maxsize=1)
def _prefilter() -> re.Pattern[str]:
    """A superset of everything the matchers and the cue rules can match, as one regex.

    Most messages name no supplier; a case-insensitive scan for any alias, organisation
    head word, corporate suffix, cue pair or cue word lets them skip the spaCy pipeline (the
    costliest step of classification) without changing any result: every pattern needs
    one of these strings, and a prefix match also covers plurals.
    """
    gaz = get_gazetteer()
    words = {a.lower() for e in gaz.entries for a in (e.name, *e.aliases, *e.exact_aliases) if a}
    words |= set(_ORG_HEADS) | set(_ORG_SUFFIXES)
    # Token patterns ignore how much whitespace (or a hyphen) separates words: so must this.
    sequences = [_atoms(r"[\s\-]+", *(p for p in re.split(r"[\s\-]+", w) if p)) for w in words]
    sequences += [_atoms(r"\s+", a, b) for a, b in _CUES]
    sequences += [[*_atoms("", w), r"\s"] for w in _CUE_WORDS]
    # Matched against the lower-cased text: re's IGNORECASE makes this scan three times slower.
    return re.compile(r"(?<![a-z0-9])" + _trie_pattern(sequences))


def _atoms(separator: str, *parts: str) -> list[str]:
    """A phrase as regex atoms: each character escaped, ``separator`` between its parts."""
    out: list[str] = []
    for n, part in enumerate(parts):
        if n:
            out.append(separator)
        out += [re.escape(c) for c in part]
    return out


def _trie_pattern(sequences: list[list[str]]) -> str:
    """One regex for "any of these atom sequences starts here", factored as a trie.

    Why not a plain alternation, as before: Python's re tries every alternative at every
    position, so the scan slowed in step with the gazetteer (twice as slow at 250 entries);
    a trie rejects most positions at the first character. Where one sequence is a prefix of
    another the longer is dropped: for "does any start here" the shorter already answers.
    (No library: trieregex has had no release since 2020, and retrie builds tries of literal
    strings, where these phrases need "any run of spaces or hyphens" between their words.)
    """
    root: dict = {}
    for seq in sequences:
        node = root
        for atom in seq:
            node = node.setdefault(atom, {})
        node[None] = {}

    def emit(node: dict) -> str:
        if None in node:
            return ""
        alts = [atom + emit(child) for atom, child in sorted(node.items())]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(root)


@lru_cache(maxsize=1)
def _org_gate() -> re.Pattern[str]:
    """Matches wherever an organisation pattern could: a title-case head word or a corporate suffix.

    A superset, like _prefilter: the head token must be title case ("Technologies"), a
    suffix token is any case ("LTD", "plc"); no word boundary is asked of heads.
    """
    heads = "|".join(sorted((h.title() for h in _ORG_HEADS), key=len, reverse=True))
    suffixes = "|".join(sorted((re.escape(x) for x in _ORG_SUFFIXES), key=len, reverse=True))
    return re.compile(rf"(?:{heads})|(?<![A-Za-z0-9])(?i:{suffixes})(?![A-Za-z0-9])")


@lru_cache(maxsize=1)
def _cue_gate() -> re.Pattern[str]:
    """Matches, in the lower-cased text, wherever a cue pair of _CUES or a cue word could ("software by" ...)."""
    pairs = [rf"{re.escape(a)}\s+{re.escape(b)}" for a, b in sorted(_CUES)]
    return re.compile("|".join(pairs + [rf"\b{w}\s" for w in sorted(_CUE_WORDS)]))


def warm_entities() -> None:
    """Build the process-wide pipeline and gates now (before forking workers) rather than on first use."""
    get_pipeline()
    _prefilter()
    _org_gate()
    _cue_gate()


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


def _line_break_before(doc: Doc, original: str, i: int) -> bool:
    """True when a line break separates token i from the token before it in the original text."""
    if i == 0:
        return False
    prev = doc[i - 1]
    gap = original[prev.idx + len(prev.text) : doc[i].idx]
    return "\n" in gap or "\r" in gap


def _cue_names(doc: Doc, original: str) -> list[tuple[int, int]]:
    """Token ranges of capitalised names that follow 'software by', 'provided by', 'the company' and similar cues.

    A cue may introduce a list ("contracts with Akamai, WGT and Cable & Wireless"): each listed name is
    taken. A name stops at the end of its line (the next line's capitalised first word is not part of it).
    """
    out = []
    # Hashes of the lower-cased tokens: comparing ints spares building a Token object per word, which
    # made this loop the costliest part of entity extraction once cue words let more texts in.
    lowers = doc.to_array("LOWER").tolist()
    for i in [k for k, h in enumerate(lowers) if h in _CUE_FIRST_HASHES]:
        if i + 2 < len(doc) and (lowers[i], lowers[i + 1]) in _CUE_HASHES:
            start = i + 2
        elif lowers[i] in _CUE_WORD_HASHES and i + 1 < len(doc) and doc[i].is_lower:
            start = i + 1
        else:
            continue
        for n in range(_MAX_LISTED):
            end = _name_end(doc, original, start)
            if end == start:
                break
            if end < len(doc) and lowers[end] in _CUE_WORD_HASHES:  # "by Portuguese company Tekever": a descriptor
                break
            if n == 0:
                out.append((start, end))
            else:  # in a list, "WGT and Cable & Wireless" is two names
                cuts = [k for k in range(start, end) if lowers[k] in _AND_OR_HASHES]
                out += [(a, b) for a, b in zip([start, *(k + 1 for k in cuts)], [*cuts, end], strict=True) if b > a]
            nxt = end
            while nxt < len(doc) and lowers[nxt] in _LIST_JOINER_HASHES and not _line_break_before(doc, original, nxt):
                nxt += 1
            if nxt == end or nxt >= len(doc) or _line_break_before(doc, original, nxt):
                break
            start = nxt
    return out


def _name_end(doc: Doc, original: str, start: int) -> int:
    """Where a capitalised name starting at token ``start`` ends (== start when there is none)."""
    j = start
    while j < len(doc) and not (j > start and _line_break_before(doc, original, j)) and (
            doc[j].is_title or doc[j].is_upper or (
            doc[j].lower_ in _NAME_JOINERS and j + 1 < len(doc) and doc[j + 1].is_title and j > start)):
        if doc[j].is_upper and len(doc[j]) == 1 and not doc[j].is_alpha:
            break
        j += 1
    return j


def extract_entities(text: str, nlp: EntityMatcher | None = None, gazetteer: Gazetteer | None = None, *,
                     gates: bool = True) -> tuple[Entity, ...]:
    """Every supplier, product, technology and unknown organisation mention, in text order.

    ``gates=False`` runs every pattern on every text (what the cheap gates must never change; tests).
    """
    low = text.lower()
    if not text or (gates and gazetteer is None and nlp is None and not _prefilter().search(low)):
        return ()
    gaz = gazetteer or get_gazetteer()
    pipe = nlp or get_pipeline()
    spaced = text.translate(_TO_SPACE)
    with _lock:  # spaCy's matchers are not guaranteed thread-safe; the worker may call from threads
        doc, spans = pipe.match(spaced, organisations=not gates or bool(_org_gate().search(spaced)))
    found: list[Entity] = []
    taken: set[int] = set()
    for ent in spans:
        taken.update(range(ent.start, ent.end))
        if ent.label_ == ORG_LABEL:
            # An organisation name does not run across a line break: keep the part on the head's line.
            start = max((i for i in range(ent.start + 1, ent.end) if _line_break_before(doc, text, i)),
                        default=ent.start)
            if start > 1 and doc[start - 1].text == "-" and not doc[start - 2].whitespace_ \
                    and not doc[start - 1].whitespace_:
                continue  # "Audio-Visual Systems": the pattern began inside a hyphenated word
            name = _clean_org(list(doc[start:ent.end]), gaz)
            if name is None:
                continue
            found.append(_org_entity(name, doc[start].idx, ent.end_char, gaz))
            continue
        entry = gaz.lookup(ent.label_.split("|", 1)[1])
        if entry is None:
            continue
        found.append(Entity(text[ent.start_char:ent.end_char], entry.name, entry.kind, entry.canonical_supplier,
                            ent.start_char, ent.end_char))
    for start, end in (_cue_names(doc, text) if not gates or _cue_gate().search(low) else ()):
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
    """A pattern-caught name as an entity: the gazetteer's entry where the name, or the name less its trailing
    head words ("Microsoft Data" -> Microsoft), is known; else an unknown organisation."""
    bare = strip_corporate_suffixes(name)
    words = bare.split()
    for k in range(len(words), 0, -1):
        if k < len(words) and words[k].lower() not in _ORG_HEADS:
            break
        entry = gaz.lookup(name if k == len(words) else " ".join(words[:k]))
        if entry is not None:
            return Entity(name, entry.name, entry.kind, entry.canonical_supplier, start, end)
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
