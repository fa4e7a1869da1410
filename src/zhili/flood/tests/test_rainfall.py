"""Rainfall series: refused with the row that is wrong; gauges and scenarios."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from zhili.core.errors import ValidationFailed
from zhili.flood import rainfall


def messages(text):
    with pytest.raises(ValidationFailed) as caught:
        rainfall.parse_csv(text)
    return " | ".join(e.message for e in caught.value.errors)


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def test_a_good_series_with_a_header():
    series = rainfall.parse_csv("time,mm/h\n2026-06-01 08:00,0\n2026-06-01 08:10,12.5\n"
                                "2026-06-01 08:20,30\n")
    assert [v for _t, v in series] == [0, 12.5, 30]
    assert rainfall.step_of(series) == timedelta(minutes=10)
    assert series[0][0].tzinfo is not None  # naive times are the city's


def test_a_gap_is_refused_naming_the_row():
    text = "time,mm/h\n2026-06-01 08:00,1\n2026-06-01 08:10,2\n2026-06-01 08:40,3\n"
    assert "row 4: a gap" in messages(text)


def test_a_negative_value_is_refused_naming_the_row():
    assert "row 3: rainfall -2.0 mm/h is negative" in messages(
        "2026-06-01 08:00,1\n2026-06-01 08:10,1\n2026-06-01 08:20,-2\n")


def test_times_out_of_order_are_refused_naming_the_row():
    assert "row 3: the time does not come after" in messages(
        "2026-06-01 08:00,1\n2026-06-01 08:10,1\n2026-06-01 08:05,1\n")


@pytest.mark.parametrize("text,needle", [
    ("2026-06-01 08:00,1\n", "at least two rows"),
    ("2026-06-01 08:00,1\n2026-06-01 08:10,lots\n", "row 2: 'lots' is not a number"),
    ("2026-06-01 08:00,1\nyesterday,1\n", "row 2: 'yesterday' is not a time"),
    ("2026-06-01 08:00,1\n2026-06-01 08:10,nan\n", "negative or not a number"),
    ("2026-06-01 08:00,1\n2026-06-01 08:10,900\n", "more than 500"),
    ("2026-06-01 08:00:00,1\n2026-06-01 08:00:30,1\n", "whole minutes"),
    ("2026-06-01 08:00,1\n2026-06-01 08:10\n", "row 2: write time,mm/h"),
])
def test_other_bad_series(text, needle):
    assert needle in messages(text)


@given(st.lists(st.floats(min_value=0, max_value=400, allow_nan=False), min_size=2, max_size=50))
def test_any_well_formed_series_round_trips(values):
    start = timezone.now().replace(second=0, microsecond=0)
    text = "\n".join(f"{(start + timedelta(minutes=5 * k)).isoformat()},{v!r}"
                     for k, v in enumerate(values))
    assert [v for _t, v in rainfall.parse_csv(text)] == values


def test_a_scenario_adds_its_rain_evenly_after_the_series():
    series = rainfall.parse_csv("2026-06-01 08:00,2\n2026-06-01 08:10,2\n")
    longer = rainfall.extend(series, mm=50, hours=3)
    assert len(longer) == 2 + 18
    added = longer[2:]
    assert added[0][0] == series[-1][0] + timedelta(minutes=10)
    assert sum(v for _t, v in added) * 10 / 60 == pytest.approx(50, rel=1e-3)


def test_a_gauges_readings_on_a_fixed_step_and_a_long_silence_refused():
    now = timezone.now().replace(second=0, microsecond=0)
    readings = [(now - timedelta(minutes=m), 5.0) for m in range(0, 120, 10)]
    series = rainfall.from_readings(readings, step=timedelta(minutes=10), hours=2, now=now)
    assert all(v == 5.0 for _t, v in series) and len(series) >= 11
    silent = [r for r in readings if not 30 <= (now - r[0]).total_seconds() / 60 <= 80]
    with pytest.raises(ValidationFailed) as caught:
        rainfall.from_readings(silent, step=timedelta(minutes=10), hours=2, now=now)
    assert "silent from" in caught.value.errors[0].message
