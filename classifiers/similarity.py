"""Rank earlier requests by TF-IDF cosine similarity of their texts ("same request, different year").

Pure Python on purpose: a few thousand short requests need only sparse dot
products through an inverted index (milliseconds), and avoiding scikit-learn
keeps a ~40 MB dependency (and its numpy/scipy pins) out of cru. Tokens are
lower-cased words minus English and FOI boilerplate stop words ("freedom",
"information", "request", "please" ...), so two requests match on what they
ask about rather than on how every FOI request is phrased. Canonical supplier
names from the gazetteer are added as extra tokens, so "Palantir Technologies
UK Ltd" and "Palantir" count as the same thing.

DEFAULT_THRESHOLD = 0.3, measured with the IDF background below: the seed pair
(995/24 vs 157/25, the Palantir contract and Palantir contracts/DPIA requests)
scores 0.33 and round-robin copies of one request 0.75-0.80, while a drone
request against either scores 0.03; over all 6,855 pairs of the labelled
request set, only 6 of the 5,536 pairs with different primary topics reach 0.3
(74 of 1,319 same-topic pairs do). A lower threshold links loosely related
requests on one topic; a higher one would miss the seed pair.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import lru_cache

from spacy.lang.en.stop_words import STOP_WORDS

DEFAULT_THRESHOLD = 0.3
# A named supplier is what a CRU officer matches requests on ("another Palantir request"), so its
# token counts as much as several ordinary words.
SUPPLIER_WEIGHT = 4.0
_TOKEN = re.compile(r"[a-z][a-z0-9]+")
FOI_STOP_WORDS = frozenset({
    "freedom", "information", "act", "request", "requests", "requested", "please", "provide", "disclose",
    "force", "forces", "police", "policing", "constabulary", "service", "organisation", "writing", "like",
    "know", "would", "could", "dear", "yours", "faithfully", "sincerely", "kind", "regards", "thank",
    "number", "many", "much", "year", "years", "last", "current", "currently", "relating", "relation",
    "regarding", "including", "copy", "copies", "details", "held", "hold", "holds", "data", "records",
    "breakdown", "broken", "total", "period", "date", "dates", "time", "uk", "foi", "foia", "section",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "2000", "note", "also", "well", "want", "wish", "seeking", "asking",
})
_STOP = frozenset(STOP_WORDS) | FOI_STOP_WORDS


def stem(word: str) -> str:
    """A deliberately crude suffix stripper: 'contracts'/'contract', 'trialled'/'trial' must meet."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("lled", "l"), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


def tokens(text: str, suppliers: bool = True, known_suppliers: Sequence[str] | None = None) -> list[str]:
    """Stemmed content words of a request (plus sup:<canonical supplier> tokens).

    ``known_suppliers``: the names already extracted for this text (the store keeps them), so
    building an index over a whole store does not run the spaCy entity pipeline again.
    """
    words = [stem(w) for w in _TOKEN.findall(text.lower()) if w not in _STOP and not w.isdigit()]
    if suppliers:
        if known_suppliers is None:
            from classifiers.entities import extract_suppliers

            known_suppliers = extract_suppliers(text)
        words += ["sup:" + s.lower() for s in known_suppliers]
    return words


def _df(texts: Sequence[str], suppliers: bool) -> tuple[Counter[str], int]:
    df: Counter[str] = Counter()
    for t in texts:
        df.update(set(tokens(t, suppliers)))
    return df, len(texts)


@lru_cache(maxsize=1)
def background_document_frequencies() -> tuple[Counter[str], int]:
    """Document frequencies over the labelled request set (classifiers/data/requests.jsonl).

    Why: IDF fitted only on a handful of store documents cannot tell that "contract" or
    "cost" are common in FOI requests; a fixed background of ~200 varied requests gives
    stable weights, so a score means the same whether the store holds 3 or 3,000 requests.
    """
    from classifiers.dataset import REQUESTS_PATH

    if not REQUESTS_PATH.is_file():
        return Counter(), 0
    texts = [json.loads(x)["text"] for x in REQUESTS_PATH.read_text(encoding="utf-8").splitlines() if x.strip()]
    return _df(texts, True)


