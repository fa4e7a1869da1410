"""Readings in: stored once, checked, evaluated with the sensors' state, turned into
warnings that open, change level, clear and open a case."""

from datetime import timedelta

import pytest

from zhili.warning.ingest import RawReading, readings_ingest
from zhili.warning.models import Reading, SensorState, Warning

pytestmark = pytest.mark.django_db
MIN = timedelta(minutes=1)


def rain(t0, *values, sensor="S-RAIN-1", start=0):
    return [RawReading(sensor, (t0 + (start + i) * MIN).isoformat(), v) for i, v in enumerate(values)]


def test_a_reading_is_stored_once_however_often_it_arrives(slope, t0):
    first = readings_ingest(readings=rain(t0, 5, 6, 7))
    again = readings_ingest(readings=rain(t0, 5, 6, 7))  # a redelivered message
    assert (first.stored, again.stored, again.duplicates) == (3, 0, 3)
    assert Reading.objects.filter(sensor__code="S-RAIN-1").count() == 3
    twice_in_one = readings_ingest(readings=rain(t0, 9, start=5) + rain(t0, 9, start=5))
    assert (twice_in_one.stored, twice_in_one.duplicates) == (1, 1)


def test_bad_readings_are_counted_per_sensor_and_never_stop_the_rest(slope, t0):
    future = (t0 + timedelta(days=3)).isoformat()
    report = readings_ingest(readings=[
        RawReading("S-RAIN-1", t0.isoformat(), "12"),          # a string, not a number
        RawReading("S-RAIN-1", t0.isoformat(), float("nan")),
        RawReading("S-RAIN-1", t0.isoformat(), True),
        RawReading("S-RAIN-1", future, 3),
        RawReading("S-RAIN-1", "yesterday", 3),
        RawReading("S-RAIN-1", "2020-01-01T00:00:00", 3),      # no offset
        RawReading("NO-SUCH-SENSOR", t0.isoformat(), 3),
        RawReading("S-RAIN-1", t0.isoformat(), 4.5),           # the good one
    ])
    assert report.stored == 1
    assert sum(report.rejected.values()) == 7
    assert report.rejected_by_sensor["NO-SUCH-SENSOR"] == {"unknown sensor": 1}
    assert report.rejected_by_sensor["S-RAIN-1"]["value is not a finite number"] == 3
    assert report.rejected_by_sensor["S-RAIN-1"]["time is in the future"] == 1


def test_rain_raises_a_warning_that_rises_falls_and_clears(slope, t0):
    # rainfall_1h default: blue 16, yellow 30, orange 50, red 70; clear 12/25/45/65.
    readings_ingest(readings=rain(t0, 5, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    assert (warning.level, warning.public) == (1, False)
    assert warning.status in ("raised", "notified")

    readings_ingest(readings=rain(t0, 35, 28, start=2))  # yellow; 28 holds it (clear line 25)
    warning.refresh_from_db()
    assert (warning.level, warning.public) == (2, True)

    readings_ingest(readings=rain(t0, 20, 10, start=4))  # down to blue, then cleared
    warning.refresh_from_db()
    assert (warning.level, warning.status, warning.peak_level) == (0, "closed", 2)
    kinds = list(warning.events.exclude(kind="notified").values_list("kind", flat=True))
    assert kinds == ["raised", "level_up", "level_down", "cleared"]

    readings_ingest(readings=rain(t0, 40, start=6))  # the condition again: a new warning
    assert Warning.objects.filter(condition="rule:S-RAIN-1").count() == 2


def test_an_orange_warning_opens_one_case_on_the_points_grid(slope, t0):
    from zhili.governance.models import Case

    readings_ingest(readings=rain(t0, 55, 60, 72))  # orange, orange, red
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    cases = Case.objects.filter(intake_scope="warning", intake_key=f"warning:{warning.pk}")
    assert cases.count() == 1
    case = cases.get()
    assert case.grid_id == slope.grid_id and case.channel == "system"
    assert warning.number in case.description
    assert "case_opened" in warning.events.values_list("kind", flat=True)


def test_late_readings_are_stored_and_not_evaluated(slope, t0):
    readings_ingest(readings=rain(t0, 5, start=10))
    report = readings_ingest(readings=rain(t0, 99, start=3))  # older than what was seen
    assert (report.stored, report.late) == (1, 1)
    assert not Warning.objects.filter(condition="rule:S-RAIN-1").exists()
    assert SensorState.objects.get(sensor__code="S-RAIN-1").late == 1


def test_the_displacement_rule_waits_for_its_duration(slope, t0):
    # displacement default: blue at 10 mm, held for 10 minutes.
    readings_ingest(readings=rain(t0, 12, 13, 14, sensor="S-DISP-1"))  # 0, 1, 2 minutes
    assert not Warning.objects.filter(condition="rule:S-DISP-1").exists()
    readings_ingest(readings=rain(t0, 15, sensor="S-DISP-1", start=10))
    assert Warning.objects.get(condition="rule:S-DISP-1").level == 1


def test_one_batch_or_many_give_the_same_warnings(slope, t0):
    """State carried between batches: a replay in any batching gives the same warnings."""
    from zhili.warning.services import sensor_register

    sensor_register(actor=None, risk_point=slope, code="S-RAIN-2", sensor_type="rainfall_1h")
    values = [5, 18, 35, 28, 20, 10, 40, 75, 3]
    readings_ingest(readings=rain(t0, *values))
    for i, value in enumerate(values):
        readings_ingest(readings=rain(t0, value, sensor="S-RAIN-2", start=i))

    def history(code):
        return [(w.level, w.peak_level, w.status, list(w.events.values_list("kind", "level")))
                for w in Warning.objects.filter(condition=f"rule:{code}").order_by("raised_at")]

    assert history("S-RAIN-1") == history("S-RAIN-2")
    assert len(history("S-RAIN-1")) == 2


def test_a_silent_sensor_gets_one_warning_and_its_next_reading_closes_it(slope, t0):
    from zhili.warning.services import sensors_silent_check

    # rainfall_1h's default rule: silent after 15 minutes without a reading.
    readings_ingest(readings=rain(t0, 5))
    assert sensors_silent_check(now=t0 + 10 * MIN) == 0
    assert sensors_silent_check(now=t0 + 16 * MIN) >= 1
    assert sensors_silent_check(now=t0 + 20 * MIN) == 0  # told once
    warning = Warning.objects.get(condition="silent:S-RAIN-1")
    assert warning.level == 1 and warning.status in Warning.OPEN
    readings_ingest(readings=rain(t0, 5, start=21), now=t0 + 22 * MIN)
    warning.refresh_from_db()
    assert warning.status == "closed"
    assert not SensorState.objects.get(sensor__code="S-RAIN-1").silent
