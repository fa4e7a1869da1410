"""The rule engine: the domain's cases by hand, then the vectorised engine held
equal to the one-reading-at-a-time reference on random rules and readings."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from zhili.warning import engine, engine_reference
from zhili.warning.engine import RuleSet, RuleState

MIN = 60.0


def one_sensor(**rule) -> tuple[RuleSet, RuleState]:
    rules = RuleSet.empty(1)
    rules.set_rule(0, **rule)
    return rules, RuleState.empty(1)


def levels_over(rules, state, readings):
    """Feed (minute, value) readings one batch each; the level after each."""
    out = []
    for minute, value in readings:
        engine.evaluate(rules, state, [0], [minute * MIN], [value])
        out.append(int(state.level[0]))
    return out


def test_rainfall_levels_rise_and_clear_with_hysteresis():
    # Hourly rainfall (mm): blue 30, yellow 50, orange 70, red 100; each clears 10 mm lower.
    rules, state = one_sensor(raise_at=[30, 50, 70, 100], clear_at=[20, 40, 60, 90])
    assert levels_over(rules, state, [(0, 10), (1, 35), (2, 55), (3, 45), (4, 39), (5, 25),
                                      (6, 19), (7, 120)]) == [0, 1, 2, 2, 1, 1, 0, 4]


def test_a_level_is_raised_only_after_it_has_held_for_the_duration():
    # Displacement over 5 mm for 10 minutes; a dip below resets the clock.
    rules, state = one_sensor(raise_at=[5, None, None, None], duration_s=10 * MIN)
    assert levels_over(rules, state, [(0, 6), (5, 7), (9, 8), (10, 6), (11, 4), (12, 6),
                                      (21, 6), (22, 6)]) == [0, 0, 0, 1, 0, 0, 0, 1]


def test_below_rules_watch_a_falling_value():
    # A reservoir's level (m) must not fall: blue below 30, red below 10, clears 2 m higher.
    rules, state = one_sensor(raise_at=[30, 20, 15, 10], clear_at=[32, 22, 17, 12],
                              direction="below")
    assert levels_over(rules, state, [(0, 35), (1, 29), (2, 9), (3, 11), (4, 13), (5, 31),
                                      (6, 33)]) == [0, 1, 4, 4, 3, 1, 0]


def test_rate_of_change_raises_on_its_own():
    # A slope creeping more than 2 mm a minute is orange whatever its total.
    rules, state = one_sensor(raise_at=[50, 80, 100, 120], rate_raise=[None, None, 2, None])
    assert levels_over(rules, state, [(0, 10), (1, 11), (2, 14), (3, 15)]) == [0, 0, 3, 0]


def test_late_and_out_of_order_readings_are_not_evaluated():
    rules, state = one_sensor(raise_at=[1, 2, 3, 4])
    engine.evaluate(rules, state, [0], [10 * MIN], [1.5])
    result = engine.evaluate(rules, state, [0, 0], [5 * MIN, 10 * MIN], [9, 9])
    assert (result.late, result.evaluated, len(result.transitions)) == (2, 0, 0)
    assert state.level[0] == 1


def test_invalid_values_and_unknown_sensors_are_counted_not_evaluated():
    rules, state = one_sensor(raise_at=[1, 2, 3, 4])
    result = engine.evaluate(rules, state, [0, 0, 7, -1], [1, 2, 3, 4],
                             [math.nan, math.inf, 5, 5])
    assert (result.invalid, result.evaluated) == (4, 0)


def test_many_readings_of_one_sensor_in_one_batch_are_taken_in_time_order():
    rules, state = one_sensor(raise_at=[1, 2, 3, 4])
    result = engine.evaluate(rules, state, [0, 0, 0], [3 * MIN, 1 * MIN, 2 * MIN], [1, 4, 2])
    assert [(o, n) for _, _, o, n, _ in result.transitions.as_tuples()] == [(0, 4), (4, 2), (2, 1)]


def test_silent_sensor_rule():
    rules, state = one_sensor(raise_at=[1, 2, 3, 4], silent_after_s=15 * MIN)
    engine.evaluate(rules, state, [0], [0], [0.5])
    assert list(engine.silent_sensors(rules, state, now=10 * MIN)) == []
    assert list(engine.silent_sensors(rules, state, now=16 * MIN)) == [0]
    assert list(engine.silent_sensors(rules, state, now=30 * MIN)) == []  # told once
    engine.evaluate(rules, state, [0], [31 * MIN], [0.5])
    assert not state.silent[0]


def test_compound_condition_needs_every_member():
    # Point A: rainfall (sensor 0) and displacement (sensor 1); point B: sensor 2 alone.
    levels = np.array([3, 1, 2], dtype=np.int8)
    got = engine.compound_levels(levels, members=np.array([0, 1, 2]), group_starts=np.array([0, 2]))
    assert list(got) == [1, 2]


def test_a_clear_line_past_the_raise_line_is_refused():
    import pytest

    with pytest.raises(ValueError):
        one_sensor(raise_at=[10, 20, 30, 40], clear_at=[11, 20, 30, 40])
    with pytest.raises(ValueError):
        one_sensor(raise_at=[10, 5, 30, 40])


# ---------------------------------------------------------------- property: engine == reference
@st.composite
def rule_sets(draw, n):
    rules = RuleSet.empty(n)
    for i in range(n):
        direction = draw(st.sampled_from(["above", "below"]))
        sign = 1 if direction == "above" else -1
        raise_at = sorted(draw(st.lists(st.integers(0, 20), min_size=4, max_size=4)),
                          reverse=sign < 0)
        raise_at = [None if draw(st.booleans()) and k < 3 else v for k, v in enumerate(raise_at)]
        gap = draw(st.integers(0, 4))
        clear_at = [None if v is None else v - sign * gap for v in raise_at]
        rate = draw(st.one_of(st.none(), st.lists(st.integers(-5, 5), min_size=4, max_size=4)))
        if rate is not None:
            rate = sorted(rate, reverse=sign < 0)
        rules.set_rule(i, raise_at=raise_at, clear_at=clear_at, rate_raise=rate,
                       direction=direction, duration_s=draw(st.sampled_from([0, 60, 180])))
    return rules


readings = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30), st.integers(-25, 25)),
                    max_size=60)


def run_batches(rules, batches):
    state = RuleState.empty(rules.size)
    found = []
    for sensor, t, value in batches:
        found += engine.evaluate(rules, state, sensor, t, value).transitions.as_tuples()
    return found, state


@settings(max_examples=300, deadline=None)
@given(data=st.data(), batch=readings, cut_minute=st.integers(0, 31))
def test_engine_equals_reference_in_any_batching(data, batch, cut_minute):
    """The whole batch at once, and the same readings split in two batches at a
    moment in time (as a consumer receives them), give the reference's
    transitions and end state."""
    rules = data.draw(rule_sets(4))
    columns = ([r[0] for r in batch], [r[1] * 60.0 for r in batch], [float(r[2]) for r in batch])
    ref_state = RuleState.empty(4)
    expected = engine_reference.evaluate(rules, ref_state, *columns)

    before = [i for i, r in enumerate(batch) if r[1] < cut_minute]
    after = [i for i, r in enumerate(batch) if r[1] >= cut_minute]
    split = [tuple([col[i] for i in part] for col in columns) for part in (before, after)]
    for batches in ([columns], split):
        found, state = run_batches(rules, batches)
        assert sorted(found) == sorted(expected)
        assert np.array_equal(state.level, ref_state.level)
        assert np.array_equal(state.since, ref_state.since, equal_nan=True)
        assert np.array_equal(state.last_t, ref_state.last_t, equal_nan=True)
