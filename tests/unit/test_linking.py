"""Threading and log links over hand-made records (pure)."""

from __future__ import annotations

from pipeline.linking import MessageRecord, link


def rec(key: str, order: int, **kw) -> MessageRecord:
    base = dict(
        key=key, order=order, relation="root", parent_key=None, message_id=f"<{key}@x>", derived_id=False,
        subject=kw.get("subject", key), norm_subject=kw.get("subject", key).lower(), date=None,
        in_reply_to=None, references=[], thread_topic=None, kind=None, about=[], referenced=[],
        marking=None, caveats=[], stance=None, exemptions=[], logged_with=None, applicant_request=None,
        advice=None, circulation_date=None,
    )
    base.update(kw)
    return MessageRecord(**base)


def test_generic_subjects_never_merge() -> None:
    a = rec("a", 0, subject="RE: FOI request", norm_subject="foi request", thread_topic="FOI request")
    b = rec("b", 1, subject="RE: FOI request", norm_subject="foi request", thread_topic="FOI request")
    result = link([a, b])
    assert result.thread_of["a"] != result.thread_of["b"]


def test_specific_thread_topic_merges_without_headers() -> None:
    a = rec("a", 0, subject="Drone fleet costs", norm_subject="drone fleet costs", thread_topic="Drone fleet costs")
    b = rec("b", 1, subject="RE: Drone fleet costs", norm_subject="drone fleet costs",
            thread_topic="Drone fleet costs")
    result = link([a, b])
    assert result.thread_of["a"] == result.thread_of["b"]


def test_reply_across_logs_is_a_link_not_a_merge() -> None:
    a = rec("a", 0, about=["1/24"])
    b = rec("b", 1, about=["2/24"], in_reply_to="<a@x>")
    result = link([a, b])
    assert result.thread_of["a"] == "log:1/24" and result.thread_of["b"] == "log:2/24"
    assert {(x["from_log"], x["to_log"], x["kind"]) for x in result.links} == {("2/24", "1/24", "reply")}


def test_no_log_message_does_not_bridge_two_logs() -> None:
    a = rec("a", 0, about=["1/24"])
    b = rec("b", 1, about=["2/24"])
    c = rec("c", 2, in_reply_to="<a@x>", references=["<b@x>"])
    result = link([a, b, c])
    assert result.thread_of["a"] != result.thread_of["b"]


def test_reference_loops_and_phantom_parents_are_harmless() -> None:
    a = rec("a", 0, in_reply_to="<b@x>", references=["<ghost@x>", "<b@x>"])
    b = rec("b", 1, in_reply_to="<a@x>")
    result = link([a, b])
    assert result.thread_of["a"] == result.thread_of["b"]
    assert len(result.threads) == 1


def test_quoted_copy_collapses_onto_original_and_keeps_thread() -> None:
    original = rec("orig", 0, subject="Log No.1/24 CRU Circulation", norm_subject="log no.1/24 cru circulation",
                   date="2024-11-12T10:26:31+00:00", about=["1/24"], kind="circulation")
    update = rec("upd", 1, subject="Update to - RE: Log No.1/24", norm_subject="log no.1/24",
                 date="2024-12-09T14:45:09+00:00", about=["1/24"], kind="update")
    quoted = rec("upd.q", 2, relation="quoted", parent_key="upd", message_id="<d@derived.invalid>",
                 derived_id=True, subject="Log No.1/24 CRU Circulation",
                 norm_subject="log no.1/24 cru circulation", date="2024-11-12T10:26:00+00:00", about=["1/24"])
    result = link([original, update, quoted])
    assert result.copy_of == {"upd.q": "orig"}
    assert result.thread_of["upd.q"] == result.thread_of["orig"] == result.thread_of["upd"]
    circ = {c["log_number"]: c for c in result.circulations}["1/24"]
    assert circ["message_count"] == 2
    assert ("1/24", "1/24", "update") in {(x["from_log"], x["to_log"], x["kind"]) for x in result.links}


def test_attached_and_referenced_links_carry_evidence() -> None:
    parent = rec("p", 0, about=["157/25"], referenced=[("995/24", "body")],
                 body="Practitioners may recall the advice for CRU 995/24 (attached).")
    child = rec("p.a1", 1, relation="attached", parent_key="p", about=["995/24"])
    result = link([parent, child])
    kinds = {(x["from_log"], x["to_log"], x["kind"]): x["evidence"] for x in result.links}
    assert "CRU 995/24 (attached)" in kinds[("157/25", "995/24", "referenced")]
    assert ("157/25", "995/24", "attached") in kinds


def _circ(log: str, date: str, request: str) -> dict:
    return {"log_number": log, "first_date": date, "applicant_request": request, "suppliers": "[]"}


PALANTIR_A = "Do you hold a contract with Palantir Technologies for data analytics software, and its cost?"
PALANTIR_B = "Copies of contracts with Palantir Technologies for data analytics software and their costs."
DRONES = "How many drones did the force operate, and how many deployments were there last year?"


def test_similar_links_point_from_newer_to_older_and_skip_unrelated() -> None:
    from pipeline.linking import similar_links

    links = similar_links([_circ("1/24", "2024-01-01", PALANTIR_A), _circ("2/25", "2025-01-01", PALANTIR_B),
                           _circ("3/25", "2025-02-01", DRONES)], 0.3)
    assert [(x["from_log"], x["to_log"]) for x in links] == [("2/25", "1/24")]
    assert links[0]["score"] >= 0.3


def test_similar_links_are_reused_for_unchanged_requests_and_computed_for_new_ones() -> None:
    from pipeline.linking import similar_links

    circs = [_circ("1/24", "2024-01-01", PALANTIR_A), _circ("2/25", "2025-01-01", PALANTIR_B)]
    first = similar_links(circs, 0.3)
    # A stale marker on the reused link proves it was not recomputed.
    previous = ({"1/24": PALANTIR_A, "2/25": PALANTIR_B}, [{**first[0], "evidence": "kept"}])
    again = similar_links([*circs, _circ("3/25", "2025-03-01", PALANTIR_A)], 0.3, previous)
    assert {(x["from_log"], x["to_log"], x["evidence"] == "kept") for x in again} >= {("2/25", "1/24", True)}
    assert {x["to_log"] for x in again if x["from_log"] == "3/25"} == {"1/24", "2/25"}
