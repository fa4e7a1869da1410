"""Readings in: checked, stored once, evaluated, turned into warnings, in one transaction.

Every transport (MQTT, the HTTP batch endpoint, the demo's replay) ends in
`readings_ingest()`. A reading is idempotent on (sensor, time): a redelivered
MQTT message or a retried batch stores nothing new and evaluates nothing
again. The sensors' rule state is read with a row lock and written back in the
same transaction as the readings, so several consumers may share the load
(an MQTT shared subscription hands one sensor's messages to any of them) and
a consumer killed mid-batch leaves neither readings nor state behind: the
broker redelivers and the batch runs again.

Late and out-of-order readings (at or before the newest reading the sensor's
rules have seen) are stored, counted per sensor, and not evaluated: rule state
only moves forward in time, so a replay gives the same warnings. A reading
older than the retention period is refused and counted on its sensor; one in a
month that has no partition yet (PostgreSQL) gets its partition first
(partitions.py).
"""

from __future__ import annotations

import json
import math
import sys
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from zhili.warning import engine
from zhili.warning.engine import LEVELS, RuleState
from zhili.warning.models import Reading, Sensor, SensorState
from zhili.warning.partitions import partitions_ensure_for
from zhili.warning.rules import rule_set_for

FUTURE_SLACK = timedelta(minutes=5)  # a device clock a little ahead is accepted
INSERT_CHUNK = 500
ARRAY_CHUNK = 20_000


@dataclass(frozen=True, slots=True)
class SensorInfo:
    id: int
    code: str
    sensor_type: str
    category_id: int
    risk_point_id: int
    area_path: str
    active: bool
    key_hash: str


@dataclass(slots=True)
class RawReading:
    sensor: str      # the sensor's code
    at: object       # ISO 8601 text, epoch seconds, or an aware datetime
    value: object


@dataclass
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    late: int = 0
    rejected: Counter = field(default_factory=Counter)          # reason -> count
    rejected_by_sensor: dict = field(default_factory=lambda: defaultdict(Counter))
    transitions: list = field(default_factory=list)              # (sensor code, t, old, new, value)
    warnings: list = field(default_factory=list)                 # warning numbers touched

    def reject(self, sensor: str, reason: str) -> None:
        self.rejected[reason] += 1
        self.rejected_by_sensor[sensor[:64]][reason] += 1

    def as_dict(self) -> dict:
        return {"stored": self.stored, "duplicates": self.duplicates, "late": self.late,
                "rejected": dict(self.rejected),
                "rejected_by_sensor": {k: dict(v) for k, v in self.rejected_by_sensor.items()},
                "warnings": self.warnings}


# ---------------------------------------------------------------- sensors, per process
_sensors: dict[str, SensorInfo] = {}
_sensors_lock = threading.Lock()


def sensors_cache_clear(**_):
    with _sensors_lock:
        _sensors.clear()


_SENSOR_FIELDS = ("id", "code", "sensor_type", "risk_point__category_id", "risk_point_id",
                  "area_path", "active", "key_hash")


def _sensor_info(row) -> SensorInfo:
    # Types and area paths repeat across sensors: one string each, not one per sensor.
    return SensorInfo(row[0], row[1], sys.intern(row[2]), row[3], row[4], sys.intern(row[5]),
                      row[6], row[7])


def sensors_by_code(codes) -> dict[str, SensorInfo]:
    """The sensors with these codes (unknown ones are absent). A sensor registered
    after this process started is found on its first reading."""
    with _sensors_lock:
        missing = [c for c in codes if c not in _sensors]
    if missing:
        rows = Sensor.objects.filter(code__in=missing).values_list(*_SENSOR_FIELDS)
        with _sensors_lock:
            for row in rows:
                _sensors[row[1]] = _sensor_info(row)
    with _sensors_lock:
        return {c: _sensors[c] for c in codes if c in _sensors}


def sensors_preload(chunk: int = 20_000) -> int:
    """Fill the cache with every sensor (a consumer does this once at start, so no
    window waits for a sensor query); returns how many. The cache reaches this size
    anyway once every sensor has reported."""
    rows = Sensor.objects.order_by().values_list(*_SENSOR_FIELDS).iterator(chunk_size=chunk)
    loaded = {row[1]: _sensor_info(row) for row in rows}
    with _sensors_lock:
        _sensors.update(loaded)
    return len(loaded)


