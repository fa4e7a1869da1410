#!/usr/bin/env python
"""Rule evaluation over the seed's risk list: readings/s of the vectorised engine.

    .venv/bin/python bench/rules.py [--sensors 520000] [--minutes 10] [--reference-readings 200000]

520,000 sensors, one per risk point, each with a four-level rule (thresholds,
clear lines half a step back, a 3-minute duration on a third of them, a rate rule on
another third, "below" rules on a tenth), fed minute by minute with readings
that drift through the levels (a fixed seed), one batch per minute with
persisted state carried between batches. Measured in the same run:

- the engine (`zhili.warning.engine.evaluate`): the figure, `readings_per_s`;
- the reference (`engine_reference`, the same rules one reading at a time in
  plain Python) on the first readings of each minute: `ratio_vs_naive` =
  engine rate / reference rate;
- a bare numpy comparison of the same readings with the same thresholds
  (the level each reading reaches, no state, no duration, no hysteresis):
  `ratio_vs_numpy` = engine rate / bare rate, the ceiling.

The three run in turn on each minute's batch and the ratios are the medians of
the per-minute ratios, so a shared machine's drift hits all three alike.

Both implementations' transitions on the reference sample must agree
(`exact`). Prints one JSON line; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def build_rules(n: int, rng):
    from zhili.warning.engine import LEVELS, RuleSet

    rules = RuleSet.empty(n)
    base = rng.uniform(20, 80, n)
    steps = rng.uniform(5, 20, n)
    raise_at = base[:, None] + steps[:, None] * np.arange(LEVELS)[None, :]
    # Thresholds are kept in the rule's direction (engine.RuleSet): "below" rules
    # negate both the value and the thresholds, so their rows ascend as well.
    below = rng.random(n) < 0.1
    rules.sign[below] = -1.0
    raise_at[below] -= 150.0  # in sensor units 150 - t: blue highest, red lowest
    rules.raise_at[:] = raise_at
    rules.clear_at[:] = raise_at - 0.5 * steps[:, None]  # clear lines half a step back
    thirds = np.arange(n) % 3
    rules.duration_s[thirds == 0] = 180.0
    rated = thirds == 1
    rules.rate_raise[rated] = np.array([np.nan, np.nan, 8.0, 15.0])
    rules.rate_clear[rated] = np.array([np.nan, np.nan, 6.0, 12.0])
    rules.silent_after_s[:] = 900.0
    return rules


def readings_for_minute(minute: int, n: int, start: np.ndarray, drift: np.ndarray, rng):
    sensor = np.arange(n, dtype=np.int64)
    t = np.full(n, 1_760_000_000.0 + minute * 60.0) + rng.uniform(0, 50, n)
    value = start + drift * minute + rng.normal(0, 3, n)
    return sensor, t, value


def bare_levels(raise_filled, sign, sensor, value) -> np.ndarray:
    """The level each reading reaches by its raise thresholds alone: a gather
    and four comparisons per reading, the least any evaluation must do."""
    x = value * sign[sensor]
    level = (x >= raise_filled[:, 0][sensor]).astype(np.int8)
    for k in range(1, raise_filled.shape[1]):
        level += x >= raise_filled[:, k][sensor]
    return level


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sensors", type=int, default=520_000)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--reference-readings", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    from locate import machine

    from zhili.warning import engine, engine_reference
    from zhili.warning.engine import RuleState

    n = args.sensors
    rng = np.random.default_rng(args.seed)
    rules = build_rules(n, rng)
    start = rng.uniform(0, 90, n)
    drift = rng.normal(0, 4, n)
    batches = [readings_for_minute(m, n, start, drift, np.random.default_rng(args.seed + m))
               for m in range(args.minutes)]
    total = sum(len(b[0]) for b in batches)
    print(f"{n:,} sensors, {args.minutes} batches, {total:,} readings", file=sys.stderr)

    # Rounds: each minute's batch through the engine, then the same minute's sample
    # through the reference, then the bare comparison, so drift on a shared machine
    # hits all three alike; the ratios are medians of the per-round ratios.
    sample_sensors = max(1, args.reference_readings // args.minutes)
    state, ref_state, check_state = RuleState.empty(n), RuleState.empty(n), RuleState.empty(n)
    raise_filled = engine._filled(rules.raise_at)
    engine_s = reference_s = bare_s = 0.0
    transitions, sample_total = 0, 0
    vs_naive, vs_numpy = [], []
    found, ref_found = [], []
    for sensor, t, value in batches:
        began = time.perf_counter()
        transitions += len(engine.evaluate(rules, state, sensor, t, value).transitions)
        e = time.perf_counter() - began
        s_sensor, s_t, s_value = sensor[:sample_sensors], t[:sample_sensors], value[:sample_sensors]
        began = time.perf_counter()
        ref_found += engine_reference.evaluate(rules, ref_state, s_sensor, s_t, s_value)
        r = time.perf_counter() - began
        began = time.perf_counter()
        bare_levels(raise_filled, rules.sign, sensor, value)
        b = time.perf_counter() - began
        found += engine.evaluate(rules, check_state, s_sensor, s_t, s_value).transitions.as_tuples()
        engine_s, reference_s, bare_s = engine_s + e, reference_s + r, bare_s + b
        sample_total += len(s_sensor)
        vs_naive.append((len(sensor) / e) / (len(s_sensor) / r))
        vs_numpy.append(b / e)
    exact = sorted(found) == sorted(ref_found) and np.array_equal(check_state.level, ref_state.level)
    print(f"engine {engine_s:.2f}s, reference {reference_s:.2f}s for {sample_total:,}, "
          f"bare {bare_s:.2f}s; {transitions:,} transitions; exact={exact}", file=sys.stderr)

    engine_rate = total / engine_s
    reference_rate = sample_total / reference_s
    bare_rate = total / bare_s
    print(json.dumps({
        "bench": "rules",
        "sensors": n,
        "readings": total,
        "readings_per_s": round(engine_rate),
        "reference_readings_per_s": round(reference_rate),
        "ratio_vs_naive": round(statistics.median(vs_naive), 1),
        "bare_numpy_readings_per_s": round(bare_rate),
        "ratio_vs_numpy": round(statistics.median(vs_numpy), 3),
        "transitions": transitions,
        "exact": bool(exact),
        "machine": machine(),
    }))


if __name__ == "__main__":
    main()
