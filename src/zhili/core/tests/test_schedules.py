"""Calendar schedules: every day at 08:00, every Monday, the first of the month."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from zhili.core.periodic import periodic
from zhili.core.schedules import Calendar, Every, next_run, parse_time, parse_weekday

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_every_day_at_eight_in_the_city():
    daily = Calendar(at=time(8, 0))
    assert next_run(daily, local(2026, 12, 1, 7, 59), SHANGHAI) == local(2026, 12, 1, 8, 0)
    # Exactly at 08:00 that run is taken: the next is tomorrow's.
    assert next_run(daily, local(2026, 12, 1, 8, 0), SHANGHAI) == local(2026, 12, 2, 8, 0)
    # 08:00 in Shanghai is 00:00 UTC.
    assert next_run(daily, local(2026, 12, 1, 9, 0), SHANGHAI) == datetime(2026, 12, 2, tzinfo=UTC)


def test_every_monday_at_eight():
    monday = Calendar(at=time(8, 0), weekday=0)
    # 2026-12-01 is a Tuesday.
    assert next_run(monday, local(2026, 12, 1, 12, 0), SHANGHAI) == local(2026, 12, 7, 8, 0)
    assert next_run(monday, local(2026, 12, 7, 7, 0), SHANGHAI) == local(2026, 12, 7, 8, 0)


def test_the_first_of_the_month_and_the_last_day_of_short_months():
    first = Calendar(at=time(8, 0), day=1)
    assert next_run(first, local(2026, 12, 1, 8, 30), SHANGHAI) == local(2027, 1, 1, 8, 0)
    last = Calendar(at=time(23, 0), day=31)
    assert next_run(last, local(2027, 2, 1), SHANGHAI) == local(2027, 2, 28, 23, 0)
    assert next_run(last, local(2028, 2, 1), SHANGHAI) == local(2028, 2, 29, 23, 0)


def test_an_interval_counts_from_the_claim():
    assert next_run(Every(timedelta(minutes=5)), local(2026, 12, 1, 8, 0)) == local(2026, 12, 1, 8, 5)


def test_the_city_zone_comes_from_settings(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert next_run(Calendar(at=time(8, 0)), datetime(2026, 12, 1, tzinfo=UTC)) == \
        datetime(2026, 12, 2, tzinfo=UTC)


def test_a_skipped_wall_time_runs_once_an_hour_later_and_a_repeated_one_once():
    new_york = ZoneInfo("America/New_York")
    # 2026-03-08 02:30 does not exist in New York: it runs at 03:30 EDT (07:30 UTC).
    at_0230 = Calendar(at=time(2, 30))
    assert next_run(at_0230, datetime(2026, 3, 8, 0, 0, tzinfo=new_york), new_york) == \
        datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    # 2026-11-01 01:30 happens twice: the first (EDT, 05:30 UTC) only.
    at_0130 = Calendar(at=time(1, 30))
    first = next_run(at_0130, datetime(2026, 11, 1, 0, 0, tzinfo=new_york), new_york)
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert next_run(at_0130, first, new_york) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize("kwargs", [
    {}, {"every": timedelta(minutes=1), "at": "08:00"}, {"every": timedelta(0)},
    {"at": "8am"}, {"at": "25:00"}, {"at": "08:00", "weekday": "someday"},
    {"at": "08:00", "weekday": 7}, {"at": "08:00", "day": 0}, {"at": "08:00", "day": 32},
    {"at": "08:00", "weekday": 0, "day": 1}, {"every": timedelta(hours=1), "day": 1},
])
def test_a_schedule_that_makes_no_sense_is_refused_at_import(kwargs):
    with pytest.raises(ValueError):
        periodic(**kwargs)


def test_weekdays_and_times_are_read_like_people_write_them():
    assert parse_weekday("Monday") == parse_weekday("mon") == 0
    assert parse_weekday("sun") == 6
    assert parse_time("08:05") == time(8, 5)
    assert Calendar(at=time(8, 0), weekday=0).spec == "weekly mon 08:00"
    assert Calendar(at=time(8, 0), day=1).spec == "monthly 1 08:00"


# Zones with and without daylight saving, one with a half-hour shift.
ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
         "America/Santiago"]
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                        timezones=st.just(UTC))
calendars = st.builds(
    Calendar, at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    weekday=st.none(), day=st.none(),
) | st.builds(
    Calendar, at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    weekday=st.integers(0, 6), day=st.none(),
) | st.builds(
    Calendar, at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    weekday=st.none(), day=st.integers(1, 31),
)


def _matches(schedule: Calendar, on: date) -> bool:
    if schedule.weekday is not None:
        return on.weekday() == schedule.weekday
    if schedule.day is not None:
        following = on + timedelta(days=1)
        return on.day == schedule.day or (on.day < schedule.day and following.day == 1)
    return True


def _previous_date(schedule: Calendar, on: date) -> date:
    d = on - timedelta(days=1)
    while not _matches(schedule, d):
        d -= timedelta(days=1)
    return d


# No deadline: a busy machine must not fail a test on its speed.
@hypothesis_settings(deadline=None, max_examples=300)
@given(schedule=calendars, after=instants, zone=st.sampled_from(ZONES))
def test_next_run_is_the_first_run_strictly_after(schedule, after, zone):
    tz = ZoneInfo(zone)
    run = next_run(schedule, after, tz)
    assert run > after
    # It is this schedule's run on one of its dates (the wall time, read with
    # fold=0 where daylight saving skips or repeats it) ...
    on = next(d for d in (run.astimezone(tz).date() - timedelta(days=k) for k in (0, 1))
              if _matches(schedule, d) and schedule.occurrence(d, tz) == run)
    # ... and the run on the date before it was not after `after`: none was skipped.
    assert schedule.occurrence(_previous_date(schedule, on), tz) <= after
    # Asked again just before it, the answer is the same run.
    assert next_run(schedule, run - timedelta(microseconds=1), tz) == run


@hypothesis_settings(deadline=None)
@given(schedule=calendars, after=instants)
def test_in_shanghai_a_run_is_at_its_wall_time_on_its_day(schedule, after):
    run = next_run(schedule, after, SHANGHAI).astimezone(SHANGHAI)
    assert run.time() == schedule.at
    assert _matches(schedule, run.date())
    assert run - after <= timedelta(days=31)
