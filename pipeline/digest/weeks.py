"""ISO weeks in the digest's time zone, and when each week's digest falls due.

A week is Monday 00:00 to the next Monday 00:00 in local (Europe/London)
time, so a message sent at 23:30 BST on a Sunday belongs to that week even
though it is Monday in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.mail import DAYS, DigestSettings

_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})")


@dataclass(frozen=True, order=True)
class Week:
    year: int
    number: int

    @property
    def key(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as aware local datetimes (wall-clock midnight, DST-correct)."""
        start = datetime.combine(self.monday, time(0), tz)
        end = datetime.combine(self.monday + timedelta(days=7), time(0), tz)
        return start, end

    def next(self) -> Week:
        return week_of(self.monday + timedelta(days=7))

    def previous(self) -> Week:
        return week_of(self.monday - timedelta(days=7))

    def __str__(self) -> str:
        return self.key


def week_of(day: date) -> Week:
    iso = day.isocalendar()
    return Week(iso.year, iso.week)


def parse_week(text: str) -> Week:
    """``2024-W50`` (or ``2024W50``) as a Week; ValueError for anything else, including week 53 of a 52-week year."""
    m = _WEEK.fullmatch(text.strip().upper())
    if not m:
        raise ValueError(f"not an ISO week like 2024-W50: {text!r}")
    try:
        date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise ValueError(f"{text!r}: year {m.group(1)} has no week {int(m.group(2))}") from None
    return Week(int(m.group(1)), int(m.group(2)))


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def parse_stamp(value: str | None) -> datetime | None:
    """A stored ISO 8601 timestamp as an aware datetime (naive ones are taken as UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment


def due_at(week: Week, settings: DigestSettings) -> datetime:
    """When a week's digest is scheduled: the first configured day/time after the week has ended.

    Default Monday 07:00 Europe/London: the Monday straight after the week.
    """
    tz = settings.tz
    _, end = week.bounds(tz)
    offset = DAYS.index(settings.day)
    return datetime.combine(end.date() + timedelta(days=offset), settings.send_time, tz)


def last_complete_week(now: datetime, tz: ZoneInfo) -> Week:
    """The most recent week that has ended at ``now`` (the week before the current one)."""
    return week_of(local_date(now, tz)).previous()
