"""Subject normalisation used for threading."""

from __future__ import annotations

import pytest

from pipeline.extract import normalise_subject


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("RE: FW: Log No.995/24 CRU Circulation", "log no.995/24 cru circulation"),
        ("Update to - RE: Log No.995/24 CRU Circulation", "log no.995/24 cru circulation"),
        ("AW: WG: SV: Antw: Fwd: Re[2]: hello", "hello"),
        ("[EXTERNAL] RE: hello", "hello"),
        ("Recent crime figures", "recent crime figures"),
        ("", ""),
    ],
)
def test_normalise_subject(subject: str, expected: str) -> None:
    assert normalise_subject(subject) == expected
