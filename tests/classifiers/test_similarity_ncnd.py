"""Similar-request links (the seed pair must link, unrelated requests must not) and the NCND label."""

from __future__ import annotations

import pytest

from classifiers.ncnd import supplier_ncnd
from classifiers.similarity import DEFAULT_THRESHOLD, SimilarityIndex, similar_requests, stem

DRONES = ("How many drones does your police force own or operate? For what purposes does your force use drones, "
          "and what are your plans for the use of drones in surveillance work?")
SHOPLIFTING = "How many incidents of shoplifting were reported to your force in 2021, 2022 and 2023?"


def test_seed_pair_is_linked_and_unrelated_is_not(request_995_24, request_157_25):
    hits = similar_requests(request_157_25, [("995/24", request_995_24), ("0001/24", DRONES)], DEFAULT_THRESHOLD)
    assert [k for k, _ in hits] == ["995/24"]
    assert hits[0][1] >= DEFAULT_THRESHOLD


def test_unrelated_requests_score_low(request_995_24):
    assert similar_requests(DRONES, [("995/24", request_995_24), ("2/24", SHOPLIFTING)], DEFAULT_THRESHOLD) == []


def test_near_duplicate_round_robin_scores_high():
    a = "How many incidents of shoplifting were reported to your force in 2021, 2022 and 2023?"
    b = "How many shoplifting incidents were reported to your police force in 2019 and 2020?"
    (hit,) = similar_requests(a, [("1/24", b)], DEFAULT_THRESHOLD)
    assert hit[1] > 0.5


def test_batch_pairs_match_single_queries(request_995_24, request_157_25):
    docs = [("995/24", request_995_24), ("0001/24", DRONES), ("157/25", request_157_25), ("2/24", SHOPLIFTING)]
    pairs = SimilarityIndex(docs).pairs(DEFAULT_THRESHOLD)
    assert [(a, b) for a, b, _ in pairs] == [("995/24", "157/25")]


def test_empty_inputs():
    assert similar_requests("anything", [], 0.0) == []
    assert SimilarityIndex([]).pairs() == []


def test_stemmer_joins_plurals():
    assert stem("contracts") == stem("contract")
    assert stem("trialled") == stem("trial")


@pytest.mark.parametrize(("topics", "suppliers", "stance", "conditional", "expected"), [
    (("supplier_technology",), ("Palantir",), "full_ncnd", False, True),
    (("finance_contracts", "supplier_technology"), (), "partial_ncnd", False, True),
    (("finance_contracts",), ("Palantir",), "full_ncnd", False, True),
    (("supplier_technology",), ("Palantir",), "conditional", True, True),
    (("supplier_technology",), ("Palantir",), "conditional", False, False),
    (("supplier_technology",), ("Palantir",), "disclose", False, False),
    (("crime_statistics",), (), "full_ncnd", False, False),
    (("supplier_technology",), ("Palantir",), None, False, False),
])
def test_supplier_ncnd(topics, suppliers, stance, conditional, expected):
    assert supplier_ncnd(topics, suppliers, stance, conditional_with_ncnd=conditional) is expected