# ---------------------------------------------------------------- checking one reading
def _moment(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else None
    return None


def retention_days() -> int:
    return int(getattr(settings, "ZHILI_READINGS_RETENTION_DAYS", 400))


def _checked(raw: RawReading, sensor: SensorInfo | None, now: datetime, report: IngestReport,
             oldest: datetime):
    """(sensor, moment, value) or None, counting the reason."""
    code = str(raw.sensor)
    if sensor is None:
        report.reject(code, "unknown sensor")
        return None
    if not sensor.active:
        report.reject(code, "sensor not active")
        return None
    value = raw.value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        report.reject(code, "value is not a finite number")
        return None
    moment = _moment(raw.at)
    if moment is None:
        report.reject(code, "time is not ISO 8601 with an offset, nor epoch seconds")
        return None
    if moment > now + FUTURE_SLACK:
        report.reject(code, "time is in the future")
        return None
    if moment < oldest:
        report.reject(code, "time is older than the retention period")
        return None
    return sensor, moment.replace(microsecond=moment.microsecond // 1000 * 1000), float(value)


# ---------------------------------------------------------------- the batch
def readings_ingest(*, readings: list[RawReading], now: datetime | None = None) -> IngestReport:
    """Check, store, evaluate and act on a batch of readings; return what happened."""
    from zhili.warning.services import warnings_apply

    now = now or timezone.now()
    report = IngestReport()
    sensors = sensors_by_code({str(r.sensor)[:64] for r in readings})
    oldest = now - timedelta(days=retention_days())
    candidates: dict[tuple[int, datetime], tuple[SensorInfo, float]] = {}
    for raw in readings:
        checked = _checked(raw, sensors.get(str(raw.sensor)[:64]), now, report, oldest)
        if checked is None:
            continue
        sensor, moment, value = checked
        if (sensor.id, moment) in candidates:
            report.duplicates += 1  # the same reading twice in one batch
            continue
        candidates[(sensor.id, moment)] = (sensor, value)
    if not candidates:
        rejects_record(report.rejected_by_sensor)
        return report

    with transaction.atomic():
        stored = _store(candidates, now)
        report.stored = len(stored)
        report.duplicates += len(candidates) - len(stored)
        if stored:
            _evaluate(stored, now, report)
            warnings_apply(report=report, now=now)
        rejects_record(report.rejected_by_sensor)
    return report


def rejects_record(by_sensor: dict) -> None:
    """Add rejected readings to their known sensors' counters (unknown codes are
    only reported: there is no row to count them on)."""
    if not by_sensor:
        return
    known = sensors_by_code(list(by_sensor))
    if connection.vendor == "postgresql":
        counts = {known[code].id: sum(reasons.values()) for code, reasons in by_sensor.items()
                  if code in known}
        if counts:
            ids = sorted(counts)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {SensorState._meta.db_table} AS s (sensor_id, level, since, "
                    "silent, rejected, late) SELECT u.i, 0, %s::jsonb, false, u.n, 0 FROM "
                    "unnest(%s::bigint[], %s::bigint[]) AS u (i, n) ON CONFLICT (sensor_id) "
                    "DO UPDATE SET rejected = s.rejected + excluded.rejected",
                    [json.dumps([None] * LEVELS), _array(ids), _array(counts[i] for i in ids)])
        return
    for code, reasons in by_sensor.items():
        if code in known:
            SensorState.objects.bulk_create([SensorState(sensor_id=known[code].id,
                                                         since=[None] * LEVELS)],
                                            ignore_conflicts=True)
            SensorState.objects.filter(sensor_id=known[code].id).update(
                rejected=F("rejected") + sum(reasons.values()))


def _array(values) -> str:
    """A PostgreSQL array literal of numbers or booleans, for one `%s::type[]`
    parameter: psycopg dumps a Python list element by element, which cost more
    than the statement; a joined string is one parameter parsed by the server."""
    return "{" + ",".join(map(str, values)) + "}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _store(candidates: dict, now: datetime) -> list[tuple[SensorInfo, datetime, float]]:
    """INSERT … ON CONFLICT DO NOTHING; return the readings that were new."""
    table = Reading._meta.db_table
    items = list(candidates.items())
    partitions_ensure_for(moment for (_, moment) in candidates)
    if connection.vendor == "postgresql":
        return _store_postgresql(table, items, now)
    new_ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(items), INSERT_CHUNK):
            chunk = items[start:start + INSERT_CHUNK]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            params = []
            for (sensor_id, moment), (_sensor, value) in chunk:
                params += [sensor_id, _db_time(moment), value, _db_time(now)]
            cursor.execute(
                f"INSERT INTO {table} (sensor_id, at, value, received_at) VALUES {values} "
                "ON CONFLICT (sensor_id, at) DO NOTHING RETURNING id", params)
            new_ids += [row[0] for row in cursor.fetchall()]
    if len(new_ids) == len(items):
        return [(sensor, moment, value) for (_, moment), (sensor, value) in items]
    fresh = set(Reading.objects.filter(id__in=new_ids).values_list("sensor_id", "at"))
    return [(sensor, moment, value) for (sid, moment), (sensor, value) in items
            if (sid, moment) in fresh]


def _store_postgresql(table, items, now):
    """One statement per ARRAY_CHUNK readings, three text parameters whatever the
    count: times go as epoch milliseconds (exact: readings keep milliseconds).
    It answers how many rows were new and, only when some were not (a
    redelivery), which ones, by their position in the chunk."""
    out = []
    with connection.cursor() as cursor:
        for start in range(0, len(items), ARRAY_CHUNK):
            chunk = items[start:start + ARRAY_CHUNK]
            cursor.execute(
                "WITH u AS (SELECT u.s, timestamptz 'epoch' + u.ms * interval '1 millisecond' AS a,"
                " u.v, u.i FROM unnest(%s::bigint[], %s::bigint[], %s::float8[]) WITH ORDINALITY"
                f" AS u (s, ms, v, i)), ins AS (INSERT INTO {table} (sensor_id, at, value,"
                " received_at) SELECT u.s, u.a, u.v, %s FROM u ON CONFLICT (sensor_id, at)"
                " DO NOTHING RETURNING sensor_id, at), n AS (SELECT count(*) AS n FROM ins)"
                " SELECT n.n, CASE WHEN n.n < %s THEN (SELECT string_agg(u.i::text, ',')"
                " FROM u JOIN ins ON ins.sensor_id = u.s AND ins.at = u.a) END FROM n",
                [_array(k[0] for k, _ in chunk),
                 _array((k[1] - _EPOCH) // _MS for k, _ in chunk),
                 _array(v for _, (_s, v) in chunk), now, len(chunk)])
            count, positions = cursor.fetchone()
            if count == len(chunk):
                out += [(sensor, moment, value) for (_, moment), (sensor, value) in chunk]
            elif count:
                for i in map(int, positions.split(",")):
                    (_, moment), (sensor, value) = chunk[i - 1]
                    out.append((sensor, moment, value))
    return out


def _db_time(moment: datetime):
    return connection.ops.adapt_datetimefield_value(moment)


_STATE_COLUMNS = "sensor_id, level, since, last_t, last_x, silent"


def sensor_states_lock(ids: list[int]) -> list[tuple]:
    """The rule states of these sensors, locked, in id order (so two consumers with
    overlapping windows cannot deadlock), created where missing; each row is
    (sensor_id, level, since as a list of four, last_t, last_x, silent)."""
    table = SensorState._meta.db_table
    if connection.vendor != "postgresql":
        have = set(SensorState.objects.filter(sensor_id__in=ids)
                   .values_list("sensor_id", flat=True))
        if len(have) < len(ids):
            SensorState.objects.bulk_create([SensorState(sensor_id=i, since=[None] * LEVELS)
                                             for i in ids if i not in have],
                                            ignore_conflicts=True)
        return list(SensorState.objects.select_for_update().filter(sensor_id__in=ids)
                    .order_by("sensor_id").values_list(*_STATE_COLUMNS.split(", ")))
    select = (f"SELECT {_STATE_COLUMNS} FROM {table} WHERE sensor_id = ANY(%s::bigint[]) "
              "ORDER BY sensor_id FOR UPDATE")
    with connection.cursor() as cursor:
        cursor.execute(select, [_array(ids)])
        rows = cursor.fetchall()
        if len(rows) < len(ids):
            # Only the missing states are created (a new sensor's first window): one
            # INSERT of every state on every window cost more than the rules.
            have = {row[0] for row in rows}
            missing = [i for i in ids if i not in have]
            empty = json.dumps([None] * LEVELS)
            cursor.execute(f"INSERT INTO {table} (sensor_id, level, since, silent, rejected, late)"
                           " SELECT u.i, 0, %s::jsonb, false, 0, 0 FROM unnest(%s::bigint[]) AS"
                           " u (i) ON CONFLICT (sensor_id) DO NOTHING RETURNING sensor_id",
                           [empty, _array(missing)])
            created = {row[0] for row in cursor.fetchall()}
            rows += [(i, 0, [None] * LEVELS, None, None, False) for i in created]
            raced = [i for i in missing if i not in created]  # another consumer made them
            if raced:
                cursor.execute(select, [_array(raced)])
                rows += cursor.fetchall()
            rows.sort()
    return [(i, level, json.loads(since) if isinstance(since, str) else since, t, x, silent)
            for i, level, since, t, x, silent in rows]


def _states_write(ids, state: RuleState, rows) -> None:
    """Write the changed states back (`rows` are positions in `ids` and `state`). On
    PostgreSQL one UPDATE … FROM unnest per window; elsewhere one UPDATE per row.
    (Django's bulk_update builds a CASE per field and row: at 500 rows it took
    seconds.)"""
    table = SensorState._meta.db_table
    since = state.since[rows]
    if connection.vendor != "postgresql":
        values = []
        for j, i in enumerate(rows.tolist()):
            values.append((int(state.level[i]),
                           json.dumps([None if math.isnan(t) else t for t in since[j].tolist()]),
                           _or_none(state.last_t[i]), _or_none(state.last_x[i]),
                           bool(state.silent[i]), ids[i]))
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET level = %s, since = %s, last_t = %s, "
                               "last_x = %s, silent = %s WHERE sensor_id = %s", values)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET level = v.level, since = jsonb_build_array("
            "nullif(v.s0, 'NaN'), nullif(v.s1, 'NaN'), nullif(v.s2, 'NaN'), nullif(v.s3, 'NaN')),"
            " last_t = nullif(v.t, 'NaN'), last_x = nullif(v.x, 'NaN'), silent = v.silent"
            " FROM unnest(%s::bigint[], %s::smallint[], %s::float8[], %s::float8[], %s::float8[],"
            " %s::float8[], %s::float8[], %s::float8[], %s::boolean[]) AS v (sensor_id, level,"
            " s0, s1, s2, s3, t, x, silent) WHERE s.sensor_id = v.sensor_id",
            [_array(ids[i] for i in rows.tolist()), _array(state.level[rows].tolist()),
             *(_array(since[:, k].tolist()) for k in range(LEVELS)),
             _array(state.last_t[rows].tolist()), _array(state.last_x[rows].tolist()),
             _array(state.silent[rows].tolist())])


def _or_none(value):
    value = float(value)
    return None if math.isnan(value) else value


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return ~same if same.ndim == 1 else ~same.all(axis=1)


def _evaluate(stored, now, report: IngestReport) -> None:
    """Run the rules over the new readings with the sensors' state locked."""
    by_id = {s.id: s for s, _, _ in stored}
    ids = sorted(by_id)
    rows = sensor_states_lock(ids)
    local = {row[0]: i for i, row in enumerate(rows)}
    infos = [by_id[row[0]] for row in rows]
    rules = rule_set_for(infos)
    state = RuleState.empty(len(rows))
    _, level, since, last_t, last_x, silent = zip(*rows, strict=True)
    state.level[:] = level
    state.since[:] = [s if len(s) == LEVELS else [None] * LEVELS for s in since]
    state.last_t[:] = last_t  # None is NaN in a float array
    state.last_x[:] = last_x
    state.silent[:] = silent
    before = state.copy()
    sensor_idx = [local[s.id] for s, _, _ in stored]
    times = [m.timestamp() for _, m, _ in stored]
    result = engine.evaluate(rules, state, sensor_idx, times, [v for _, _, v in stored])
    report.late += result.late
    late_by_sensor = Counter()
    if result.late:
        # Which sensors sent them: those whose reading times are not after their last state.
        for (sensor, _, _), t in zip(stored, times, strict=True):
            kept = before.last_t[local[sensor.id]]
            if not math.isnan(kept) and t <= kept:
                late_by_sensor[sensor.id] += 1
    changed = np.flatnonzero((before.level != state.level) | (before.silent != state.silent)
                             | _differs(before.last_t, state.last_t)
                             | _differs(before.last_x, state.last_x)
                             | _differs(before.since, state.since))
    if len(changed):
        _states_write([row[0] for row in rows], state, changed)
    if late_by_sensor:
        late_ids = sorted(late_by_sensor)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {SensorState._meta.db_table} AS s SET late = s.late + u.n"
                               " FROM unnest(%s::bigint[], %s::bigint[]) AS u (i, n)"
                               " WHERE s.sensor_id = u.i",
                               [_array(late_ids), _array(late_by_sensor[i] for i in late_ids)])
        else:
            for sensor_id in late_ids:
                SensorState.objects.filter(sensor_id=sensor_id).update(
                    late=F("late") + late_by_sensor[sensor_id])
    from zhili.warning.services import sensor_resumed

    for i in np.flatnonzero(before.silent & ~state.silent).tolist():
        sensor_resumed(sensor_code=infos[i].code,
                       at=datetime.fromtimestamp(float(state.last_t[i]), UTC))
    report.transitions = [(infos[s], t, old, new, v)
                          for s, t, old, new, v in result.transitions.as_tuples()]
