"""The editable config files: they load, and mistakes in them give errors that name the problem."""

from __future__ import annotations

import pytest

from classifiers.gazetteer import GazetteerError, load_gazetteer
from classifiers.taxonomy import TaxonomyError, load_taxonomy

REQUIRED = {"supplier_technology", "covert_surveillance", "counter_terrorism", "firearms_weapons",
            "finance_contracts", "workforce_hr", "crime_statistics", "information_systems", "vehicles_equipment",
            "public_order", "custody_detention", "other"}


def test_default_taxonomy_has_the_issue_topics():
    tax = load_taxonomy()
    assert set(tax.ids) >= REQUIRED
    assert tax.fallback == "other"
    assert all(t.label and t.description for t in tax.topics)


@pytest.mark.parametrize(("body", "message"), [
    ('fallback = "other"\n[[topic]]\nid = "Bad Id"\nlabel = "x"\ndescription = "y"\n', "lower_snake_case"),
    ('fallback = "other"\n[[topic]]\nid = "other"\nlabel = "x"\n', "'description' is required"),
    ('fallback = "nope"\n[[topic]]\nid = "other"\nlabel = "x"\ndescription = "y"\n', "fallback topic 'nope'"),
    ('[[topic]]\nid = "other"\nlabel = "x"\ndescription = "y"\ncolour = "red"\n', "unknown key(s): colour"),
    ('[[topic]]\nid = "other"\nlabel = "x"\ndescription = "y"\n[[topic]]\nid = "other"\nlabel = "x"\n'
     'description = "y"\n', "duplicate id"),
    ("this is not toml =", "not valid TOML"),
])
def test_taxonomy_errors_name_the_problem(tmp_path, body, message):
    p = tmp_path / "taxonomy.toml"
    p.write_text(body)
    with pytest.raises(TaxonomyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_taxonomy(p)


def test_missing_taxonomy_file(tmp_path):
    with pytest.raises(TaxonomyError, match="cannot read"):
        load_taxonomy(tmp_path / "absent.toml")


def test_gazetteer_lookup_normalises_aliases():
    gaz = load_gazetteer()
    assert gaz.lookup("Palantir Technologies UK Ltd").name == "Palantir"
    assert gaz.lookup("palantir technologies uk limited").name == "Palantir"
    assert gaz.lookup("GrayKey").canonical_supplier == "Magnet Forensics"
    assert gaz.lookup("Northgate").name == "NEC"
    assert gaz.lookup("facial recognition").kind == "technology"
    assert gaz.is_stopped("Freedom of Information Act")
    assert gaz.is_stopped("West Midlands Police")


def test_gazetteer_rejects_alias_given_twice(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text('[[supplier]]\nname = "A"\naliases = ["X"]\n[[supplier]]\nname = "B"\naliases = ["x"]\n')
    with pytest.raises(GazetteerError, match="alias 'x' is given to both 'A' and 'B'"):
        load_gazetteer(p)


def test_gazetteer_product_needs_known_supplier(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text('[[product]]\nname = "P"\nsupplier = "Nobody"\naliases = ["P"]\n')
    with pytest.raises(GazetteerError, match="unknown supplier 'Nobody'"):
        load_gazetteer(p)
