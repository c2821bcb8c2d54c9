"""config/web.py: the [web] section is validated at start and every error names its key."""

from __future__ import annotations

import pytest

from config.web import WebSettings, parse_web_section


def test_defaults() -> None:
    assert parse_web_section({}) == WebSettings()
    assert WebSettings().host == "127.0.0.1" and WebSettings().port == 8080


def test_values_and_environment_strings() -> None:
    s = parse_web_section({"web": {"port": "9000", "trusted_user_header": "X-Remote-User",
                                   "trusted_proxies": "10.0.0.1, 192.168.0.0/24", "secure_cookies": "always"}})
    assert s.port == 9000 and s.trusted_proxies == ("10.0.0.1", "192.168.0.0/24") and s.secure_cookies == "always"


@pytest.mark.parametrize(("section", "key"), [
    ({"colour": "red"}, "[web] colour"),
    ({"port": 70000}, "[web] port"),
    ({"port": "eighty"}, "[web] port"),
    ({"secure_cookies": "sometimes"}, "[web] secure_cookies"),
    ({"trusted_user_header": "X-Remote-User"}, "[web] trusted_proxies"),
    ({"trusted_user_header": "X Remote", "trusted_proxies": ["10.0.0.1"]}, "[web] trusted_user_header"),
    ({"trusted_proxies": ["not-an-ip"]}, "[web] trusted_proxies"),
    ({"session_hours": 0}, "[web] session_hours"),
    ({"page_size": 1000}, "[web] page_size"),
    ({"host": ""}, "[web] host"),
    ({"host": 5}, "[web] host"),
])
def test_bad_values_name_the_key(section: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key.replace("[", r"\[").replace("]", r"\]")):
        parse_web_section({"web": section})


def test_section_must_be_a_table() -> None:
    with pytest.raises(ValueError, match=r"\[web\]"):
        parse_web_section({"web": "yes"})
