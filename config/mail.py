"""Typed, validated ``[smtp]`` and ``[digest]`` settings.

Validated once at start (``parse_digest_sections``) so that an unattended
worker never discovers at 07:00 on a Monday that its mail settings are wrong,
or, worse, that they would send POLICE EYES ONLY items to the wrong people.
Every error is a ``ValueError`` whose message starts with the key at fault,
e.g. ``[digest] recipients: ...``.

What "a recipient list that would leak restricted content" means here
---------------------------------------------------------------------
Caveated items go only to recipients whose domain is on ``caveat_domains``;
everyone else gets a view that withholds them, so a recipient outside the
allowlist cannot by itself cause a leak. The leaks that configuration CAN
cause, and which are therefore refused at start, are:

* an allowlist entry that is too wide: a bare top-level domain (``uk``), a
  public registration suffix (``co.uk``, ``gov.uk``) or a consumer webmail
  domain (``gmail.com``), because anyone can hold an address there;
* an address that cannot be matched reliably against the allowlist (no or
  several ``@``, a display name that hides a different address, an empty domain);
* an address listed in ``unrestricted`` (the operator's assertion "these
  people must get the full digest") whose domain is not on the allowlist, or
  which is not a configured recipient: the operator expects them to see
  caveated items, and the only way to do that would be to leak.

An empty ``caveat_domains`` is valid: every recipient then gets the withheld view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.values import section_values

SECURITY_MODES = ("tls", "starttls", "none")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Suffixes under which anyone can register or obtain an address: never an allowlist entry.
OPEN_SUFFIXES = frozenset({
    "co.uk", "org.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "ac.uk", "gov.uk", "sch.uk", "nhs.uk", "nhs.net",
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com", "live.co.uk",
    "msn.com", "yahoo.com", "yahoo.co.uk", "icloud.com", "me.com", "aol.com", "protonmail.com", "proton.me",
    "gmx.com", "mail.com",
})
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class SmtpSettings:
    """How the digest is sent. Secrets never live here, only where to get them."""

    host: str = ""
    port: int = 0  # 0: 465 for "tls", 587 for "starttls", 25 for "none"
    security: str = "starttls"
    username: str = ""
    password_env: str = ""
    password_command: str = ""
    from_addr: str = ""  # the TOML key is "from"
    reply_to: str = ""
    timeout: float = 30.0
    ca_file: str = ""
    #: Attempts per message for temporary failures (4xx, connection errors); 1 = no retry.
    retry_attempts: int = 4
    retry_initial_seconds: float = 2.0
    retry_max_seconds: float = 60.0

    @property
    def smtp_port(self) -> int:
        return self.port or {"tls": 465, "starttls": 587}.get(self.security, 25)

    @property
    def configured(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class DigestSettings:
    """Who gets the weekly digest, when, and which domains may see caveated items."""

    recipients: tuple[str, ...] = ()
    caveat_domains: tuple[str, ...] = ()
    #: Recipients who must receive the full (caveated) view; each must be on caveat_domains.
    unrestricted: tuple[str, ...] = ()
    day: str = "mon"
    time: str = "07:00"
    timezone: str = "Europe/London"
    base_url: str = ""
    #: Flag a request awaiting advice from this many working days on ...
    working_day_warning: int = 15
    #: ... and as overdue beyond this (FOIA s10(1): the 20th working day after receipt).
    working_day_limit: int = 20
    #: Requests awaiting advice longer than this are counted, not listed (circulations that never get advice).
    awaiting_max_age: int = 60
    #: First ISO week the digest covers ("2024-W46"); default: the week the store first ingested mail.
    start_week: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def send_time(self) -> time:
        hour, minute = self.time.split(":")
        return time(int(hour), int(minute))


_SMTP_KEYS = {"host": str, "port": int, "security": str, "username": str, "password_env": str,
              "password_command": str, "from": str, "reply_to": str, "timeout": float, "ca_file": str,
              "retry_attempts": int, "retry_initial_seconds": float, "retry_max_seconds": float}
_DIGEST_KEYS = {"recipients": list, "caveat_domains": list, "unrestricted": list, "day": str, "time": str,
                "timezone": str, "base_url": str, "working_day_warning": int, "working_day_limit": int,
                "awaiting_max_age": int, "start_week": str}


def address_of(entry: str, key: str) -> str:
    """The bare lower-case address of a recipient entry, refusing anything ambiguous.

    ``"FOI Team <foi@x.police.uk>"`` is fine; ``"police.uk <a@gmail.com>, b@x"``
    or an address without a domain is refused, because the allowlist check must
    see exactly the address mail will go to.
    """
    parsed = getaddresses([entry])
    name, addr = parseaddr(entry)
    if len(parsed) != 1 or not addr or addr.count("@") != 1 or parsed[0][1] != addr:
        raise ValueError(f"{key}: {entry!r} is not a single email address")
    local, domain = addr.rsplit("@", 1)
    domain = domain.lower().rstrip(".")
    if not local or not _DOMAIN.match(domain):
        raise ValueError(f"{key}: {entry!r} has no valid domain")
    if "@" in name or "<" in name:
        raise ValueError(f"{key}: {entry!r} has a display name that looks like another address")
    return f"{local}@{domain}"


def domain_allowed(address: str, domains: tuple[str, ...] | list[str]) -> bool:
    """True when the address's domain is a listed domain or one of its subdomains.

    ``x@force.police.uk`` matches ``police.uk``; ``x@notpolice.uk`` and
    ``x@police.uk.evil.com`` do not.
    """
    domain = address.rsplit("@", 1)[-1].strip().lower().rstrip(".>")
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _check_domain(entry: str) -> str:
    d = entry.strip().lower().rstrip(".")
    key = "[digest] caveat_domains"
    if "@" in d or "*" in d or d.startswith("."):
        raise ValueError(f"{key}: {entry!r} must be a plain domain such as police.uk (subdomains match)")
    if not _DOMAIN.match(d):
        raise ValueError(f"{key}: {entry!r} is not a domain name")
    if "." not in d:
        raise ValueError(f"{key}: {entry!r} is a top-level domain: caveated items would go to any .{d} address")
    if d in OPEN_SUFFIXES:
        raise ValueError(f"{key}: {entry!r} is open to the public (anyone can hold an address there): "
                         "caveated items would leak")
    return d


def _check_smtp(raw: dict[str, Any], needed: bool) -> SmtpSettings:
    raw = dict(raw)
    if "from" in raw:
        raw["from_addr"] = raw.pop("from")
    s = SmtpSettings(**raw)
    if not needed and not s.host:
        return s
    if not s.host:
        raise ValueError("[smtp] host: required when [digest] recipients are configured")
    if s.security not in SECURITY_MODES:
        raise ValueError(f"[smtp] security: must be one of {', '.join(SECURITY_MODES)}, got {s.security!r}")
    if s.security == "none" and s.host not in LOCAL_HOSTS:
        raise ValueError(f"[smtp] security: \"none\" is only allowed for 127.0.0.1/localhost (host is {s.host!r}); "
                         "use \"tls\" or \"starttls\"")
    if s.port > 65535:
        raise ValueError(f"[smtp] port: must be 1-65535, got {s.port}")
    if s.password_env and s.password_command:
        raise ValueError("[smtp] password_env: set either password_env or password_command, not both")
    if (s.password_env or s.password_command) and not s.username:
        raise ValueError("[smtp] username: required when a password source is configured")
    if s.username and not (s.password_env or s.password_command):
        raise ValueError("[smtp] password_env: a username needs password_env or password_command")
    if not s.from_addr:
        raise ValueError("[smtp] from: required (e.g. \"CRU digest <cru-digest@example.police.uk>\")")
    address_of(s.from_addr, "[smtp] from")
    if s.reply_to:
        address_of(s.reply_to, "[smtp] reply_to")
    if s.ca_file and not Path(s.ca_file).expanduser().is_file():
        raise ValueError(f"[smtp] ca_file: not found: {s.ca_file}")
    if s.timeout <= 0:
        raise ValueError("[smtp] timeout: must be positive")
    if s.retry_attempts < 1:
        raise ValueError("[smtp] retry_attempts: must be at least 1")
    return s


def _check_digest(raw: dict[str, Any]) -> DigestSettings:
    d = DigestSettings(**raw)
    recipients = tuple(address_of(r, "[digest] recipients") for r in d.recipients)
    if len({r.lower() for r in recipients}) != len(recipients):
        raise ValueError("[digest] recipients: an address is listed twice")
    domains = tuple(_check_domain(x) for x in d.caveat_domains)
    unrestricted = tuple(address_of(r, "[digest] unrestricted") for r in d.unrestricted)
    for addr in unrestricted:
        if addr not in recipients:
            raise ValueError(f"[digest] unrestricted: {addr} is not one of [digest] recipients")
        if not domain_allowed(addr, domains):
            raise ValueError(f"[digest] unrestricted: {addr} must receive the full digest, but its domain is not "
                             f"in caveat_domains ({', '.join(domains) or 'empty'}): it would receive caveated items "
                             "it may not see; add its domain to caveat_domains or remove it from unrestricted")
    if d.day.lower() not in DAYS:
        raise ValueError(f"[digest] day: must be one of {', '.join(DAYS)}, got {d.day!r}")
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", d.time):
        raise ValueError(f"[digest] time: must be HH:MM (24-hour), got {d.time!r}")
    try:
        ZoneInfo(d.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"[digest] timezone: unknown time zone {d.timezone!r}") from None
    if d.base_url and not re.match(r"https?://[^/\s]+", d.base_url):
        raise ValueError(f"[digest] base_url: must start with https:// (got {d.base_url!r})")
    if not 1 <= d.working_day_limit <= 60:
        raise ValueError(f"[digest] working_day_limit: must be 1-60, got {d.working_day_limit}")
    if not 1 <= d.working_day_warning <= d.working_day_limit:
        raise ValueError(f"[digest] working_day_warning: must be 1-{d.working_day_limit}, got {d.working_day_warning}")
    if d.start_week:
        from pipeline.digest.weeks import parse_week  # weeks imports this module: import late

        try:
            parse_week(d.start_week)
        except ValueError as exc:
            raise ValueError(f"[digest] start_week: {exc}") from None
    return DigestSettings(
        recipients=recipients, caveat_domains=domains, unrestricted=unrestricted, day=d.day.lower(), time=d.time,
        timezone=d.timezone, base_url=d.base_url.rstrip("/"), working_day_warning=d.working_day_warning,
        working_day_limit=d.working_day_limit, awaiting_max_age=d.awaiting_max_age, start_week=d.start_week,
    )


def parse_digest_sections(data: dict[str, Any]) -> tuple[SmtpSettings, DigestSettings]:
    """Validate the ``[smtp]`` and ``[digest]`` tables of a parsed TOML document.

    Other sections are ignored (the main loader owns them). Raises ValueError
    naming the key at fault.
    """
    digest = _check_digest(section_values(data, "digest", _DIGEST_KEYS))
    smtp = _check_smtp(section_values(data, "smtp", _SMTP_KEYS), needed=bool(digest.recipients))
    return smtp, digest
