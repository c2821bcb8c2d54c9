"""Supplier extraction: gazetteer normalisation, organisation patterns and the stop list."""

from __future__ import annotations

import pytest

from classifiers.entities import extract_entities, extract_suppliers, extract_technologies


@pytest.mark.parametrize(("text", "expected"), [
    ("use of services provided by Palantir Technologies UK Ltd", ("Palantir",)),
    ("a contract with the company Palantir Technologies, and later PALANTIR again", ("Palantir",)),
    ("software by Palantir, bought via a third party (for instance, Capgemini) and built with Oracle",
     ("Palantir", "Capgemini", "Oracle")),
    ("Do you use GrayKey, XRY or a Cellebrite UFED?", ("Magnet Forensics", "MSAB", "Cellebrite")),
    ("NeoFace from NEC, Amazon Rekognition, data on AWS", ("NEC", "Amazon Web Services")),
    ("Clearview AI and PimEyes", ("Clearview AI", "PimEyes")),
])
def test_gazetteer_names_are_normalised_in_order_of_first_appearance(text, expected):
    assert extract_suppliers(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Has the force bought software by Zephyr Analytics or services provided by Northwind Data Systems?",
     ("Zephyr Analytics", "Northwind Data Systems")),
    ("a contract with Acme Vision Technologies UK Ltd", ("Acme Vision Technologies",)),
    ("payments to Harbour Forensics Limited", ("Harbour Forensics",)),
    ("Does Quantix Solutions Ltd supply the force?", ("Quantix Solutions",)),
])
def test_unknown_suppliers_are_caught_by_patterns(text, expected):
    assert extract_suppliers(text) == expected


@pytest.mark.parametrize("text", [
    "under the Freedom of Information Act 2000",
    "guidance from the National Police Chiefs' Council and the National Police Chiefs Council",
    "a complaint to the Information Commissioner",
    "a recent contract with Leicestershire police was published on Contracts Finder",
    "data provided by West Midlands Police to the Home Office",
    "Section 24(2) National Security and Section 31(3) Law Enforcement",
    "Harris said the drone was lost; the aws of the case are unclear",
])
def test_stop_list_and_ambiguous_words_are_not_suppliers(text):
    assert extract_suppliers(text) == ()


def test_technologies_are_kept_apart_from_suppliers():
    text = "Live facial recognition, body-worn cameras, drones and UAVs, an IMSI catcher and ANPR"
    assert extract_technologies(text) == ("live facial recognition", "body-worn video", "drone", "IMSI catcher", "ANPR")
    assert extract_suppliers(text) == ()


def test_entities_carry_offsets_and_kinds():
    text = "We use GrayKey."
    (ent,) = extract_entities(text)
    assert (ent.name, ent.kind, ent.supplier) == ("GrayKey", "product", "Magnet Forensics")
    assert text[ent.start_char:ent.end_char] == "GrayKey"


def test_seed_requests_name_palantir(request_995_24, request_157_25):
    assert extract_suppliers(request_995_24) == ("Palantir",)
    assert extract_suppliers(request_157_25) == ("Palantir",)


def test_prefilter_never_hides_an_entity() -> None:
    """Texts the cheap prefilter rejects give no entity when the spaCy pipeline runs anyway."""
    import json

    from classifiers.dataset import REQUESTS_PATH
    from classifiers.entities import _prefilter, get_pipeline

    texts = [json.loads(line)["text"] for line in REQUESTS_PATH.read_text(encoding="utf-8").splitlines() if line]
    texts += ["How many officers were assaulted last year?", "Budget for overtime in 2023 by department."]
    rejected = [t for t in texts if not _prefilter().search(t.lower())]
    assert rejected, "the prefilter should skip some texts"
    for text in rejected:
        assert extract_entities(text, nlp=get_pipeline()) == (), text


