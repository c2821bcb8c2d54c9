"""`cru digest`: preview, write, send and list weekly digests.

A thin face over the library. It expects the `cru` group's context object
(``ctx.obj``) to offer ``.store()`` (a pipeline.store.Store) and ``.config``
with ``.smtp`` (SmtpSettings) and ``.digest`` (DigestSettings).

Without ``--send`` nothing leaves the machine. A preview shows the view of
``--as ADDRESS``, by default the most restricted configured recipient, so a
preview pasted somewhere never shows more than every recipient may see.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from config.mail import DigestSettings, SmtpSettings, address_of
from pipeline.digest.builder import build_digest
from pipeline.digest.dispatch import send_due_digests, send_week
from pipeline.digest.ledger import Ledger
from pipeline.digest.render import render_html, render_text
from pipeline.digest.views import most_restricted_recipient, view_for
from pipeline.digest.weeks import last_complete_week, parse_week

#: Previews with no recipient configured and no --as show the view of someone outside every allowlist.
PREVIEW_ADDRESS = "preview@example.invalid"


def _fail(message: str) -> NoReturn:
    """One line on stderr, exit 2: the `cru` convention for errors the user can fix."""
    click.echo(f"cru: error: {' '.join(message.split())}", err=True)
    sys.exit(2)


def _settings(obj: Any) -> tuple[SmtpSettings, DigestSettings]:
    config = obj.config
    digest = getattr(config, "digest", None)
    smtp = getattr(config, "smtp", None)
    if digest is None:
        _fail("the digest is not configured: add a [digest] section (and [smtp] to send)")
    return smtp or SmtpSettings(), digest


@click.command("digest")
@click.option("--week", "week_text", metavar="YYYY-Www", help="ISO week, e.g. 2024-W50 (default: last complete week).")
@click.option("--preview", is_flag=True, help="Print the plain-text digest to stdout (the default action).")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True), help="Write the HTML part here.")
@click.option("--as", "as_address", metavar="ADDRESS",
              help="Whose view to show, or the one recipient to --send to (default: most restricted recipient).")
@click.option("--send", is_flag=True, help="Send now: the given --week, or every due week not yet sent.")
@click.option("--resend", is_flag=True, help="With --send --week: send again to recipients who already have it.")
@click.option("--list", "list_ledger", is_flag=True, help="Show the ledger of digests sent.")
@click.option("--json", "as_json", is_flag=True, help="With --list or --send: JSON output.")
@click.pass_obj
def digest(obj: Any, week_text: str | None, preview: bool, html_file: str | None, as_address: str | None,
           send: bool, resend: bool, list_ledger: bool, as_json: bool) -> None:
    """Weekly digest: preview it, write its HTML, send it, or list what was sent."""
    smtp, settings = _settings(obj)
    now = datetime.now(UTC)
    if resend and not (send and week_text):
        _fail("--resend needs --send and --week")
    try:
        week = parse_week(week_text) if week_text else None
        address = address_of(as_address, "--as") if as_address else None
    except ValueError as exc:
        _fail(str(exc))
    with obj.store() as store:
        if list_ledger:
            _list(Ledger(store), week.key if week else None, as_json)
            return
        if send:
            if not smtp.configured:
                _fail("[smtp] host is not configured: cannot send")
            if address and address not in settings.recipients:
                _fail(f"--as {address}: not one of [digest] recipients")
            recipients = (address,) if address else None
            if week is None:
                results = send_due_digests(store, smtp, settings, now, only=recipients)
            else:
                results = send_week(store, smtp, settings, week, now, recipients=recipients, resend=resend)
                if results and all(r.status == "skipped" for r in results):
                    _fail(f"digest {week.key} was already sent to {', '.join(r.recipient for r in results)}: "
                          "use --resend to send it again")
            _report(results, as_json)
            if any(r.status == "failed" for r in results):
                sys.exit(1)
            return
        week = week or last_complete_week(now, settings.tz)
        recipient = address or most_restricted_recipient(settings) or PREVIEW_ADDRESS
        view = view_for(build_digest(store, week, settings), recipient, settings)
        if html_file:
            Path(html_file).write_text(render_html(view), encoding="utf-8")
        if preview or not html_file:
            click.echo(render_text(view), nl=False)


def _list(ledger: Ledger, week: str | None, as_json: bool) -> None:
    rows = ledger.rows(week)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    if not rows:
        click.echo("no digests sent yet")
        return
    for r in rows:
        when = r.sent_at or f"claimed {r.claimed_at}"
        line = f"{r.week}  {r.status:<8} {r.recipient:<40} {r.view:<9} {when}  {r.marking or ''}  {r.message_id or ''}"
        click.echo(line.rstrip())
        if r.error:
            click.echo(f"          error: {r.error}")


def _report(results: list, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([asdict(r) for r in results], indent=2))
        return
    if not results:
        click.echo("nothing to send: every due week has been sent")
    for r in results:
        detail = r.message_id if r.status == "sent" else r.error
        click.echo(f"{r.week}  {r.status:<7} {r.recipient} ({r.view} view)  {detail or ''}".rstrip())
