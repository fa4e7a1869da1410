"""The rule semantics of `engine.py`, one reading at a time in plain Python.

Written to be obviously right rather than fast: the tests hold the vectorised
engine to it on random rules and readings, and `bench/rules.py` measures the
engine against it.
"""

from __future__ import annotations

import math

from zhili.warning.engine import LEVELS, RuleSet, RuleState


def _highest(x: float, thresholds) -> int:
    level = 0
    for k in range(LEVELS):
        if not math.isnan(thresholds[k]) and x >= thresholds[k]:
            level = k + 1
    return level


def evaluate_one(rules: RuleSet, state: RuleState, i: int, t: float, value: float):
    """Evaluate one reading of sensor i; return (old, new) levels, or None when
    the reading is skipped (invalid, or not after the sensor's last reading)."""
    if not (math.isfinite(t) and math.isfinite(value)) or not 0 <= i < rules.size:
        return None
    last_t = float(state.last_t[i])
    if not math.isnan(last_t) and t <= last_t:
        return None
    x = value * float(rules.sign[i])
    rate = math.nan
    if not math.isnan(last_t) and t > last_t:
        rate = (x - float(state.last_x[i])) / (t - last_t) * 60.0
    up = _highest(x, rules.raise_at[i])
    if not math.isnan(rate):
        up = max(up, _highest(rate, rules.rate_raise[i]))
    due = 0
    for k in range(1, LEVELS + 1):
        if up >= k:
            if math.isnan(state.since[i, k - 1]):
                state.since[i, k - 1] = t
            if t - state.since[i, k - 1] >= rules.duration_s[i]:
                due = k
        else:
            state.since[i, k - 1] = math.nan
    held = _highest(x, rules.clear_at[i])
    if not math.isnan(rate):
        held = max(held, _highest(rate, rules.rate_clear[i]))
    held = max(held, up)
    old = int(state.level[i])
    new = min(max(old, due), held)
    state.level[i] = new
    state.last_t[i] = t
    state.last_x[i] = x
    state.silent[i] = False
    return old, new


def evaluate(rules: RuleSet, state: RuleState, sensor, t, value):
    """Every reading in time order per sensor; return transitions as tuples
    (sensor, t, old, new, value) sorted by sensor then time."""
    readings = sorted(zip(sensor, t, value, strict=True),
                      key=lambda r: (int(r[0]), float(r[1]) if math.isfinite(float(r[1])) else 0.0))
    out = []
    for i, ti, vi in readings:
        result = evaluate_one(rules, state, int(i), float(ti), float(vi))
        if result and result[0] != result[1]:
            out.append((int(i), float(ti), result[0], result[1], float(vi)))
    return out
