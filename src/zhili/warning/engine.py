"""Rule evaluation over batches of sensor readings, vectorised with numpy.

One rule per sensor (resolved beforehand from the rules on its sensor type,
risk category and risk point: the most specific wins). A rule has four
levels, 1 = blue (IV) … 4 = red (I), and for each level:

- a raise threshold on the value, and a lower clear threshold (hysteresis:
  a level holds until the value falls below its clear threshold);
- optionally a raise and a clear threshold on the rate of change (per minute);
- one duration for the rule: a level is raised only once its raise condition
  has held, reading after reading, for that many seconds ("for N minutes").

Rules "below" (a water level that must not fall) are the same rules on the
negated value. A level whose threshold is NaN is not used.

For each reading, in time order per sensor:

    u     = highest level whose raise condition holds (value or rate)
    since = for each level ≤ u, the time it has held since (kept from before)
    e     = highest level ≤ u held for at least the duration
    h     = highest level whose clear condition holds (value or rate), ≥ u
    level = min(max(previous level, e), h)

so a level rises once it is due, holds while above its clear line, and falls
at once to the level still held. Every change of level is a transition; the
warning services turn transitions into warnings (raise, level up or down,
clear).

Time only moves forward per sensor: a reading at or before the sensor's last
evaluated reading (late or out of order) is stored by the caller but not
evaluated, so replaying the same readings in any batching gives the same
transitions. `engine_reference.py` is the same semantics one reading at a
time in plain Python: tests hold the two equal, and the benchmark compares
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LEVELS = 4
_NO_TIME = np.nan


@dataclass
class RuleSet:
    """Rule parameters, one row per sensor (index = the sensor's dense index)."""

    sign: np.ndarray          # float64[n]: +1 for "above" rules, -1 for "below"
    raise_at: np.ndarray      # float64[n, 4]: value thresholds (in the rule's direction)
    clear_at: np.ndarray      # float64[n, 4]: ≤ raise_at
    rate_raise: np.ndarray    # float64[n, 4]: per-minute rate thresholds, NaN = unused
    rate_clear: np.ndarray    # float64[n, 4]
    duration_s: np.ndarray    # float64[n]
    silent_after_s: np.ndarray  # float64[n]: no reading for this long = silent; NaN = never
    version: int = 0  # bumped by set_rule: the engine's compiled thresholds follow it
    _compiled: tuple = field(default=(), repr=False, compare=False)
    _compiled_key: tuple = field(default=(), repr=False, compare=False)

    @classmethod
    def empty(cls, n: int) -> RuleSet:
        nan4 = np.full((n, LEVELS), np.nan)
        return cls(sign=np.ones(n), raise_at=nan4.copy(), clear_at=nan4.copy(),
                   rate_raise=nan4.copy(), rate_clear=nan4.copy(), duration_s=np.zeros(n),
                   silent_after_s=np.full(n, np.nan))

    @property
    def size(self) -> int:
        return len(self.sign)

    def set_rule(self, i: int, *, raise_at, clear_at=None, direction: str = "above",
                 rate_raise=None, rate_clear=None, duration_s: float = 0,
                 silent_after_s: float | None = None) -> None:
        """Set sensor i's rule from thresholds in the sensor's own unit (for tests,
        the demo and the loader): lists of four values, None for an unused level."""
        sign = -1.0 if direction == "below" else 1.0
        raise_row = _row(raise_at) * sign
        clear_row = raise_row if clear_at is None else _row(clear_at) * sign
        if np.any(clear_row > raise_row):
            raise ValueError("a clear threshold must not be past its raise threshold")
        used = raise_row[~np.isnan(raise_row)]
        if np.any(np.diff(used) < 0):
            raise ValueError("a higher level's threshold must not come before a lower one's")
        self.sign[i] = sign
        self.raise_at[i] = raise_row
        self.clear_at[i] = clear_row
        rate_row = _row(rate_raise) * sign
        self.rate_raise[i] = rate_row
        self.rate_clear[i] = rate_row if rate_clear is None else _row(rate_clear) * sign
        self.duration_s[i] = duration_s
        self.silent_after_s[i] = np.nan if silent_after_s is None else silent_after_s
        self.version += 1


def _row(values) -> np.ndarray:
    if values is None:
        return np.full(LEVELS, np.nan)
    row = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    if row.shape != (LEVELS,):
        raise ValueError(f"a rule has {LEVELS} levels (blue, yellow, orange, red)")
    return row


@dataclass
class RuleState:
    """What the engine remembers per sensor between batches (persisted by the caller)."""

    level: np.ndarray    # int8[n]
    since: np.ndarray    # float64[n, 4]: time each level's raise condition has held since
    last_t: np.ndarray   # float64[n]: time of the last evaluated reading, NaN = none yet
    last_x: np.ndarray   # float64[n]: its value, in the rule's direction
    silent: np.ndarray   # bool[n]

    @classmethod
    def empty(cls, n: int) -> RuleState:
        # Column-major: the engine reads and writes one level's column at a time.
        return cls(level=np.zeros(n, dtype=np.int8),
                   since=np.full((n, LEVELS), _NO_TIME, order="F"),
                   last_t=np.full(n, _NO_TIME), last_x=np.full(n, np.nan),
                   silent=np.zeros(n, dtype=bool))

    def copy(self) -> RuleState:
        return RuleState(self.level.copy(), self.since.copy(order="F"), self.last_t.copy(),
                         self.last_x.copy(), self.silent.copy())


@dataclass
class Transitions:
    """Level changes found in one batch, in time order per sensor."""

    sensor: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    t: np.ndarray = field(default_factory=lambda: np.empty(0))
    old: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int8))
    new: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int8))
    value: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __len__(self) -> int:
        return len(self.sensor)

    def as_tuples(self) -> list[tuple[int, float, int, int, float]]:
        return [(int(s), float(t), int(o), int(n), float(v)) for s, t, o, n, v
                in zip(self.sensor, self.t, self.old, self.new, self.value, strict=True)]


