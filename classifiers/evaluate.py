"""Measured quality on the held-out split: per-topic precision/recall/F1, primary confusions, suppliers F1.

Only the 'test' split is scored, and nothing here feeds back into training or
thresholds, so the figures are honest estimates rather than tuned ones.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.dataset import (
    REQUESTS_PATH,
    SUPPLIERS_FRESH_PATH,
    SUPPLIERS_PATH,
    SUPPLIERS_REAL_PATH,
    TOPIC_ANNOTATIONS_PATH,
    load_examples,
)
from classifiers.entities import extract_suppliers, extract_technologies, get_gazetteer
from classifiers.gazetteer import strip_corporate_suffixes
from classifiers.topics import TopicModel, load_model


@dataclass(frozen=True)
class TopicMetrics:
    topic: str
    precision: float
    recall: float
    f1: float
    support: int  # held-out examples carrying the topic
    predicted: int


@dataclass(frozen=True)
class SupplierMetrics:
    precision: float
    recall: float
    f1: float
    examples: int
    errors: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]  # (id, expected, got) where they differ


@dataclass(frozen=True)
class EvalReport:
    model_dir: str
    examples: int
    per_topic: tuple[TopicMetrics, ...]
    macro_f1: float  # over topics with support in the held-out split
    micro_f1: float
    primary_accuracy: float
    confusions: tuple[tuple[str, str, int], ...]  # (true primary, predicted primary, count), mistakes only
    suppliers: SupplierMetrics | None
    ms_per_text: float
    rules: bool = True
    extra: dict = field(default_factory=dict)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(model_dir: str | Path | None = None, data_path: str | Path | None = None,
             suppliers_path: str | Path | None = SUPPLIERS_PATH, rules: bool = True,
             model: TopicModel | None = None) -> EvalReport:
    """Score the topic model on the held-out split and the supplier extractor on the labelled supplier set."""
    m = model or load_model(model_dir)
    tax = m.taxonomy
    test = load_examples(data_path or REQUESTS_PATH, split="test", taxonomy=tax)
    counts = {t: [0, 0, 0] for t in tax.ids}  # tp, fp, fn
    confusions: Counter[tuple[str, str]] = Counter()
    correct = 0
    start = time.perf_counter()
    results = [m.classify(e.text, rules=rules) for e in test]
    ms = (time.perf_counter() - start) * 1000 / max(len(test), 1)
    for e, r in zip(test, results, strict=True):
        gold, got = set(e.topics), set(r.topics)
        for t in tax.ids:
            if t in got and t in gold:
                counts[t][0] += 1
            elif t in got:
                counts[t][1] += 1
            elif t in gold:
                counts[t][2] += 1
        if r.primary == e.primary:
            correct += 1
        else:
            confusions[(e.primary, r.primary)] += 1
    per_topic = []
    for t in tax.ids:
        tp, fp, fn = counts[t]
        p, rc, f = _prf(tp, fp, fn)
        per_topic.append(TopicMetrics(t, p, rc, f, tp + fn, tp + fp))
    supported = [pt for pt in per_topic if pt.support]
    macro = sum(pt.f1 for pt in supported) / len(supported) if supported else 0.0
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    return EvalReport(
        model_dir=str(m.dir), examples=len(test), per_topic=tuple(per_topic), macro_f1=macro,
        micro_f1=_prf(tp, fp, fn)[2], primary_accuracy=correct / len(test) if test else 0.0,
        confusions=tuple((a, b, n) for (a, b), n in confusions.most_common()),
        suppliers=evaluate_suppliers(suppliers_path) if suppliers_path else None, ms_per_text=ms, rules=rules)


def _canonical(name: str, technology: bool) -> str:
    """One spelling per supplier or technology, so two annotators' names compare (Palantir Technologies = Palantir)."""
    entry = get_gazetteer().lookup(name)
    if entry is not None:
        return (entry.name if technology else entry.canonical_supplier or entry.name).lower()
    return (name if technology else strip_corporate_suffixes(name)).lower()


def evaluate_suppliers(path: str | Path = SUPPLIERS_PATH, key: str = "suppliers") -> SupplierMetrics:
    """Micro precision/recall/F1 of the extractor against the hand-labelled names in a JSONL file.

    key "suppliers" scores extract_suppliers, "technologies" extract_technologies.
    """
    return score_names([json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()], key)


def score_names(rows: list[dict], key: str = "suppliers") -> SupplierMetrics:
    """Micro precision/recall/F1 of the extractor on labelled rows (id, text and the ``key`` list)."""
    technology = key == "technologies"
    extract = extract_technologies if technology else extract_suppliers
    got_names = [extract(d["text"]) for d in rows]
    p, r, f = _names_prf([d[key] for d in rows], got_names, technology)
    errors = tuple((d["id"], tuple(d[key]), got) for d, got in zip(rows, got_names, strict=True)
                   if {_canonical(s, technology) for s in d[key]} != {_canonical(s, technology) for s in got})
    return SupplierMetrics(p, r, f, len(rows), errors)


