"""The classification stage: topic, suppliers and the supplier/technology NCND label per message.

Runs after extraction (it reads the applicant's request, the advice and the
stance) and before linking. The spaCy model is loaded once per process; in a
worker pool each worker loads it from disk, so ``prepare`` must run in the
parent first (it trains the default model if none exists yet, so two workers
never train at once).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from classifiers.entities import extract_entities, warm_entities
from classifiers.ncnd import LABEL as SUPPLIER_NCND
from classifiers.ncnd import supplier_ncnd
from classifiers.stance import StanceModel
from classifiers.stance import combine as combine_stance
from classifiers.stance import load as load_stance
from classifiers.taxonomy import Taxonomy, load_taxonomy
from classifiers.topics import TopicModel, load_model

#: Text classified per message at most (a request is a few paragraphs; quoted boilerplate adds nothing).
MAX_TEXT = 4000
#: Advice read for supplier names at most: the names come first; long forms of words only repeat them.
MAX_ADVICE_FOR_SUPPLIERS = 1500
#: Advice read for its stance at most (the stance classifier reads it clause by clause).
MAX_STANCE_TEXT = 6000


@dataclass(frozen=True)
class ClassifySettings:
    """Where the model and taxonomy are; empty strings mean the defaults. Picklable for worker processes."""

    model_dir: str = ""
    taxonomy: str = ""
    stance_model_dir: str = ""


@dataclass(frozen=True)
class Classification:
    topic: str | None
    topics: tuple[str, ...]
    suppliers: tuple[str, ...]
    #: The stance after combining the rules with the stance classifier (classifiers/stance.py).
    stance: str | None = None


def _taxonomy(settings: ClassifySettings) -> Taxonomy:
    return load_taxonomy(settings.taxonomy or None)


@functools.lru_cache(maxsize=4)
def prepare(settings: ClassifySettings) -> TopicModel:
    """Load (training on first use if needed) the topic model in this process, once per settings.

    Cached here because finding the model hashes the training data and reads the taxonomy file:
    far too slow to repeat for every message.
    """
    return load_model(settings.model_dir or None, _taxonomy(settings))


#: Environment variable through which pipeline/preload.py learns the settings to preload.
PRELOAD_ENV = "CRU_PRELOAD_CLASSIFY"


def preload_env(settings: ClassifySettings) -> str:
    """The settings as PRELOAD_ENV's value (JSON)."""
    return json.dumps({"model_dir": settings.model_dir, "taxonomy": settings.taxonomy})


def warm(settings: ClassifySettings) -> None:
    """Load everything classification needs (the models, the entity pipeline, the gates) in this process."""
    prepare(settings)
    prepare_stance(settings)
    warm_entities()


@functools.lru_cache(maxsize=4)
def prepare_stance(settings: ClassifySettings) -> StanceModel:
    """The stance model (trained on first use if needed), once per process."""
    return load_stance(settings.stance_model_dir or None)


def prime_topics(texts: list[str], settings: ClassifySettings) -> None:
    """Score many texts with the topic model in one batch, so classify_message finds them scored.

    Why: one spaCy call per message paid the model's per-call overhead and met it
    with cold caches between parses; a batch per worker chunk is cheaper per text.
    """
    if texts:
        prepare(settings).prime([t[:MAX_TEXT] for t in texts])


def classify_message(subject: str, request: str | None, advice: str | None, body: str, stance: str | None,
                     is_cru: bool, settings: ClassifySettings, stance_source: str | None = None) -> Classification:
    """Topic, suppliers and combined stance of one message; mail that is not CRU mail is left unclassified.

    The topic is read from the applicant's request when there is one (that is
    what officers compare), else from the subject and the start of the body.
    ``stance`` is the rule extractor's, read from ``stance_source`` (the advice, or
    the body without the request); the stance classifier may refine it.
    """
    if not is_cru and not request:
        return Classification(None, (), (), stance)
    text = (request if request else f"{subject}\n{body[:MAX_TEXT]}")[:MAX_TEXT]
    named = "\n".join(t for t in (subject, (request or "")[:MAX_TEXT], (advice or "")[:MAX_ADVICE_FOR_SUPPLIERS]) if t)
    # The stance classifier refines advice: mail with no advice section (a circulation whose
    # advice "will follow", a reply saying thanks) keeps the rules' reading of its body.
    full_source = stance_source if stance_source is not None else (advice or body)
    source = "" if advice is None else full_source[:MAX_STANCE_TEXT]
    low = full_source.lower()
    ncnd_mentioned = "ncnd" in low or "neither confirm" in low
    return _classify(text, named, stance, source, ncnd_mentioned, settings)


@functools.lru_cache(maxsize=1024)
def _classify(text: str, named: str, rule_stance: str | None, stance_source: str, ncnd_mentioned: bool,
              settings: ClassifySettings) -> Classification:
    """Classify the bounded texts of one message, remembering recent answers.

    Why cached: CRU mail repeats itself. The same earlier advice arrives attached
    to every update and quoted under every reply, and each copy is classified;
    the arguments are bounded (MAX_TEXT, MAX_ADVICE_FOR_SUPPLIERS, MAX_STANCE_TEXT)
    so the cache stays small, and the result is a pure function of them and the settings.
    """
    result = prepare(settings).classify(text)
    stance = combine_stance(rule_stance, stance_source, prepare_stance(settings))
    # `suppliers` holds suppliers/products and generic technologies (drone, ANPR ...): both are what
    # a request asks about and what officers browse by. One spaCy pass finds both.
    entities = extract_entities(named)
    names = [e.supplier for e in entities if e.supplier] + [e.name for e in entities if e.kind == "technology"]
    suppliers = tuple(dict.fromkeys(names))
    topics = list(result.topics) or [result.primary]
    conditional_ncnd = stance == "conditional" and ncnd_mentioned
    if supplier_ncnd(topics, suppliers, stance, conditional_with_ncnd=conditional_ncnd):
        topics.append(SUPPLIER_NCND)
    return Classification(result.primary, tuple(dict.fromkeys(topics)), suppliers, stance)


def model_description(settings: ClassifySettings) -> str:
    model = prepare(settings)
    directory = getattr(model, "model_dir", None)
    return str(Path(directory)) if directory else "in-memory model"