@pytest.mark.parametrize(("text", "expected"), [
    # A cue's name ends with its line: the next line's capitalised words are not part of it.
    ("Is the software provided by Zephyr Analytics\nPlease State The Cost", ("Zephyr Analytics",)),
    ("Log No.995/24 CRU Circulation\nQuantix Solutions Ltd supplies the force", ("Quantix Solutions",)),
    # A gazetteer phrase broken over two lines is still one mention.
    ("the use of body\nworn video and Palantir\r\nTechnologies", ("Palantir",)),
])
def test_line_breaks_bound_names_but_not_phrases(text, expected):
    assert extract_suppliers(text) == expected


def test_entity_text_is_quoted_from_the_original_with_its_line_break():
    text = "trials of live facial\nrecognition by the force"
    (ent,) = extract_entities(text)
    assert ent.text == "live facial\nrecognition" == text[ent.start_char:ent.end_char]
    assert ent.name == "live facial recognition"


def test_gates_never_change_what_is_found(fixture_texts) -> None:
    """The regex gates (prefilter, organisation head words, cue pairs) only skip work, never results."""
    import json

    from classifiers.dataset import REQUESTS_PATH, SUPPLIERS_PATH

    texts = [json.loads(line)["text"] for path in (REQUESTS_PATH, SUPPLIERS_PATH)
             for line in path.read_text(encoding="utf-8").splitlines() if line]
    texts += fixture_texts
    texts += ["Services Provided By\nAcme Data Ltd", "the COMPANY Called Zeta Labs", "SOFTWARE BY Quantix Ltd."]
    for text in texts:
        assert extract_entities(text) == extract_entities(text, gates=False), text[:80]


@pytest.mark.parametrize(("text", "expected"), [
    ("How many computers still run Windows XP or Windows 7?", ("Microsoft",)),
    ("A list of all Hikvision and Dahua cameras the force operates", ("Hikvision", "Dahua")),
    ("the type of taser authorised (e.g. X26, X2, 7)", ("Axon",)),
    ("How many iPads and iPhones were stolen?", ("Apple",)),
])
def test_products_and_makers_added_to_the_gazetteer(text, expected):
    assert extract_suppliers(text) == expected


def test_covert_human_intelligence_sources_are_not_a_company():
    assert extract_suppliers("How many Covert Human Intelligence Sources were authorised?") == ()


