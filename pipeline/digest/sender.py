"""Build the MIME message and deliver it over SMTP (smtplib), with retries for temporary failures.

Temporary failures (4xx replies, dropped or refused connections, timeouts)
are retried with exponential backoff; permanent ones (5xx, authentication,
TLS certificate problems) fail at once with an error naming the recipient,
because retrying a 550 only delays the message the operator needs to see.
"""

from __future__ import annotations

import logging
import os
import shlex
import smtplib
import ssl
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from config.mail import SmtpSettings

log = logging.getLogger("cru.digest")


class SendError(RuntimeError):
    """A digest could not be delivered to one recipient; the message names them."""

    def __init__(self, recipient: str, message: str, *, permanent: bool) -> None:
        super().__init__(f"digest to {recipient}: {message}")
        self.recipient = recipient
        self.permanent = permanent


def compose(smtp: SmtpSettings, recipient: str, subject: str, text: str, html: str, *, week: str,
            now: datetime) -> EmailMessage:
    """multipart/alternative: plain text first, HTML second (clients show the last part they understand)."""
    msg = EmailMessage()
    msg["From"] = smtp.from_addr
    msg["To"] = recipient
    if smtp.reply_to:
        msg["Reply-To"] = smtp.reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    domain = parseaddr(smtp.from_addr)[1].rsplit("@", 1)[-1] or "cru.invalid"
    msg["Message-ID"] = make_msgid(idstring=f"cru-digest.{week}", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to the digest
    msg["X-Cru-Digest-Week"] = week
    msg.set_content(text, charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


class PasswordError(RuntimeError):
    """The configured password source gave nothing: a configuration problem, never retried."""


def password(smtp: SmtpSettings) -> str | None:
    """The SMTP password from the environment or a command, read at send time (never stored)."""
    if smtp.password_env:
        value = os.environ.get(smtp.password_env)
        if not value:
            raise PasswordError(f"[smtp] password_env: environment variable {smtp.password_env} is not set")
        return value
    if smtp.password_command:
        try:
            done = subprocess.run(shlex.split(smtp.password_command), capture_output=True, text=True, timeout=30,
                                  check=True)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            raise PasswordError(f"[smtp] password_command failed: {exc}") from None
        return done.stdout.rstrip("\r\n")
    return None


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=smtp.ca_file or None)
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.smtp_port, timeout=smtp.timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.smtp_port, timeout=smtp.timeout)
    try:
        client.ehlo()
        if smtp.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if smtp.username:
            client.login(smtp.username, password(smtp) or "")
    except BaseException:
        client.close()
        raise
    return client


def _classify(exc: BaseException) -> tuple[bool, str]:
    """(temporary?, description) for an exception raised while sending."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
                           for code, text in exc.recipients.values())
        return all(400 <= c < 500 for c in codes), f"recipient refused: {detail}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False, f"authentication failed: {exc.smtp_code} {exc.smtp_error!r}"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return 400 <= exc.smtp_code < 500, f"{exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return False, f"server does not support a required extension: {exc}"
    if isinstance(exc, ssl.SSLError):  # before OSError: a bad certificate does not heal by retrying
        return False, f"TLS failure: {exc}"
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return True, f"connection problem: {exc}"
    if isinstance(exc, smtplib.SMTPException):
        return False, str(exc)
    raise exc


def deliver(smtp: SmtpSettings, msg: EmailMessage, recipient: str, *,
            sleep: Callable[[float], None] = time.sleep) -> None:
    """Send one message to one recipient, retrying temporary failures; raise SendError otherwise."""
    envelope_from = parseaddr(smtp.from_addr)[1]
    delay = smtp.retry_initial_seconds
    for attempt in range(1, smtp.retry_attempts + 1):
        try:
            client = _connect(smtp)
            try:
                client.send_message(msg, from_addr=envelope_from, to_addrs=[recipient])
            finally:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()
            return
        except PasswordError as exc:
            raise SendError(recipient, str(exc), permanent=True) from None
        except Exception as exc:
            temporary, what = _classify(exc)
            if not temporary:
                raise SendError(recipient, f"permanent failure from {smtp.host}: {what}", permanent=True) from exc
            if attempt == smtp.retry_attempts:
                raise SendError(recipient, f"temporary failure from {smtp.host} persisted after {attempt} attempts: "
                                           f"{what}", permanent=False) from exc
            log.warning("digest to %s: %s; retrying in %.1fs (attempt %d of %d)", recipient, what, delay, attempt,
                        smtp.retry_attempts)
            sleep(delay)
            delay = min(delay * 2, smtp.retry_max_seconds)
