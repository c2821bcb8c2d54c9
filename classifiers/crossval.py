"""Choose the topic model's settings by k-fold cross-validation on the train split only.

The held-out test split is what `cru eval` reports; choosing epochs, n-gram size,
hash-table length or the decision threshold by looking at it would make that
figure a lie. So every choice in classifiers/topics.py (Hyper, THRESHOLD) is made
here, on folds of the train split, and the test split is never read.

Run: ``python -m classifiers.crossval [--folds 5]``; prints macro-F1 (the
figure `cru eval` reports, with keyword rules on) per setting, best first.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import statistics
from concurrent.futures import ProcessPoolExecutor

from classifiers.dataset import REQUESTS_PATH, Example, load_examples
from classifiers.taxonomy import Taxonomy, load_taxonomy
from classifiers.topics import Hyper, TopicModel, decide, fit_pipeline

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7)
MIN_PRIMARIES = (0.1, 0.2, 0.3, 0.35, 0.4)


def _bucket(example_id: str, k: int, repeat: int = 0) -> int:
    """The fold of an example: a seeded hash of its id, stable as examples are added; each repeat re-deals."""
    salt = "cru-cv-v1" if repeat == 0 else f"cru-cv-v1-r{repeat}"
    return int(hashlib.sha256(f"{salt}:{example_id}".encode()).hexdigest()[:8], 16) % k


def macro_f1(gold: list[set[str]], got: list[set[str]], ids: tuple[str, ...]) -> float:
    """Mean F1 over the topics that occur in gold (as classifiers/evaluate.py computes it)."""
    f1s = []
    for t in ids:
        tp = sum(1 for g, p in zip(gold, got, strict=True) if t in g and t in p)
        fp = sum(1 for g, p in zip(gold, got, strict=True) if t not in g and t in p)
        fn = sum(1 for g, p in zip(gold, got, strict=True) if t in g and t not in p)
        if tp + fn == 0:
            continue
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return statistics.fmean(f1s) if f1s else 0.0


def _fold_scores(args: tuple[list[Example], list[Example], Hyper, Taxonomy]) -> list[dict[str, float]]:
    train, held, hyper, taxonomy = args
    nlp = fit_pipeline(train, taxonomy, seed=0, hyper=hyper)
    model = TopicModel(None, taxonomy, nlp=nlp, features=hyper.features)
    return [model.ruled_scores(e.text) for e in held]


def cross_validate(hypers: list[Hyper], k: int = 5, workers: int = 2,
                   repeats: int = 1) -> list[tuple[float, Hyper, float, float]]:
    """(macro-F1, hyper, threshold, min_primary) per setting, best first.

    Macro-F1 is pooled over the k held-out folds, then averaged over ``repeats`` different deals of
    the folds. Why repeats: on a few hundred examples one deal's figure moves by about 0.01 with the
    deal alone, as much as the settings being compared.
    """
    tax = load_taxonomy()
    examples = load_examples(REQUESTS_PATH, split="train", taxonomy=tax)
    deals: list[list[list[Example]]] = []
    for r in range(repeats):
        parts: list[list[Example]] = [[] for _ in range(k)]
        for e in examples:
            parts[_bucket(e.id, k, r)].append(e)
        deals.append(parts)
    jobs = [([e for j, p in enumerate(parts) if j != i for e in p], parts[i], h, tax)
            for h in hypers for parts in deals for i in range(k)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_fold_scores, jobs))
    golds = [[set(e.topics) for i in range(k) for e in parts[i]] for parts in deals]
    out = []
    for n, h in enumerate(hypers):
        per_deal = [[s for r in results[(n * repeats + d) * k: (n * repeats + d + 1) * k] for s in r]
                    for d in range(repeats)]
        for th, mp in itertools.product(THRESHOLDS, MIN_PRIMARIES):
            f1s = [macro_f1(gold, [set(decide(s, tax.fallback, th, mp).topics) for s in scores], tax.ids)
                   for gold, scores in zip(golds, per_deal, strict=True)]
            out.append((statistics.fmean(f1s), h, th, mp))
    return sorted(out, key=lambda r: -r[0])


STANCE_FLOORS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.01)  # 1.01: the classifier never confident = rules alone


def _stance_fold(args: tuple[list, list]) -> list[tuple[str | None, list[str | None]]]:
    """Per held-out passage: the stance the pipeline should read, and what it reads at each floor."""
    from classifiers.stance import ADVICE_STANCES, StanceModel, combine, fit
    from parsers.cru.stance import extract_stance

    train, held = args
    model = StanceModel(fit(train, seed=0))
    return [(p.stance if p.stance in ADVICE_STANCES else None,
             [combine(extract_stance(p.text), p.text, model, floor) for floor in STANCE_FLOORS]) for p in held]


def cross_validate_stance(k: int = 5, workers: int = 2) -> list[tuple[float, float]]:
    """(accuracy of rules + classifier, MIN_PROBABILITY) on folds of the stance train split; best first.

    Accuracy as the pipeline reads stance: "not held" and "none" passages should come out None.
    """
    from classifiers.stance import load_passages

    passages = load_passages(split="train")
    parts: list[list] = [[] for _ in range(k)]
    for p in passages:
        parts[_bucket(p.id, k)].append(p)
    jobs = [([p for j, part in enumerate(parts) if j != i for p in part], parts[i]) for i in range(k)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = [r for fold in pool.map(_stance_fold, jobs) for r in fold]
    rows = [(sum(got[n] == want for want, got in results) / len(results), floor)
            for n, floor in enumerate(STANCE_FLOORS)]
    return sorted(rows, key=lambda r: -r[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="deals of the folds to average over")
    ap.add_argument("--epochs", type=int, nargs="+", default=[15, 25, 40])
    ap.add_argument("--ngram", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--length", type=int, nargs="+", default=[65536, 262144])
    ap.add_argument("--architecture", nargs="+", default=["bow"], choices=["bow", "ensemble"])
    ap.add_argument("--features", nargs="+", default=["stems", "words"], choices=["stems", "words"])
    ap.add_argument("--stance", action="store_true", help="choose the stance classifier's MIN_PROBABILITY instead")
    args = ap.parse_args()
    if args.stance:
        print(f"{args.folds}-fold cross-validation of rules + stance classifier on the stance train split "
              "(1.01 = rules alone); accuracy, best first")
        for acc, floor in cross_validate_stance(args.folds, args.workers):
            print(f"  {acc:.3f}  min_probability={floor}")
        return
    hypers = [Hyper(e, n, ln, a, f) for e, n, ln, a, f in
              itertools.product(args.epochs, args.ngram, args.length, args.architecture, args.features)]
    rows = cross_validate(hypers, args.folds, args.workers, args.repeats)
    print(f"{args.folds}-fold cross-validation on the train split, mean of {args.repeats} deals ({len(hypers)} "
          f"settings x {len(THRESHOLDS)} thresholds x {len(MIN_PRIMARIES)} primary floors); macro-F1 with "
          "keyword rules, best first")
    for f1, h, th, mp in rows[:25]:
        print(f"  {f1:.3f}  {h.architecture} {h.features} epochs={h.epochs:<3} ngram={h.ngram_size} "
              f"length={h.length:<7} threshold={th} min_primary={mp}")


if __name__ == "__main__":
    main()
