"""The worker's digest job: cron from [digest], a pass that never raises, catch-up at start."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from config.mail import DigestSettings, SmtpSettings
from pipeline.digest.job import cron_trigger_kwargs, digest_job, schedule_digest
from tests.digest.conftest import FROM, free_port

LONDON = ZoneInfo("Europe/London")


def test_cron_trigger_fires_monday_seven_london() -> None:
    trigger = CronTrigger(**cron_trigger_kwargs(DigestSettings()))
    fire = trigger.get_next_fire_time(None, datetime(2024, 12, 11, 12, 0, tzinfo=LONDON))
    assert fire == datetime(2024, 12, 16, 7, 0, tzinfo=LONDON)
    summer = trigger.get_next_fire_time(None, datetime(2025, 6, 4, tzinfo=LONDON))
    assert summer.astimezone(LONDON).hour == 7 and summer.utcoffset().total_seconds() == 3600


def test_job_sends_then_does_nothing(db_path, smtp_settings, digest_settings, smtp_server) -> None:
    handler, _ = smtp_server
    now = datetime(2024, 11, 18, 8, 0, tzinfo=LONDON)
    assert len(digest_job(db_path, smtp_settings, digest_settings, now=lambda: now)) == 2
    assert digest_job(db_path, smtp_settings, digest_settings, now=lambda: now) == []
    assert len(handler.messages) == 2


def test_job_never_raises(db_path, digest_settings, caplog) -> None:
    dead = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", from_addr=FROM, timeout=2,
                        retry_attempts=1)
    now = datetime(2024, 11, 18, 8, 0, tzinfo=LONDON)
    results = digest_job(db_path, dead, digest_settings, now=lambda: now)
    assert {r.status for r in results} == {"failed"}
    assert digest_job(db_path / "missing-dir" / "x" / "\0bad", dead, digest_settings, now=lambda: now) == []
    assert "digest job failed" in caplog.text


def test_schedule_digest_adds_cron_and_catch_up(db_path, smtp_settings, digest_settings) -> None:
    scheduler = BackgroundScheduler(timezone=LONDON)
    schedule_digest(scheduler, db_path, smtp_settings, digest_settings)
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"digest", "digest-catch-up"}
    assert "day_of_week='mon'" in str(jobs["digest"].trigger) and "hour='7'" in str(jobs["digest"].trigger)
