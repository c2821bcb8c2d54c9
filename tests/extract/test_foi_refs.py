"""Force and NPCC FOI reference numbers."""

from __future__ import annotations

import pytest

from parsers.cru.foi_refs import extract_foi_refs


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("Freedom of information request reference no: 01.FOI.22.027525", ("01.FOI.22.027525",)),
        ("Our ref 01.FOI.22.027525 and 01.FOI.22.027525 again", ("01.FOI.22.027525",)),
        ("North Yorkshire FOI 0720-2024/25 response", ("FOI 0720-2024/25",)),
        ("South Wales FOI24725.", ("FOI24725",)),
        ("FOI-12345 and FOI/2023/00123", ("FOI-12345", "FOI/2023/00123")),
        ("NPCC reference 2300/2025", ("2300/2025",)),
        ("Our Ref: 2300/2025.", ("2300/2025",)),
        ("FOI ref. 2300/2025", ("2300/2025",)),
        ("Request ref ABC-2024-0042 received", ("ABC-2024-0042",)),
        ("FOI 0720-2024/25 then FOI24725 then 01.FOI.22.027525", ("FOI 0720-2024/25", "FOI24725", "01.FOI.22.027525")),
        # not references
        ("2300/2025 with no cue", ()),
        ("CRU ref 1750/22", ()),
        ("Log No.995/24 reference 995/24", ()),
        ("Ref: 12/11/2024", ()),
        ("reference 2021", ()),
        ("under the FOI Act 2000", ()),
        ("FOI 2000", ()),
        ("FOI 995/24", ()),
        ("with reference to the MPS", ()),
        ("ref 20/20", ()),
        ("Ref: ABC12", ()),
        ("", ()),
    ],
)
def test_extract_foi_refs(text: str, refs: tuple[str, ...]) -> None:
    assert extract_foi_refs(text) == refs


def test_seed_000(seed000: str) -> None:
    assert extract_foi_refs(seed000) == ("01.FOI.22.027525",)


def test_seed_001_has_no_foi_refs(seed001) -> None:
    for email in seed001:
        assert extract_foi_refs(email.subject + "\n" + email.body) == ()
