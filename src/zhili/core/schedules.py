"""When a periodic job runs next: by interval, or by the city's calendar.

Pure functions, no database: `next_run(schedule, after)` is the first run
strictly after `after`. Calendar schedules are wall-clock times in a time zone
(settings.TIME_ZONE, Asia/Shanghai, unless one is given): every day at 08:00,
every Monday at 08:00, the first of every month at 08:00. Written for any zone:
a time that a daylight-saving jump skips runs at the same instant the clock
would show it an hour later (zoneinfo's fold=0 reading), and a time that
occurs twice runs at its first occurrence only.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Every:
    """Every `interval`, counted from the moment a run was claimed."""

    interval: timedelta

    def __post_init__(self):
        if self.interval <= timedelta(0):
            raise ValueError("a periodic interval must be positive")

    @property
    def spec(self) -> str:
        return f"every {int(self.interval.total_seconds())}s"


@dataclass(frozen=True)
class Calendar:
    """At `at` local time: daily, weekly on `weekday` (0 = Monday), or monthly on `day`.

    A `day` past the end of a month (29-31) means that month's last day.
    """

    at: time
    weekday: int | None = None
    day: int | None = None

    def __post_init__(self):
        if self.weekday is not None and self.day is not None:
            raise ValueError("a calendar schedule is weekly or monthly, not both")
        if self.weekday is not None and not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday}")
        if self.day is not None and not 1 <= self.day <= 31:
            raise ValueError(f"day of the month must be 1 to 31, not {self.day}")
        if self.at.tzinfo is not None:
            raise ValueError("`at` is a wall-clock time; the zone comes from settings")

    @property
    def spec(self) -> str:
        at = self.at.strftime("%H:%M")
        if self.weekday is not None:
            return f"weekly {WEEKDAYS[self.weekday][:3]} {at}"
        if self.day is not None:
            return f"monthly {self.day} {at}"
        return f"daily {at}"

    def dates_from(self, start: date):
        """The dates this schedule runs on, from `start` (inclusive) onwards."""
        if self.weekday is not None:
            d = start + timedelta(days=(self.weekday - start.weekday()) % 7)
            while True:
                yield d
                d += timedelta(days=7)
        elif self.day is not None:
            year, month = start.year, start.month
            while True:
                d = date(year, month, min(self.day, calendar.monthrange(year, month)[1]))
                if d >= start:
                    yield d
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        else:
            d = start
            while True:
                yield d
                d += timedelta(days=1)

    def occurrence(self, on: date, tz: tzinfo) -> datetime:
        """The instant (UTC) of the run on local date `on`."""
        return datetime.combine(on, self.at, tzinfo=tz).astimezone(UTC)


Schedule = Every | Calendar


def parse_time(value: str | time) -> time:
    if isinstance(value, time):
        return value
    try:
        hour, minute = (int(part) for part in value.split(":"))
        return time(hour, minute)
    except ValueError:
        raise ValueError(f"`at` must be HH:MM (24-hour), not {value!r}") from None


def parse_weekday(value: int | str) -> int:
    if isinstance(value, int):
        return value
    for number, name in enumerate(WEEKDAYS):
        if value.strip().lower() in (name, name[:3]):
            return number
    raise ValueError(f"weekday must be a day's English name, not {value!r}")


def _zone(tz: tzinfo | None) -> tzinfo:
    if tz is not None:
        return tz
    from django.utils import timezone

    return timezone.get_default_timezone()


def next_run(schedule: Schedule, after: datetime, tz: tzinfo | None = None) -> datetime:
    """The first run strictly after `after` (an aware datetime); returned in UTC."""
    if isinstance(schedule, Every):
        return after + schedule.interval
    tz = _zone(tz)
    # From the day before: a skipped wall time late in the evening can move a
    # run past local midnight, so the previous date's run may still be ahead.
    start = after.astimezone(tz).date() - timedelta(days=1)
    for on in schedule.dates_from(start):
        run = schedule.occurrence(on, tz)
        if run > after:
            return run
    raise AssertionError("unreachable: dates_from never ends")


def first_due(schedule: Schedule, now: datetime, tz: tzinfo | None = None) -> datetime:
    """When a newly registered job first runs: an interval job at once, a calendar
    job at its next time (a "daily at 03:00" job does not run at 15:00 on deploy)."""
    return now if isinstance(schedule, Every) else next_run(schedule, now, tz)
