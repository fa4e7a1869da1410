"""Report and rule periods on the city's calendar (settings.TIME_ZONE)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def period_start(cadence: str, day: date) -> date:
    """The start of the week (Monday) or month holding `day`."""
    if cadence == "week":
        return day - timedelta(days=day.weekday())
    if cadence == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown cadence {cadence!r}")


def period_end(cadence: str, start: date) -> date:
    """The first day after the period (exclusive end)."""
    if cadence == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous(cadence: str, start: date) -> date:
    return period_start(cadence, start - timedelta(days=1))


def last_complete(cadence: str, today: date | None = None) -> date:
    """The start of the last period that has ended by `today` (city date)."""
    today = today or timezone.localdate()
    return previous(cadence, period_start(cadence, today))


def bounds(cadence: str, start: date) -> tuple[datetime, datetime]:
    """The period as aware datetimes in city time: [start 00:00, end 00:00)."""
    tz = timezone.get_current_timezone()
    end = period_end(cadence, start)
    return (timezone.make_aware(datetime.combine(start, time()), tz),
            timezone.make_aware(datetime.combine(end, time()), tz))
