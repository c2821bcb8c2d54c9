"""The stance classifier: its data, its load/predict path on real text, and how it combines with the rules."""

from __future__ import annotations

import pytest

from classifiers.dataset import DatasetError, split_for
from classifiers.stance import (
    LABELS,
    StanceModel,
    combine,
    fit,
    load,
    load_passages,
    train,
)
from parsers.cru.stance import extract_stance


@pytest.fixture(scope="module")
def stance_model(tmp_path_factory) -> StanceModel:
    return load(train(out_dir=tmp_path_factory.mktemp("stance-models"), seed=0))


def test_passages_are_labelled_real_text_with_a_fixed_split() -> None:
    passages = load_passages()
    assert len(passages) >= 150
    assert {p.stance for p in passages} == set(LABELS)
    assert all(p.source.startswith("http") and p.provenance for p in passages)
    assert all(p.split == split_for(p.id) for p in passages)
    assert {p.split for p in passages} == {"train", "test"}


def test_a_bad_label_is_named(tmp_path) -> None:
    bad = tmp_path / "stance.jsonl"
    bad.write_text('{"id": "x", "text": "t", "stance": "maybe", "source": "s", "provenance": "p", '
                   f'"split": "{split_for("x")}"}}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="maybe"):
        load_passages(bad)


def test_training_is_reproducible(tmp_path) -> None:
    train_set = load_passages(split="train")[:40]
    a, b = fit(train_set, seed=3), fit(train_set, seed=3)
    text = "The force can neither confirm nor deny that it holds the information."
    assert a(text).cats == b(text).cats


def test_model_reads_held_out_passages_better_than_chance(stance_model) -> None:
    test = load_passages(split="test")
    right = sum(stance_model.predict(p.text) == p.stance for p in test)
    assert right / len(test) > 2 / len(LABELS)  # six labels: chance is 1/6


def test_rules_come_first(stance_model) -> None:
    text = "Forces should neither confirm nor deny whether the information is held, citing s24(2) and s31(3)."
    assert combine(extract_stance(text), text, stance_model) == "full_ncnd"


def test_a_clause_the_rules_cannot_read_gets_the_model_reading(stance_model) -> None:
    """Rules are silent on the whole text (an exemption is named near a disclosure); clause by clause they are not."""
    text = ("Questions 1 and 2 were answered in full by most forces last year. "
            "For question 3 forces should consider s31(1)(a) before giving any breakdown by area.")
    assert extract_stance(text) is None
    assert combine(None, text, stance_model) == "disclose"


def test_conditional_when_force_conditioned_clauses_differ(stance_model) -> None:
    text = ("If your force has publicly acknowledged the contract, the information can be disclosed.\n"
            "If your force has not acknowledged it, forces should neither confirm nor deny under s24(2).")
    assert combine(None, text, stance_model) == "conditional"
    assert combine("full_ncnd", text, stance_model) == "conditional"


def test_procedure_states_no_stance(stance_model) -> None:
    """Acknowledgements and procedure are "none" or unsure: no stance is made up from them."""
    text = ("Thank you for your request for information, which was received on 3 March. "
            "Your request has been logged and will be dealt with under the Freedom of Information Act 2000. "
            "If you are unhappy with the way your request has been handled you may ask for an internal review.")
    assert combine(None, text, stance_model) is None