def _names_prf(gold: list, got: list, technology: bool) -> tuple[float, float, float]:
    """Micro precision/recall/F1 of ``got`` name lists against ``gold`` ones, compared by canonical name."""
    tp = fp = fn = 0
    for g_names, p_names in zip(gold, got, strict=True):
        g = {_canonical(s, technology) for s in g_names}
        p = {_canonical(s, technology) for s in p_names}
        tp, fp, fn = tp + len(g & p), fp + len(p - g), fn + len(g - p)
    return _prf(tp, fp, fn)


def format_report(report: EvalReport) -> str:
    """A plain-text table for `cru eval` and for notes."""
    lines = [f"Topic model {report.model_dir}",
             f"held-out examples: {report.examples}   keyword rules: {'on' if report.rules else 'off'}",
             "", f"{'topic':<22}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}{'predicted':>11}"]
    for t in report.per_topic:
        lines.append(f"{t.topic:<22}{t.precision:>10.2f}{t.recall:>8.2f}{t.f1:>7.2f}{t.support:>9}{t.predicted:>11}")
    lines += ["", f"macro-F1 (topics with support): {report.macro_f1:.3f}", f"micro-F1: {report.micro_f1:.3f}",
              f"primary topic accuracy: {report.primary_accuracy:.3f}",
              f"speed: {report.ms_per_text:.3f} ms per request text", "", "primary confusions (true -> predicted):"]
    lines += [f"  {a} -> {b}: {n}" for a, b, n in report.confusions] or ["  none"]
    if report.suppliers is not None:
        s = report.suppliers
        lines += ["", f"suppliers ({s.examples} labelled texts): precision {s.precision:.3f} recall {s.recall:.3f} "
                  f"F1 {s.f1:.3f}"]
        lines += [f"  {i}: expected {list(e)} got {list(g)}" for i, e, g in s.errors]
    return "\n".join(lines)


@dataclass(frozen=True)
class StanceMetrics:
    """The stance classifier alone on its held-out passages (the rules are not involved)."""

    examples: int
    accuracy: float
    confident: int  # predictions at or above the combination's MIN_PROBABILITY
    confident_accuracy: float
    per_label: tuple[tuple[str, float, float, float, int], ...]  # label, precision, recall, F1, support
    rules_accuracy: float  # the rule extractor alone ("not held" and "none" passages should get None)
    combined_accuracy: float  # rules + classifier, as the pipeline reads advice


def evaluate_stance(model_dir: str | Path | None = None, data_path: str | Path | None = None) -> StanceMetrics:
    """Accuracy of the stance textcat on the test split of classifiers/data/stance.jsonl."""
    from classifiers.stance import ADVICE_STANCES, LABELS, MIN_PROBABILITY, Passage, combine, load, load_passages
    from parsers.cru.stance import extract_stance

    model = load(model_dir)
    test = load_passages(data_path, split="test")
    probs = model.probabilities([p.text for p in test])
    best = [max(pr, key=pr.__getitem__) for pr in probs]
    right = [b == p.stance for b, p in zip(best, test, strict=True)]
    sure = [ok for ok, pr, b in zip(right, probs, best, strict=True) if pr[b] >= MIN_PROBABILITY]
    per_label = []
    for label in LABELS:
        tp = sum(1 for b, p in zip(best, test, strict=True) if b == label and p.stance == label)
        fp = sum(1 for b, p in zip(best, test, strict=True) if b == label and p.stance != label)
        fn = sum(1 for b, p in zip(best, test, strict=True) if b != label and p.stance == label)
        per_label.append((label, *_prf(tp, fp, fn), tp + fn))
    def expected(p: Passage) -> str | None:
        return p.stance if p.stance in ADVICE_STANCES else None

    rules = [extract_stance(p.text) for p in test]
    combined = [combine(r, p.text, model) for r, p in zip(rules, test, strict=True)]
    n = len(test) or 1
    return StanceMetrics(len(test), sum(right) / n, len(sure), sum(sure) / len(sure) if sure else 0.0,
                         tuple(per_label), sum(r == expected(p) for r, p in zip(rules, test, strict=True)) / n,
                         sum(c == expected(p) for c, p in zip(combined, test, strict=True)) / n)


