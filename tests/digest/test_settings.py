"""[smtp]/[digest] validation: every error names its key; allowlists that would leak are refused."""

from __future__ import annotations

import pytest

from config.mail import DigestSettings, SmtpSettings, domain_allowed, parse_digest_sections

SMTP = {"host": "smtp.example.police.uk", "port": 587, "security": "starttls", "username": "cru-digest",
        "password_env": "CRU_SMTP_PASSWORD", "from": "CRU digest <cru-digest@example.police.uk>"}
DIGEST = {"recipients": ["foi-team@example.police.uk", "Analyst <analyst@partner.example.org>"],
          "caveat_domains": ["police.uk"], "day": "mon", "time": "07:00", "timezone": "Europe/London",
          "base_url": "https://cru.example.police.uk/"}


def parse(smtp: dict | None = None, digest: dict | None = None) -> tuple[SmtpSettings, DigestSettings]:
    return parse_digest_sections({"smtp": {**SMTP, **(smtp or {})}, "digest": {**DIGEST, **(digest or {})},
                                  "store": {"path": "ignored"}})


def test_issue_contract_parses() -> None:
    smtp, digest = parse()
    assert smtp.host == "smtp.example.police.uk" and smtp.smtp_port == 587 and smtp.from_addr.startswith("CRU")
    assert digest.recipients == ("foi-team@example.police.uk", "analyst@partner.example.org")
    assert digest.caveat_domains == ("police.uk",)
    assert digest.base_url == "https://cru.example.police.uk"
    assert digest.working_day_warning == 15 and digest.working_day_limit == 20


def test_no_digest_section_needs_no_smtp() -> None:
    smtp, digest = parse_digest_sections({})
    assert not smtp.configured and digest.recipients == ()


def test_environment_strings_are_coerced() -> None:
    smtp, digest = parse({"port": "2525", "timeout": "12.5"}, {"recipients": "a@x.police.uk, b@y.police.uk"})
    assert smtp.port == 2525 and smtp.timeout == 12.5
    assert digest.recipients == ("a@x.police.uk", "b@y.police.uk")


@pytest.mark.parametrize(("smtp", "digest", "key"), [
    ({}, {"recipients": ["not an address"]}, "[digest] recipients"),
    ({}, {"recipients": ["a@x.police.uk, b@gmail.com"]}, "[digest] recipients"),
    ({}, {"recipients": ["a@x.police.uk", "A@X.police.uk"]}, "[digest] recipients"),
    ({}, {"caveat_domains": ["uk"]}, "[digest] caveat_domains"),
    ({}, {"caveat_domains": ["gmail.com"]}, "[digest] caveat_domains"),
    ({}, {"caveat_domains": ["co.uk"]}, "[digest] caveat_domains"),
    ({}, {"caveat_domains": ["*.police.uk"]}, "[digest] caveat_domains"),
    ({}, {"caveat_domains": ["someone@police.uk"]}, "[digest] caveat_domains"),
    ({}, {"unrestricted": ["analyst@partner.example.org"]}, "[digest] unrestricted"),
    ({}, {"unrestricted": ["stranger@force.police.uk"]}, "[digest] unrestricted"),
    ({}, {"day": "monday"}, "[digest] day"),
    ({}, {"time": "7am"}, "[digest] time"),
    ({}, {"timezone": "Europe/Londres"}, "[digest] timezone"),
    ({}, {"base_url": "cru.example"}, "[digest] base_url"),
    ({}, {"working_day_warning": 25}, "[digest] working_day_warning"),
    ({}, {"start_week": "2024-W60"}, "[digest] start_week"),
    ({}, {"recipientz": []}, "[digest] recipientz"),
    ({"security": "none"}, {}, "[smtp] security"),
    ({"security": "ssl"}, {}, "[smtp] security"),
    ({"host": ""}, {}, "[smtp] host"),
    ({"port": 70000}, {}, "[smtp] port"),
    ({"port": "abc"}, {}, "[smtp] port"),
    ({"from": ""}, {}, "[smtp] from"),
    ({"password_command": "pass show cru"}, {}, "[smtp] password_env"),
    ({"ca_file": "/nonexistent/ca.pem"}, {}, "[smtp] ca_file"),
    ({"hots": "x"}, {}, "[smtp] hots"),
])
def test_errors_name_the_key(smtp: dict, digest: dict, key: str) -> None:
    with pytest.raises(ValueError) as exc:
        parse(smtp, digest)
    assert str(exc.value).startswith(key), str(exc.value)


def test_security_none_is_fine_on_loopback() -> None:
    smtp, _ = parse({"host": "127.0.0.1", "port": 0, "security": "none", "username": "", "password_env": ""})
    assert smtp.smtp_port == 25


def test_unrestricted_inside_the_allowlist_is_fine() -> None:
    _, digest = parse(digest={"unrestricted": ["foi-team@example.police.uk"]})
    assert digest.unrestricted == ("foi-team@example.police.uk",)


def test_empty_allowlist_is_valid() -> None:
    """Nobody may see caveated items: everyone gets the withheld view. Not a leak."""
    _, digest = parse(digest={"caveat_domains": []})
    assert digest.caveat_domains == ()


@pytest.mark.parametrize(("address", "allowed"), [
    ("a@police.uk", True),
    ("a@force.police.uk", True),
    ("a@deep.force.police.uk", True),
    ("a@FORCE.Police.UK", True),
    ("a@notpolice.uk", False),
    ("a@police.uk.evil.com", False),
    ("a@police.ukk", False),
    ("a@gmail.com", False),
])
def test_domain_matching(address: str, allowed: bool) -> None:
    assert domain_allowed(address, ("police.uk",)) is allowed