@dataclass
class BatchResult:
    transitions: Transitions
    evaluated: int   # readings that moved a sensor's state
    late: int        # readings at or before their sensor's last evaluated one
    invalid: int     # NaN or infinite values or times, unknown sensors


def _filled(thresholds: np.ndarray) -> np.ndarray:
    """Thresholds with each unused level (NaN) set to the next used one above it
    (+inf past the last), column-major. Used thresholds ascend, so the level a
    value reaches is then simply how many thresholds it passes."""
    out = np.where(np.isnan(thresholds), np.inf, thresholds)
    out = np.minimum.accumulate(out[:, ::-1], axis=1)[:, ::-1]
    return np.asfortranarray(out)


def _compiled(rules: RuleSet) -> tuple[np.ndarray, ...]:
    key = tuple(id(a) for a in (rules.raise_at, rules.clear_at, rules.rate_raise,
                                rules.rate_clear)) + (rules.version,)
    if rules._compiled_key != key:
        filled = tuple(_filled(a) for a in (rules.raise_at, rules.clear_at,
                                            rules.rate_raise, rules.rate_clear))
        has_rate = np.isfinite(filled[3][:, 0]) | np.isfinite(filled[2][:, 0])
        rules._compiled = filled + (has_rate,)
        rules._compiled_key = key
    return rules._compiled