def format_stance(m: StanceMetrics) -> str:
    from classifiers.stance import MIN_PROBABILITY

    lines = [f"stance classifier (held-out passages: {m.examples}): accuracy {m.accuracy:.3f}; "
             f"at probability >= {MIN_PROBABILITY} (what the combination uses): {m.confident} passages, "
             f"accuracy {m.confident_accuracy:.3f}",
             f"  stance as the pipeline reads it (None for 'not held'/'none' passages): rules alone "
             f"{m.rules_accuracy:.3f}, rules + classifier {m.combined_accuracy:.3f}",
             f"  {'stance':<20}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}"]
    lines += [f"  {label:<20}{p:>10.2f}{r:>8.2f}{f:>7.2f}{n:>9}" for label, p, r, f, n in m.per_label]
    return "\n".join(lines)


def evaluate_real_suppliers(path: str | Path = SUPPLIERS_REAL_PATH) -> str:
    """Suppliers and technologies on real requests labelled by a second annotator, all and held-out split.

    The labels (classifiers/data/suppliers_real.jsonl) were made blind to the extractor;
    gazetteer names were added after a first run from misses in the 'train' half only. The
    'test' half's misses were then read (third session), so it is no longer a blind figure:
    evaluate_fresh_suppliers is the honest one.
    """
    rows = [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]
    lines = [f"suppliers on real requests, second annotator ({len(rows)} texts; {Path(path).name}; "
             "its test half's misses have been read, so not a blind figure):"]
    for split in ("test", None):
        subset = [r for r in rows if split is None or r["split"] == split]
        named = sum(1 for r in subset if r["suppliers"])
        for key in ("suppliers", "technologies"):
            m = score_names(subset, key)
            lines.append(f"  {split or 'all':<5} {key:<13} texts {len(subset):>3} (naming a supplier: {named:>2})  "
                         f"precision {m.precision:.3f} recall {m.recall:.3f} F1 {m.f1:.3f}")
    return "\n".join(lines)


def evaluate_fresh_suppliers(path: str | Path = SUPPLIERS_FRESH_PATH) -> str:
    """Suppliers and technologies on the independent set, and how far its two annotators agree.

    classifiers/data/suppliers_fresh.jsonl was collected after the gazetteer and the rules were
    frozen, by helpers who searched by kind of request (never by company name), labelled blind by
    two annotators and adjudicated; nothing was changed after reading it. Every text is held out.
    The agreement line (second annotator scored against the first) is the ceiling to read it against.
    """
    rows = [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]
    named = sum(1 for r in rows if r["suppliers"])
    lines = [f"suppliers on the independent fresh set ({len(rows)} texts, naming a supplier: {named}; "
             f"{Path(path).name}):"]
    for key in ("suppliers", "technologies"):
        m = score_names(rows, key)
        lines.append(f"  extractor  {key:<13} precision {m.precision:.3f} recall {m.recall:.3f} F1 {m.f1:.3f}")
    for key in ("suppliers", "technologies"):
        f1 = _names_prf([r["annotations"]["first"][key] for r in rows],
                        [r["annotations"]["second"][key] for r in rows], key == "technologies")[2]
        lines.append(f"  annotators {key:<13} second vs first F1 {f1:.3f}")
    return "\n".join(lines)


def evaluate_agreement(annotations_path: str | Path = TOPIC_ANNOTATIONS_PATH,
                       requests_path: str | Path = REQUESTS_PATH) -> str:
    """How far two annotators, labelling blind, agree on the held-out split: the ceiling to read macro-F1 against.

    Each request was labelled by two annotators without seeing each other's labels or the model;
    disagreements were adjudicated (classifiers/data/ANNOTATION.md). Scored like the model: macro-F1
    over topics with support, and primary agreement.
    """
    from classifiers.crossval import macro_f1
    from classifiers.taxonomy import load_taxonomy

    tax = load_taxonomy()
    held = {e.id for e in load_examples(requests_path, split="test", taxonomy=tax)}
    rows = [r for r in map(json.loads, Path(annotations_path).read_text(encoding="utf-8").splitlines())
            if r["id"] in held]
    if not rows:
        return "annotator agreement: no annotations for the held-out split"

    def score(a: str, b: str) -> tuple[float, float]:
        gold = [set(r[a]["topics"]) for r in rows]
        got = [set(r[b]["topics"]) for r in rows]
        primary = sum(r[a]["primary"] == r[b]["primary"] for r in rows) / len(rows)
        return macro_f1(gold, got, tax.ids), primary

    lines = [f"annotator agreement on the held-out split ({len(rows)} requests, two annotators labelling blind; "
             f"{sum(r['how'] == 'adjudicated' for r in rows)} disagreements adjudicated):"]
    for a, b, what in (("first", "second", "second vs first"), ("final", "first", "first vs adjudicated"),
                       ("final", "second", "second vs adjudicated")):
        f1, primary = score(a, b)
        lines.append(f"  {what:<22} macro-F1 {f1:.3f}  primary agreement {primary:.3f}")
    return "\n".join(lines)
