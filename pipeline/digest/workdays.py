"""Working days for the FOI clock: weekends and England & Wales bank holidays excluded.

FOIA s10(1) gives 20 working days, counted from the day after receipt (as
Alaveteli/WhatDoTheyKnow count them). Bank holidays come from the maintained
``holidays`` package (``UK``, subdivision ``ENG``: England and Wales share the
list) rather than a hand-made table that would silently go stale.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.UK(subdiv="ENG", years=[year]).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def working_days_between(received: date, until: date) -> int:
    """Working days elapsed after ``received`` up to and including ``until`` (0 when until <= received).

    The day of receipt never counts: a request received on Friday is 1
    working day old on Monday (or on Tuesday when Monday is a bank holiday).
    """
    count = 0
    day = received + timedelta(days=1)
    while day <= until:
        if is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count


def add_working_days(received: date, n: int) -> date:
    """The ``n``-th working day after ``received``: with n=20, the FOIA s10(1) deadline."""
    day = received
    left = n
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
