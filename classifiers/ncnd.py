"""The "supplier/technology NCND" label: a supplier or technology request met with NCND advice.

This is the pattern of the seeds (995/24, 157/25: "do you use Palantir?" met
with full or partial NCND under s24(2)/s31(3)); officers browse by it to keep
answers consistent. Stances come from parsers/cru/stance.py.
"""

from __future__ import annotations

from collections.abc import Iterable

SUPPLIER_TOPIC = "supplier_technology"
NCND_STANCES = frozenset({"full_ncnd", "partial_ncnd"})
LABEL = "supplier_technology_ncnd"


def supplier_ncnd(topics: Iterable[str], suppliers: Iterable[str], stance: str | None,
                  conditional_with_ncnd: bool = False) -> bool:
    """True when the request is about a supplier/technology and the advice is (or may be) NCND.

    topics: the circulation's topics (any position, not only the primary);
    suppliers: canonical supplier/technology names found in the request;
    stance: full_ncnd | partial_ncnd | confirm_and_exempt | disclose | conditional | None;
    conditional_with_ncnd: for stance "conditional", whether one branch of the advice is NCND
    (995/24: "if your force has not formally acknowledged use ... a full NCND is required").
    """
    about_supplier = SUPPLIER_TOPIC in set(topics) or any(True for _ in suppliers)
    if not about_supplier or stance is None:
        return False
    if stance in NCND_STANCES:
        return True
    return stance == "conditional" and conditional_with_ncnd
