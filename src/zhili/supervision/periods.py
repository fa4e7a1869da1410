"""Periods (day, week from Monday, month) as ranges of local dates in the city's zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.errors import invalid

PERIODS = ("day", "week", "month")


def city_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def today() -> date:
    return timezone.now().astimezone(city_zone()).date()


def period_start(period: str, day: date) -> date:
    """The first day of the period holding `day`."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise invalid("period", _("must be one of day, week, month"))


def period_end(period: str, start: date) -> date:
    """The day after the period that begins on `start`."""
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def check_start(period: str, start: date) -> date:
    if period not in PERIODS:
        raise invalid("period", _("must be one of day, week, month"))
    if not isinstance(start, date):
        raise invalid("start", _("must be a date"))
    if isinstance(start, datetime):
        start = start.date()
    if period_start(period, start) != start:
        raise invalid("start", _("a week starts on a Monday, a month on its first day"))
    return start


def previous_starts(period: str, start: date, count: int) -> list[date]:
    """`count` period starts ending with `start`, oldest first."""
    starts = [start]
    while len(starts) < count:
        starts.append(period_start(period, starts[-1] - timedelta(days=1)))
    return starts[::-1]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The aware instants [start, end) of a local day."""
    zone = city_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


# -- reports and rules: the last complete period, and a period as instants ---------


def previous(period: str, start: date) -> date:
    """The start of the period before the one starting on `start`."""
    return period_start(period, start - timedelta(days=1))


def last_complete(period: str, day: date | None = None) -> date:
    """The start of the last period that has ended by `day` (default: today, city time)."""
    return previous(period, period_start(period, day or today()))


def bounds(period: str, start: date) -> tuple[datetime, datetime]:
    """The period as aware instants in city time: [start 00:00, end 00:00)."""
    zone = city_zone()
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(period_end(period, start), time.min, tzinfo=zone))