def test_second_annotator_supplier_labels_match_the_request_set():
    """suppliers_real.jsonl quotes real requests exactly, with the requests' own split."""
    import json

    from classifiers.dataset import REQUESTS_PATH, SUPPLIERS_REAL_PATH, split_for

    requests = {d["id"]: d for d in map(json.loads, REQUESTS_PATH.read_text(encoding="utf-8").splitlines())}
    rows = [json.loads(line) for line in SUPPLIERS_REAL_PATH.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 90 and sum(1 for r in rows if r["suppliers"]) >= 10
    for r in rows:
        assert requests[r["id"]]["text"] == r["text"] and r["split"] == split_for(r["id"])
        assert r["provenance"].startswith("public FOI request")


@pytest.mark.parametrize(("text", "expected"), [
    # A lower-case word naming a kind of firm, then a capitalised name.
    ("drones sold by the Lusitanian company Brightwing were seen", ("Brightwing",)),
    ("has the force been approached by the US based company Zorvex?", ("Zorvex",)),
    # A cue may introduce a list: every name in it is taken, "and" separating the last two.
    ("all correspondence with the companies Quillon Group, Marrowby Labs and Tessaly",
     ("Quillon", "Marrowby Labs", "Tessaly")),  # "Group" is a corporate suffix, as "Ltd" is
    ("contracts with Palantir, Ferrowind and Osterbay for the map", ("Palantir", "Ferrowind", "Osterbay")),
])
def test_cue_words_and_lists_name_unknown_suppliers(text, expected):
    assert extract_suppliers(text) == expected


def test_a_capitalised_descriptor_before_a_cue_word_is_not_a_supplier():
    assert extract_suppliers("drones sold by Portuguese company Brightwing") == ("Brightwing",)


def test_a_known_supplier_followed_by_a_head_word_is_that_supplier():
    """'Microsoft Data Centres' is Microsoft, not a new organisation called 'Microsoft Data'."""
    assert extract_suppliers("data processed only in Microsoft Data Centres in the UK") == ("Microsoft",)


@pytest.mark.parametrize("text", [
    "Meta data: please supply the meta data associated with recordings",
    "how much do you spend on a) Computer Forensics, and b) Mobile Phone Forensics?",
])
def test_generic_phrases_are_not_suppliers(text):
    assert extract_suppliers(text) == ()


def test_platform_products_count_as_their_company():
    assert extract_suppliers("requests to Facebook, Instagram and WhatsApp for user data") == ("Meta Platforms",)


@pytest.mark.parametrize(("text", "expected"), [
    ("How many Zoom accounts and Ring doorbell requests?", ("Zoom", "Ring")),
    ("Please zoom in on the map; ring the station; a nice, slack process", ()),
    ("Footage obtained through the Ring Neighbours portal", ("Ring",)),
])
def test_a_name_given_only_as_an_exact_alias_keeps_its_case(text, expected):
    """"Zoom", "Ring", "NICE", "Slack" are firms in title case and ordinary words in lower case."""
    assert extract_suppliers(text) == expected


def test_an_llc_suffix_ends_a_pattern_caught_name():
    assert extract_suppliers('products from the supplier "Harbour Data Science LLC" since 2018') == (
        "Harbour Data Science",)


def test_a_pattern_never_starts_inside_a_hyphenated_word():
    text = "Framework for Electronic Security and Audio-Visual Systems: suppliers who applied"
    assert "Visual Systems" not in extract_suppliers(text)
    assert extract_suppliers("systems supplied by Acme Visual Systems Ltd") == ("Acme Visual Systems",)


def test_fresh_supplier_set_is_held_out_and_double_annotated():
    """The independent set: every text held out, two blind annotations each, final labels from the rules."""
    import json

    from classifiers.dataset import SUPPLIERS_FRESH_PATH, SUPPLIERS_REAL_PATH, read_records
    from classifiers.evaluate import evaluate_fresh_suppliers

    rows = [d for _, d in read_records(SUPPLIERS_FRESH_PATH, "text")]
    assert len(rows) >= 90 and sum(1 for r in rows if r["suppliers"]) >= 40
    known = {json.loads(x)["source"] for x in SUPPLIERS_REAL_PATH.read_text(encoding="utf-8").splitlines()}
    for r in rows:
        assert r["split"] == "test" and r["source"] not in known
        ann = r["annotations"]
        assert set(ann) >= {"first", "second", "how"}
        if ann["how"] == "agreed":
            assert {"suppliers": r["suppliers"], "technologies": r["technologies"]} == ann["first"]
    report = evaluate_fresh_suppliers()
    assert f"({len(rows)} texts" in report and "second vs first" in report and "precision" in report


def test_the_trie_prefilter_answers_as_a_plain_alternation_would():
    """The prefilter's trie must say "something starts here" exactly where the plain alternation does."""
    import random
    import re

    from classifiers.entities import _atoms, _trie_pattern

    phrases = ["data", "database", "axon", "axon taser", "ax", "h&k", "evidence.com", "o2", "cable & wireless"]
    plain = re.compile("(?<![a-z0-9])(?:" + "|".join(
        r"[\s\-]+".join(re.escape(p) for p in re.split(r"[\s\-]+", w)) for w in phrases) + ")")
    trie = re.compile("(?<![a-z0-9])" + _trie_pattern(
        [_atoms(r"[\s\-]+", *re.split(r"[\s\-]+", w)) for w in phrases]))
    rng = random.Random(0)
    alphabet = "adtbsexno2&h.c -kw"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert bool(trie.search(text)) == bool(plain.search(text)), text
    assert trie.search("the axon-taser unit") and not trie.search("maxon")
