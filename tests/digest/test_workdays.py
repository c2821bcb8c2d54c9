"""Working days (England & Wales) and ISO weeks in Europe/London."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from config.mail import DigestSettings
from pipeline.digest.weeks import Week, due_at, local_date, parse_week, week_of
from pipeline.digest.workdays import add_working_days, is_working_day, working_days_between

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(("received", "until", "age"), [
    (date(2024, 11, 12), date(2024, 11, 17), 3),  # Tue -> Sun: Wed, Thu, Fri
    (date(2024, 11, 12), date(2024, 12, 8), 18),
    (date(2024, 12, 20), date(2024, 12, 29), 3),  # Christmas and Boxing Day skipped: Mon 23, Tue 24, Fri 27
    (date(2024, 12, 20), date(2025, 1, 5), 7),  # + Mon 30, Tue 31, (1 Jan), Thu 2, Fri 3
    (date(2025, 4, 17), date(2025, 4, 22), 1),  # Good Friday and Easter Monday 2025 skipped
    (date(2025, 4, 17), date(2025, 4, 17), 0),  # the day of receipt never counts
    (date(2024, 8, 23), date(2024, 8, 27), 1),  # Late Summer bank holiday (England), not Scotland's
])
def test_age_in_working_days(received: date, until: date, age: int) -> None:
    assert working_days_between(received, until) == age


def test_twentieth_working_day_across_christmas() -> None:
    # Fri 20 Dec 2024: 23, 24, 27, 30, 31 Dec, 2, 3, 6-10, 13-17, 20, 21, 22 Jan -> Wed 22 Jan 2025
    assert add_working_days(date(2024, 12, 20), 20) == date(2025, 1, 22)
    assert working_days_between(date(2024, 12, 20), date(2025, 1, 22)) == 20


def test_bank_holidays() -> None:
    assert not is_working_day(date(2025, 4, 18)) and not is_working_day(date(2025, 4, 21))
    assert not is_working_day(date(2024, 12, 26)) and is_working_day(date(2024, 12, 27))
    assert not is_working_day(date(2025, 1, 4))  # Saturday


def test_weeks() -> None:
    w = parse_week("2024-W50")
    assert (w.monday, w.sunday, w.key) == (date(2024, 12, 9), date(2024, 12, 15), "2024-W50")
    assert parse_week("2025w1") == Week(2025, 1) and week_of(date(2024, 12, 30)) == Week(2025, 1)
    assert parse_week("2024-W52").next() == Week(2025, 1)
    for bad in ("2024-50", "2023-W53", "W50"):
        with pytest.raises(ValueError):
            parse_week(bad)


def test_week_boundaries_are_london_time() -> None:
    # 23:30 UTC on Sunday 31 March 2024 is 00:30 BST on Monday 1 April: week 14, not 13.
    assert week_of(local_date(datetime.fromisoformat("2024-03-31T23:30:00+00:00"), LONDON)) == Week(2024, 14)
    start, end = Week(2024, 13).bounds(LONDON)
    assert start.utcoffset().total_seconds() == 0 and end.utcoffset().total_seconds() == 3600


def test_due_at_is_the_monday_after() -> None:
    settings = DigestSettings()
    assert due_at(Week(2024, 50), settings) == datetime(2024, 12, 16, 7, 0, tzinfo=LONDON)
    friday = DigestSettings(day="fri", time="16:30")
    assert due_at(Week(2024, 50), friday) == datetime(2024, 12, 20, 16, 30, tzinfo=LONDON)
