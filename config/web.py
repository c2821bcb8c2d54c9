"""Typed, validated ``[web]`` settings for `cru serve` (stdlib only, like config/mail.py).

Validated once at start so that a web app holding OFFICIAL-SENSITIVE advice
never starts with a setting that silently weakens it: a trusted reverse-proxy
header with no trusted proxy address (anyone could then claim any identity),
an unparseable proxy address, or a cookie policy nobody intended. Every error
is a ``ValueError`` whose message starts with the key at fault, e.g.
``[web] trusted_proxies: ...``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from config.values import section_values

#: "auto": the session cookie is Secure when the request came over https (directly or from a trusted proxy).
COOKIE_MODES = ("auto", "always", "never")
_HEADER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


@dataclass(frozen=True)
class WebSettings:
    """The officers' web app: where it listens, how people sign in, how long a session lasts."""

    host: str = "127.0.0.1"
    port: int = 8080
    #: Secure flag of the session cookie: "auto" (when served over https), "always" or "never".
    secure_cookies: str = "auto"
    #: A signed-in session ends this many hours after sign-in.
    session_hours: int = 8
    #: Failed sign-ins allowed per user name and client address within login_window_seconds.
    login_max_attempts: int = 5
    login_window_seconds: int = 900
    #: Single sign-on: a header set by the reverse proxy naming the signed-in user ("" = local accounts only).
    trusted_user_header: str = ""
    #: Addresses or networks of the reverse proxies whose trusted_user_header is believed.
    trusted_proxies: tuple[str, ...] = ()
    #: Threads per search results page.
    page_size: int = 20
    #: Worker threads of the HTTP server.
    threads: int = 8


_KEYS: dict[str, type] = {"host": str, "port": int, "secure_cookies": str, "session_hours": int,
                          "login_max_attempts": int, "login_window_seconds": int, "trusted_user_header": str,
                          "trusted_proxies": list, "page_size": int, "threads": int}


def _check(s: WebSettings) -> WebSettings:
    if not s.host:
        raise ValueError("[web] host: must not be empty (e.g. \"127.0.0.1\")")
    if not 1 <= s.port <= 65535:
        raise ValueError(f"[web] port: must be 1-65535, got {s.port}")
    if s.secure_cookies not in COOKIE_MODES:
        raise ValueError(f"[web] secure_cookies: must be one of {', '.join(COOKIE_MODES)}, got {s.secure_cookies!r}")
    if not 1 <= s.session_hours <= 168:
        raise ValueError(f"[web] session_hours: must be 1-168, got {s.session_hours}")
    if s.login_max_attempts < 1:
        raise ValueError("[web] login_max_attempts: must be at least 1")
    if s.login_window_seconds < 1:
        raise ValueError("[web] login_window_seconds: must be at least 1")
    if not 1 <= s.page_size <= 200:
        raise ValueError(f"[web] page_size: must be 1-200, got {s.page_size}")
    if not 1 <= s.threads <= 64:
        raise ValueError(f"[web] threads: must be 1-64, got {s.threads}")
    for entry in s.trusted_proxies:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"[web] trusted_proxies: {entry!r} is not an IP address or network") from None
    if s.trusted_user_header:
        if not _HEADER.match(s.trusted_user_header):
            raise ValueError(f"[web] trusted_user_header: {s.trusted_user_header!r} is not an HTTP header name")
        if not s.trusted_proxies:
            raise ValueError("[web] trusted_proxies: required when trusted_user_header is set; otherwise any "
                             "client could send the header and sign in as anyone")
        if s.trusted_user_header.lower() in {"authorization", "cookie", "host", "x-forwarded-for"}:
            raise ValueError(f"[web] trusted_user_header: {s.trusted_user_header!r} cannot carry a user name")
    return s


def parse_web_section(data: dict[str, Any]) -> WebSettings:
    """Validate the ``[web]`` table of a parsed TOML document (other sections are ignored).

    ``data`` is the whole document, as for ``config.mail.parse_digest_sections``.
    Raises ValueError naming the key at fault.
    """
    return _check(WebSettings(**section_values(data, "web", _KEYS)))
