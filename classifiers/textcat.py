"""What the two spaCy text classifiers (topics, stance) share: what the model sees, the training loop,
and the versioned model directory they are written to."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.training import Example as SpacyExample
from spacy.util import minibatch

BATCH_SIZE = 8
_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    """What the model sees: lower case, one space, capped length (why: BOW features are case-sensitive ORTH)."""
    return _WS.sub(" ", text.replace("’", "'")).strip().lower()[:20000]


def default_model_root() -> Path:
    """$CRU_MODEL_DIR, else ~/.cache/cru/models: where first use trains a model if none was shipped."""
    env = os.environ.get("CRU_MODEL_DIR")
    return Path(env) if env else Path.home() / ".cache" / "cru" / "models"


def fit_textcat(nlp: Language, pairs: list[tuple[str, dict[str, float]]], seed: int, epochs: int,
                prepare: Callable[[str], str] = normalise) -> Language:
    """Train nlp's text classifier on (text, cats) pairs in a fixed, seeded order; the caller fixes spaCy's seed.

    ``prepare`` turns a text into what the model sees; prediction must use the same function.
    """
    train_set = [SpacyExample.from_dict(nlp.make_doc(prepare(text)), {"cats": cats}) for text, cats in pairs]
    optimizer = nlp.initialize(lambda: train_set)
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(train_set)
        for batch in minibatch(train_set, size=BATCH_SIZE):
            nlp.update(batch, sgd=optimizer, losses={})
    return nlp


def write_model_dir(nlp: Language, target: Path, meta: dict[str, Any]) -> Path:
    """Write nlp and meta.json to target (a directory named by the key of its inputs), replacing it whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    nlp.to_disk(tmp / "pipeline")
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if target.exists():  # same key: same model; replace atomically enough for a cache
        shutil.rmtree(target)
    tmp.rename(target)
    return target
