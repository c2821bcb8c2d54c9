"""The topic model: data integrity, load/predict on real seed text, reproducibility, evaluation."""

from __future__ import annotations

import json

from classifiers.dataset import REQUESTS_PATH, SUPPLIERS_PATH, load_examples, split_for
from classifiers.evaluate import evaluate, format_report
from classifiers.taxonomy import load_taxonomy
from classifiers.topics import TopicResult, fit_pipeline, load_model


def test_dataset_is_valid_and_split_is_the_stored_hash():
    examples = load_examples()
    assert len(examples) >= 200
    assert all(e.split == split_for(e.id) for e in examples)
    test = [e for e in examples if e.split == "test"]
    assert 0.15 < len(test) / len(examples) < 0.35
    assert all(e.provenance and e.source for e in examples)
    for tid in load_taxonomy().ids:
        assert sum(tid in e.topics for e in examples) >= 15, tid


def test_supplier_set_has_provenance():
    rows = [json.loads(x) for x in SUPPLIERS_PATH.read_text().splitlines() if x.strip()]
    assert len(rows) >= 30
    assert all({"id", "text", "suppliers", "source", "provenance"} <= set(r) for r in rows)


def test_model_dir_records_its_inputs(model_dir):
    meta = json.loads((model_dir / "meta.json").read_text())
    assert meta["seed"] == 0 and meta["split"] == "train"
    assert meta["taxonomy_sha256"] == load_taxonomy().sha256
    assert model_dir.name.startswith("topics-v1-")
    assert meta["train_examples"] == len(load_examples(REQUESTS_PATH, split="train"))


def test_load_model_is_cached(model_dir, model):
    assert load_model(model_dir) is model


def test_seed_requests_are_supplier_technology(model, request_995_24, request_157_25):
    for text in (request_995_24, request_157_25):
        result = model.classify(text)
        assert isinstance(result, TopicResult)
        assert result.primary == "supplier_technology"
        assert result.topics[0] == result.primary
        assert set(result.labels) == set(load_taxonomy().ids)


def test_drone_request_is_vehicles_equipment(model):
    text = ("Please tell me how many drones (unmanned aerial vehicles) your force owns, the make and model of each, "
            "and how many hours they flew last year.")
    assert model.classify(text).primary == "vehicles_equipment"


def test_empty_text_falls_back_to_other(model):
    result = model.classify("")
    assert result.primary in result.topics


def test_training_is_reproducible():
    tax = load_taxonomy()
    train = load_examples(split="train", taxonomy=tax)[:60]
    probe = [e.text for e in load_examples(split="test", taxonomy=tax)[:10]]
    a, b = fit_pipeline(train, tax, seed=3, epochs=3), fit_pipeline(train, tax, seed=3, epochs=3)
    assert [a(t.lower()).cats for t in probe] == [b(t.lower()).cats for t in probe]


def test_evaluation_reports_every_topic(model):
    report = evaluate(model=model)
    assert {m.topic for m in report.per_topic} == set(load_taxonomy().ids)
    assert report.examples == len(load_examples(split="test"))
    assert 0.0 <= report.macro_f1 <= 1.0
    assert report.suppliers is not None and report.suppliers.f1 >= 0.9
    text = format_report(report)
    assert "macro-F1" in text and "supplier_technology" in text


def test_keyword_rules_find_what_a_search_per_topic_finds():
    """The one-pass keyword scan agrees with searching each topic's keywords separately."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from classifiers.topics import KeywordRules, _keyword_regex, normalise

    tax = load_taxonomy()
    rules = KeywordRules(tax)
    words = sorted({w for t in tax.topics for w in t.keywords})
    filler = ["the", "police", "-", "counter", "body", "worn", "data", "x", "of", "prevent", "s"]
    pieces = st.lists(st.sampled_from(words + filler), max_size=12)
    joins = st.sampled_from([" ", "", "-", "\n", ", "])

    @settings(max_examples=300, deadline=None)
    @given(pieces, joins)
    def check(parts, join):
        low = normalise(join.join(parts))
        expected = {t.id for t in tax.topics if t.keywords and _keyword_regex(t.keywords).search(low)}
        assert rules.topics(low) == expected

    check()


def test_model_text_stems_content_words_and_drops_function_words():
    from classifiers.topics import model_text

    stems = model_text("How many RIPA authorisations were authorised for the Directed Surveillance?")
    assert stems.split() == ["ripa", "authoris", "authoris", "direct", "surveil"]
    assert model_text("Drones, UAVs!", "words") == "drones, uavs!"  # the older models' input, kept for them


def test_every_request_was_labelled_by_two_annotators_and_the_final_label_is_the_data():
    """topic_annotations.jsonl holds both blind labels and the adjudicated one; requests.jsonl must carry the latter."""
    from classifiers.dataset import TOPIC_ANNOTATIONS_PATH

    requests = {e.id: e for e in load_examples()}
    rows = {r["id"]: r for r in map(json.loads, TOPIC_ANNOTATIONS_PATH.read_text(encoding="utf-8").splitlines())}
    assert rows.keys() == requests.keys()
    for rid, r in rows.items():
        assert set(r["final"]["topics"]) == set(requests[rid].topics) and r["final"]["primary"] == requests[rid].primary
        first, second = r["first"], r["second"]
        agreed = set(first["topics"]) == set(second["topics"]) and first["primary"] == second["primary"]
        assert r["how"] == ("agreed" if agreed else "adjudicated")


def test_agreement_report_scores_the_held_out_split():
    from classifiers.evaluate import evaluate_agreement

    text = evaluate_agreement()
    assert f"({len(load_examples(split='test'))} requests" in text
    assert "second vs first" in text and "macro-F1" in text


def test_cross_validation_repeats_deal_the_folds_differently():
    """Each repeat of cross-validation re-deals the train split; the first deal is the one always used."""
    from classifiers.crossval import _bucket

    ids = [f"request-{n}" for n in range(200)]
    first = [_bucket(i, 5) for i in ids]
    assert first == [_bucket(i, 5, 0) for i in ids]
    assert first != [_bucket(i, 5, 1) for i in ids]
    assert sorted(set(_bucket(i, 5, 2) for i in ids)) == [0, 1, 2, 3, 4]