class SimilarityIndex:
    """TF-IDF vectors (sublinear tf, smoothed idf, L2-normalised) over a fixed set of documents.

    docs: [(key, text)]; pairs() finds every pair above a threshold through an
    inverted index, so cost grows with shared terms, not with n squared.
    """

    def __init__(self, docs: Sequence[tuple[str, str]], suppliers: bool = True,
                 background: Sequence[str] | None = None,
                 known_suppliers: dict[str, Sequence[str]] | None = None):
        self.keys = [k for k, _ in docs]
        self._suppliers = suppliers
        known = known_suppliers or {}
        counts = [Counter(tokens(t, suppliers, known.get(k))) for k, t in docs]
        df: Counter[str] = Counter()
        for c in counts:
            df.update(c.keys())
        bg = background_document_frequencies() if background is None else _df(background, suppliers)
        df.update(bg[0])
        n = len(docs) + bg[1]
        self.idf = {w: math.log((1 + n) / (1 + d)) + 1.0 for w, d in df.items()}
        self.vectors = [self._weigh(c) for c in counts]
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, vec in enumerate(self.vectors):
            for w, x in vec.items():
                self._postings[w].append((i, x))

    def _weigh(self, c: Counter[str]) -> dict[str, float]:
        vec = {w: (1.0 + math.log(k)) * self.idf.get(w, 0.0) * (SUPPLIER_WEIGHT if w.startswith("sup:") else 1.0)
               for w, k in c.items()}
        norm = math.sqrt(sum(x * x for x in vec.values()))
        return {w: x / norm for w, x in vec.items()} if norm else {}

    def query(self, text: str, threshold: float = DEFAULT_THRESHOLD) -> list[tuple[str, float]]:
        """Documents of the index scoring at least threshold against text, best first."""
        vec = self._weigh(Counter(tokens(text, self._suppliers)))
        scores: dict[int, float] = defaultdict(float)
        for w, x in vec.items():
            for i, y in self._postings.get(w, ()):
                scores[i] += x * y
        hits = [(self.keys[i], round(s, 4)) for i, s in scores.items() if s >= threshold]
        return sorted(hits, key=lambda h: (-h[1], h[0]))

    def nearest_earlier(self, j: int, k: int = 5, threshold: float = DEFAULT_THRESHOLD,
                        max_postings: int = 400) -> list[tuple[str, float]]:
        """The k most similar documents indexed before document j, best first.

        Bounded work for large stores: per term only the ``max_postings`` documents
        nearest before j are scored, so a word shared by tens of thousands of requests
        costs no more than a rare one. Exact for every document within that window.
        """
        scores: dict[int, float] = defaultdict(float)
        for w, x in self.vectors[j].items():
            posting = self._postings[w]
            end = bisect_left(posting, (j, -1.0))
            for i, y in posting[max(0, end - max_postings) : end]:
                scores[i] += x * y
        best = sorted(((s, i) for i, s in scores.items() if s >= threshold), key=lambda p: (-p[0], p[1]))[:k]
        return [(self.keys[i], round(s, 4)) for s, i in best]

    def pairs(self, threshold: float = DEFAULT_THRESHOLD) -> list[tuple[str, str, float]]:
        """Every (earlier key, later key, score) at or above threshold, in index order, best first."""
        out = []
        for j, vec in enumerate(self.vectors):
            scores: dict[int, float] = defaultdict(float)
            for w, x in vec.items():
                for i, y in self._postings[w]:
                    if i < j:
                        scores[i] += x * y
            out += [(self.keys[i], self.keys[j], round(s, 4)) for i, s in scores.items() if s >= threshold]
        return sorted(out, key=lambda p: (-p[2], p[0], p[1]))


def similar_requests(new: str, earlier: list[tuple[str, str]],
                     threshold: float = DEFAULT_THRESHOLD) -> list[tuple[str, float]]:
    """[(log_number, score)] of earlier requests similar to new, above threshold, best first.

    IDF is computed over the earlier requests plus the new one, so a word every
    request shares carries little weight.
    """
    if not earlier:
        return []
    index = SimilarityIndex([*earlier, ("\0new", new)])
    return [(k, s) for k, s in index.query(new, threshold) if k != "\0new"]
