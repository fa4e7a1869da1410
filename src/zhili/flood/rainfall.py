"""Rainfall series for a run: parsed, checked, resampled, extended by a scenario.

A series is (aware time, mm/h) rows at one fixed step, each value held until
the next row (SWMM's INTENSITY gauge). Anything wrong is refused with the row
it is on: a gap, a negative or impossible value, a time that does not move
forward. Pure functions; the messages go through gettext.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.errors import FieldError, ValidationFailed

MAX_ROWS = 2880          # two days at one minute, a month at 15 minutes
MAX_SPAN = timedelta(days=7)
MAX_MM_H = 500.0         # far above any recorded hourly rainfall
MAX_ERRORS = 10

Series = list[tuple[datetime, float]]


def _time(text: str) -> datetime:
    at = datetime.fromisoformat(text.strip().replace("/", "-"))
    if timezone.is_naive(at):
        at = timezone.make_aware(at)  # the city's time zone
    if not 1900 < at.year < 9999:
        raise ValueError
    return at


def parse_csv(text: str, field: str = "rainfall") -> Series:
    """`time,mm/h` rows (a header line is allowed) -> a checked series."""
    errors: list[FieldError] = []
    rows: Series = []
    lines = list(csv.reader(io.StringIO(text or "")))
    if len(lines) > MAX_ROWS + 1:
        raise ValidationFailed([FieldError(field, _("at most %(n)d rows") % {"n": MAX_ROWS})])
    for number, cells in enumerate(lines, start=1):
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if len(cells) < 2:
            errors.append(FieldError(field, _("row %(r)d: write time,mm/h") % {"r": number}))
            continue
        try:
            at = _time(cells[0])
        except ValueError:
            if not rows and number == 1:  # a header
                continue
            errors.append(FieldError(field, _("row %(r)d: %(t)r is not a time (ISO 8601, "
                                              "e.g. 2026-06-01 08:00)") % {"r": number, "t": cells[0][:40]}))
            continue
        try:
            value = float(cells[1])
        except ValueError:
            errors.append(FieldError(field, _("row %(r)d: %(v)r is not a number of mm/h")
                                     % {"r": number, "v": cells[1][:40]}))
            continue
        rows.append((at, value, number))
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ValidationFailed(errors[:MAX_ERRORS])
    return check(rows, field)


def check(rows, field: str = "rainfall") -> Series:
    """Rows of (time, mm/h[, row number]): at least two, one step, no gaps, no negatives."""
    errors: list[FieldError] = []
    numbered = [(r[0], r[1], r[2] if len(r) > 2 else k + 1) for k, r in enumerate(rows)]
    if len(numbered) < 2:
        raise ValidationFailed([FieldError(field, _("give at least two rows of time,mm/h"))])
    for _at, value, number in numbered:
        if not math.isfinite(value) or value < 0:
            errors.append(FieldError(field, _("row %(r)d: rainfall %(v)s mm/h is negative or "
                                              "not a number") % {"r": number, "v": value}))
        elif value > MAX_MM_H:
            errors.append(FieldError(field, _("row %(r)d: %(v)s mm/h is more than %(m)d mm/h")
                                     % {"r": number, "v": value, "m": MAX_MM_H}))
    step = numbered[1][0] - numbered[0][0]
    for (before, _v, _n), (at, _w, number) in zip(numbered, numbered[1:], strict=False):
        gap = at - before
        if gap <= timedelta(0):
            errors.append(FieldError(field, _("row %(r)d: the time does not come after the row "
                                              "before") % {"r": number}))
        elif gap != step:
            errors.append(FieldError(field, _("row %(r)d: a gap of %(g)s where the series steps "
                                              "by %(s)s") % {"r": number, "g": gap, "s": step}))
        if len(errors) >= MAX_ERRORS:
            break
    if not errors and (step < timedelta(minutes=1) or step > timedelta(hours=6)
                       or step.total_seconds() % 60):
        errors.append(FieldError(field, _("the step must be whole minutes, from 1 minute to "
                                          "6 hours")))
    if not errors and numbered[-1][0] - numbered[0][0] > MAX_SPAN:
        errors.append(FieldError(field, _("the series spans more than 7 days")))
    if errors:
        raise ValidationFailed(errors[:MAX_ERRORS])
    return [(at, float(value)) for at, value, _n in numbered]


def step_of(series: Series) -> timedelta:
    return series[1][0] - series[0][0]


def from_readings(readings: list[tuple[datetime, float]], *, step: timedelta, hours: float,
                  now: datetime, field: str = "sensor") -> Series:
    """A gauge's readings (1-hour rainfall in mm, read as mm/h) over the last `hours`,
    on a fixed step: each step takes its last reading; a step with none holds the one
    before for up to two steps, a longer silence is refused as a gap."""
    end = now.replace(second=0, microsecond=0)
    end -= timedelta(seconds=end.timestamp() % step.total_seconds())
    start = end - timedelta(hours=hours)
    buckets: dict[int, float] = {}
    for at, value in readings:
        if start <= at < end + step:
            buckets[int((at - start) / step)] = value
    if not buckets:
        raise ValidationFailed([FieldError(field, _("the gauge has no readings in the last "
                                                    "%(h)s hours") % {"h": hours})])
    series: Series = []
    held, missing = None, 0
    first = min(buckets)
    for k in range(first, int((end - start) / step) + 1):
        if k in buckets:
            held, missing = buckets[k], 0
        else:
            missing += 1
            if missing > 2:
                gap_start = start + (k - missing + 1) * step
                raise ValidationFailed([FieldError(field, _(
                    "the gauge is silent from %(t)s: more than two steps without a reading")
                    % {"t": timezone.localtime(gap_start).strftime("%Y-%m-%d %H:%M")})])
        series.append((start + k * step, max(0.0, float(held))))
    if len(series) < 2:
        series.append((series[0][0] + step, series[0][1]))
    return check(series, field)


def extend(series: Series, *, mm: float, hours: float) -> Series:
    """The scenario "+mm over hours": that much more rain, evenly, after the series."""
    if mm is None or hours is None or mm == 0:
        return series
    step = step_of(series)
    if not (0 < hours <= 72) or not (0 < mm <= 1000):
        raise ValidationFailed([FieldError("scenario", _(
            "the scenario's rain must be more than 0 and at most 1000 mm, over more than "
            "0 and at most 72 hours"))])
    steps = max(1, round(hours * 3600 / step.total_seconds()))
    intensity = mm / hours
    last = series[-1][0]
    return series + [(last + (k + 1) * step, round(intensity, 3)) for k in range(steps)]