def _count(x: np.ndarray, filled: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Per reading, how many of its sensor's thresholds x passes (its level)."""
    level = (x >= filled[:, 0].take(s)).astype(np.int8)
    for k in range(1, LEVELS):
        level += x >= filled[:, k].take(s)
    return level


def evaluate(rules: RuleSet, state: RuleState, sensor, t, value) -> BatchResult:
    """Evaluate a batch of readings (any order, any number per sensor), updating
    `state` in place; return the transitions."""
    sensor = np.asarray(sensor, dtype=np.int64)
    t = np.asarray(t, dtype=float)
    value = np.asarray(value, dtype=float)
    ok = np.isfinite(t) & np.isfinite(value) & (sensor >= 0) & (sensor < rules.size)
    invalid = int(len(sensor) - ok.sum())
    if invalid:
        sensor, t, value = sensor[ok], t[ok], value[ok]
    if len(sensor) == 0:
        return BatchResult(Transitions(), 0, 0, invalid)
    compiled = _compiled(rules)

    # Waves: wave w holds each sensor's w-th reading of the batch in time order,
    # so within a wave every sensor appears at most once and the state update is
    # a plain vectorised assignment. The usual batch (one reading per sensor)
    # is one wave and needs no sort.
    if np.bincount(sensor).max() == 1:
        waves = [(sensor, t, value)]
    else:
        order = np.lexsort((t, sensor))
        sensor, t, value = sensor[order], t[order], value[order]
        starts = np.flatnonzero(np.r_[True, sensor[1:] != sensor[:-1]])
        rank = np.arange(len(sensor)) - np.repeat(starts, np.diff(np.r_[starts, len(sensor)]))
        waves = []
        for wave in range(int(rank.max()) + 1):
            sel = rank == wave
            waves.append((sensor[sel], t[sel], value[sel]))

    found: list[tuple] = []
    evaluated = late = 0
    for s, tt, v in waves:
        fresh = ~(tt <= state.last_t.take(s))  # NaN last_t (never seen) compares False
        if not fresh.all():
            late += int((~fresh).sum())
            s, tt, v = s[fresh], tt[fresh], v[fresh]
        if len(s) == 0:
            continue
        evaluated += len(s)
        found_wave = _wave(rules, compiled, state, s, tt, v)
        if found_wave is not None:
            found.append(found_wave)

    if not found:
        return BatchResult(Transitions(), evaluated, late, invalid)
    parts = [np.concatenate(column) for column in zip(*found, strict=True)]
    by_time = np.lexsort((parts[1], parts[0]))
    return BatchResult(Transitions(*(p[by_time] for p in parts)), evaluated, late, invalid)


def _wave(rules, compiled, state, s, tt, v):
    """One reading for each sensor in `s`: update its state, return its changes."""
    raise_at, clear_at, rate_raise, rate_clear, has_rate = compiled
    x = v * rules.sign.take(s)
    up = _count(x, raise_at, s)
    held = _count(x, clear_at, s)
    rated = np.flatnonzero(has_rate.take(s))  # rate rules only where a sensor has one
    if len(rated):
        rs = s[rated]
        dt = tt[rated] - state.last_t.take(rs)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(dt > 0, (x[rated] - state.last_x.take(rs)) / dt * 60.0, np.nan)
        # NaN rates pass no threshold, so a first reading has no rate level.
        up[rated] = np.maximum(up[rated], _count(rate, rate_raise, rs))
        held[rated] = np.maximum(held[rated], _count(rate, rate_clear, rs))
    held = np.maximum(held, up)
    duration = rules.duration_s.take(s)
    # A level's raise condition holds since the first reading of an unbroken
    # run; the higher the level, the later (or same) its run began, so the
    # levels due for their duration are again a count.
    due = np.zeros(len(s), dtype=np.int8)
    for k in range(LEVELS):
        column = state.since[:, k]
        since = column.take(s)
        holds = up > k
        since = np.where(holds, np.where(np.isnan(since), tt, since), _NO_TIME)
        column[s] = since
        due += holds & (tt - since >= duration)
    old = state.level.take(s)
    new = np.minimum(np.maximum(old, due), held).astype(np.int8)
    state.level[s] = new
    state.last_t[s] = tt
    state.last_x[s] = x
    state.silent[s] = False
    changed = new != old
    if not changed.any():
        return None
    return s[changed], tt[changed], old[changed], new[changed], v[changed]


def silent_sensors(rules: RuleSet, state: RuleState, now: float) -> np.ndarray:
    """Sensors that have gone silent since the last sweep (the silent-sensor rule):
    no reading for longer than their rule allows. Marks them; returns their indices.
    A sensor that never reported is silent once it has a rule that says so and no
    reading: its clock starts at its first sweep (last_t set to `now`)."""
    never = np.isnan(state.last_t) & ~np.isnan(rules.silent_after_s)
    state.last_t[never] = now  # start the clock; not a reading, so last_x stays NaN
    overdue = (now - state.last_t) > rules.silent_after_s  # NaN rule compares False
    newly = overdue & ~state.silent
    state.silent[newly] = True
    return np.flatnonzero(newly)


def compound_levels(levels: np.ndarray, members: np.ndarray, group_starts: np.ndarray) -> np.ndarray:
    """The level of each compound condition ("rainfall and displacement" on one
    risk point): the lowest level among its member sensors, i.e. every member
    must be at that level or above. `members` lists sensor indices grouped by
    condition; `group_starts` is each group's first position in it."""
    if len(group_starts) == 0:
        return np.zeros(0, dtype=np.int8)
    return np.minimum.reduceat(levels[members], group_starts).astype(np.int8)
