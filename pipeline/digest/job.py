"""The weekly digest as an APScheduler job for `cru run`.

The job calls the same ``send_due_digests`` as `cru digest --send`. Because
that function sends every due week not yet in the ledger, the job can run at
worker start (catching up a Monday the worker missed) and on its cron without
ever sending a week twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config.mail import DigestSettings, SmtpSettings
from pipeline.digest.dispatch import SendResult, send_due_digests
from pipeline.store import Store

log = logging.getLogger("cru.digest")


def cron_trigger_kwargs(digest: DigestSettings) -> dict[str, Any]:
    """Keyword arguments for ``scheduler.add_job(..., "cron", **kwargs)``: day, time and zone from [digest]."""
    hour, minute = digest.time.split(":")
    return {"day_of_week": digest.day, "hour": int(hour), "minute": int(minute), "timezone": digest.timezone}


def digest_job(db_path: str | Path, smtp: SmtpSettings, digest: DigestSettings,
               now: Callable[[], datetime] | None = None) -> list[SendResult]:
    """One digest pass; never raises (an exception in a job would only be logged by APScheduler)."""
    if not digest.recipients:
        return []
    try:
        with Store(db_path) as store:
            results = send_due_digests(store, smtp, digest, (now or (lambda: datetime.now(UTC)))())
    except Exception:
        log.exception("digest job failed")
        return []
    failed = [r for r in results if r.status == "failed"]
    if results:
        log.info("digest job: %d sent, %d failed", len(results) - len(failed), len(failed))
    return results


def schedule_digest(scheduler: Any, db_path: str | Path, smtp: SmtpSettings, digest: DigestSettings,
                    first_run_delay_seconds: float = 120.0) -> None:
    """Add the weekly cron job, plus one catch-up run shortly after start.

    The delay lets the first poll fetch the end of last week's mail before a
    missed week's digest goes out.
    """
    if not digest.recipients:
        return
    scheduler.add_job(digest_job, "cron", args=[db_path, smtp, digest], id="digest", name="weekly digest",
                      misfire_grace_time=6 * 3600, **cron_trigger_kwargs(digest))
    scheduler.add_job(digest_job, "date", args=[db_path, smtp, digest], id="digest-catch-up",
                      name="digest catch-up", run_date=datetime.now(UTC) + timedelta(seconds=first_run_delay_seconds))
