"""Stance where the rules are silent: a spaCy textcat over the clauses of advice, combined with the rules.

The rule extractor (parsers/cru/stance.py) is precise and explainable, so it
comes first. It misses wording nobody wrote a rule for ("Questions 1 and 3
have been answered in full by most forces"), and on conditional advice one
such clause is enough to hide the second branch. The classifier reads one
clause at a time (the unit the rules use to find branches), trained on real
passages of police FOI responses and Commissioners' decisions
(classifiers/data/stance.jsonl, each with its source), including passages
that state no stance at all, so that procedure and harm-test prose read as
"none".

How the two combine (``combine``):

1. Each clause gets the rules' stance; where the rules give none, the
   classifier's, if it is confident (MIN_PROBABILITY) and is a stance CRU
   advice can take ("not held" and "none" are not).
2. Two or more clauses conditioned on the force ("if your force has ...")
   with different stances: ``conditional``, whatever the rules said of the
   whole text. This is the case the rules alone got wrong.
3. Otherwise the rules' stance of the whole text when they found one, else
   the stance with the most confident support across the clauses, else None.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.util import fix_random_seed

from classifiers.dataset import DATA_DIR, DatasetError, read_records, split_for
from classifiers.textcat import default_model_root, fit_textcat, normalise, write_model_dir
from parsers.cru.stance import STANCES, clauses, is_conditioned, simple_stance

log = logging.getLogger(__name__)

STANCE_PATH = DATA_DIR / "stance.jsonl"
MODEL_VERSION = "v1"
#: What the classifier can say: the CRU stances (bar "conditional", which is structure, not wording),
#: "not_held" (a force's answer, not advice) and "none" (no stance stated).
LABELS = ("full_ncnd", "partial_ncnd", "confirm_and_exempt", "disclose", "not_held", "none")
ADVICE_STANCES = frozenset(STANCES) - {"conditional"}
#: Chosen by `python -m classifiers.crossval --stance` (5-fold, stance train split): rules + classifier
#: read 0.625 of passages right at 0.3, 0.570 at 0.6, rules alone 0.516.
MIN_PROBABILITY = 0.3
EPOCHS = 20
#: Clauses read per text at most: advice states its stance early; long bodies only repeat it.
MAX_CLAUSES = 60
MIN_CLAUSE_CHARS = 15
_lock = threading.Lock()
_cache: dict[str, StanceModel] = {}


@dataclass(frozen=True)
class Passage:
    id: str
    text: str
    stance: str
    source: str
    provenance: str
    split: str


def load_passages(path: str | Path | None = None, split: str | None = None) -> list[Passage]:
    """Read stance.jsonl, validating every line; optionally keep one split."""
    p = Path(path) if path is not None else STANCE_PATH
    out: list[Passage] = []
    for where, d in read_records(p, "passage"):
        try:
            passage = Passage(d["id"], d["text"], d["stance"], d["source"], d["provenance"], d["split"])
        except KeyError as exc:
            raise DatasetError(f"{where}: malformed passage: {exc}") from exc
        if passage.stance not in LABELS:
            raise DatasetError(f"{where}: stance {passage.stance!r} is not one of {LABELS}")
        if passage.split != split_for(passage.id):
            raise DatasetError(f"{where}: split {passage.split!r} is not the seeded hash of the id")
        if split is None or passage.split == split:
            out.append(passage)
    return out


def _model_key(data: Path, seed: int) -> str:
    h = sha256(data.read_bytes())
    h.update(f"{MODEL_VERSION}:{seed}:{EPOCHS}:{LABELS}:{spacy.__version__}".encode())
    return h.hexdigest()


def fit(passages: list[Passage], seed: int = 0) -> Language:
    """Train an exclusive-class bag-of-words textcat in memory (seconds; fixed seed and order)."""
    fix_random_seed(seed)
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat", config={"model": {
        "@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True, "ngram_size": 2,
        "no_output_layer": False, "length": 65536}})
    for label in LABELS:
        textcat.add_label(label)
    return fit_textcat(nlp, [(p.text, {label: float(label == p.stance) for label in LABELS}) for p in passages],
                       seed, EPOCHS)


def train(data_path: str | Path | None = None, out_dir: str | Path | None = None, seed: int = 0) -> Path:
    """Train on the 'train' split into out_dir/stance-<version>-<key12>; return that directory."""
    data = Path(data_path) if data_path is not None else STANCE_PATH
    root = Path(out_dir) if out_dir is not None else default_model_root()
    key = _model_key(data, seed)
    target = root / f"stance-{MODEL_VERSION}-{key[:12]}"
    passages = load_passages(data, split="train")
    nlp = fit(passages, seed)
    meta = {"model_version": MODEL_VERSION, "key": key, "seed": seed, "epochs": EPOCHS, "labels": list(LABELS),
            "data_path": str(data), "train_passages": len(passages), "spacy_version": spacy.__version__}
    write_model_dir(nlp, target, meta)
    log.info("trained stance model on %d passages into %s", len(passages), target)
    return target


class StanceModel:
    """A trained stance textcat: label probabilities for a clause."""

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp

    def probabilities(self, texts: list[str]) -> list[dict[str, float]]:
        with _lock:
            docs = list(self.nlp.pipe([normalise(t) for t in texts], batch_size=64))
        return [{k: float(v) for k, v in d.cats.items()} for d in docs]

    def predict(self, text: str) -> str:
        """The most probable label of one passage (used by evaluation)."""
        probs = self.probabilities([text])[0]
        return max(probs, key=probs.__getitem__)


def load(model_dir: str | Path | None = None) -> StanceModel:
    """The process-wide stance model: model_dir if given, else the default one, trained on first use."""
    if model_dir is None:
        root = default_model_root()
        target = root / f"stance-{MODEL_VERSION}-{_model_key(STANCE_PATH, 0)[:12]}"
        if not (target / "meta.json").is_file():
            log.warning("no trained stance model yet: training one into %s (a few seconds, once; "
                        "`cru train` does this explicitly)", root)
            target = train(STANCE_PATH, root)
        model_dir = target
    key = str(Path(model_dir).resolve())
    with _lock:
        model = _cache.get(key)
    if model is None:
        model = StanceModel(spacy.load(Path(model_dir) / "pipeline"))
        with _lock:
            _cache[key] = model
    return model


def clause_stances(parts: list[str], model: StanceModel,
                   min_probability: float = MIN_PROBABILITY) -> list[tuple[str, str, float]]:
    """(clause, stance, confidence) for the clauses that state a CRU stance, by rule or else by model."""
    out: list[tuple[str, str, float]] = []
    unruled: list[str] = []
    for clause in parts:
        ruled = simple_stance(clause)
        if ruled is not None:
            out.append((clause, ruled, 1.0))
        else:
            unruled.append(clause)
    if unruled:
        for clause, probs in zip(unruled, model.probabilities(unruled), strict=True):
            best = max(probs, key=probs.__getitem__)
            if best in ADVICE_STANCES and probs[best] >= min_probability:
                out.append((clause, best, probs[best]))
    order = {c: i for i, c in enumerate(parts)}
    return sorted(out, key=lambda r: order[r[0]])


def combine(rule_stance: str | None, text: str, model: StanceModel,
            min_probability: float = MIN_PROBABILITY) -> str | None:
    """The stance of advice from the rules' reading of the whole text and the per-clause readings.

    With a rule stance, only clauses conditioned on the force are read (can they make it
    conditional?), so most messages cost no model call at all.
    """
    if rule_stance == "conditional" or not text.strip():
        return rule_stance
    parts = [c for c in clauses(text) if len(c) >= MIN_CLAUSE_CHARS][:MAX_CLAUSES]
    conditioned = [c for c in parts if is_conditioned(c)]
    if len(conditioned) >= 2 and len({s for _, s, _ in clause_stances(conditioned, model, min_probability)}) >= 2:
        return "conditional"
    if rule_stance is not None:
        return rule_stance
    support: dict[str, float] = defaultdict(float)
    for _, stance, confidence in clause_stances(parts, model, min_probability):
        support[stance] += confidence
    return max(support, key=support.__getitem__) if support else None
