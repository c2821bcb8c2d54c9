"""Response hardening and CSRF: the parts of safety that apply to every request, whatever the page.

Why a strict CSP with no inline script: mail bodies are attacker-controlled text. They are
escaped by the templates; the CSP is the second wall should any escaping ever be missed.
Why no-referrer and no-store: search URLs carry queries about sensitive requests, and pages
carry OFFICIAL-SENSITIVE text that must not linger in shared caches or other sites' logs.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Response, session

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: Downloads are never rendered in the app's origin, even if a browser ignores Content-Disposition.
DOWNLOAD_CSP = "default-src 'none'; sandbox"

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def harden(response: Response, *, static: bool = False) -> Response:
    """Add the security headers; private pages and API answers are never cached."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not static:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def csrf_token() -> str:
    """This session's CSRF token (created on first use), for hidden form fields."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(sent: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and sent and hmac.compare_digest(str(expected), str(sent)))


def safe_next(target: str | None) -> str:
    """Only same-site paths after sign-in: no open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/search"
    return target
