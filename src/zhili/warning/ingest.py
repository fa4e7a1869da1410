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


@dataclass(frozen=True)
class SensorInfo:
    id: int
    code: str
    sensor_type: str
    category_id: int
    risk_point_id: int
    area_path: str
    active: bool
    key_hash: str


@dataclass
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


def sensors_by_code(codes) -> dict[str, SensorInfo]:
    """The sensors with these codes (unknown ones are absent). A sensor registered
    after this process started is found on its first reading."""
    with _sensors_lock:
        missing = [c for c in codes if c not in _sensors]
    if missing:
        rows = (Sensor.objects.filter(code__in=missing)
                .values_list("id", "code", "sensor_type", "risk_point__category_id",
                             "risk_point_id", "area_path", "active", "key_hash"))
        with _sensors_lock:
            for row in rows:
                _sensors[row[1]] = SensorInfo(*row)
    with _sensors_lock:
        return {c: _sensors[c] for c in codes if c in _sensors}


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
    known = sensors_by_code(list(by_sensor))
    for code, reasons in by_sensor.items():
        if code in known:
            SensorState.objects.bulk_create([SensorState(sensor_id=known[code].id,
                                                         since=[None] * LEVELS)],
                                            ignore_conflicts=True)
            SensorState.objects.filter(sensor_id=known[code].id).update(
                rejected=F("rejected") + sum(reasons.values()))


def _store(candidates: dict, now: datetime) -> list[tuple[SensorInfo, datetime, float]]:
    """INSERT … ON CONFLICT DO NOTHING; return the readings that were new."""
    table = Reading._meta.db_table
    items = list(candidates.items())
    partitions_ensure_for(moment for (_, moment) in candidates)
    new_ids: list[int] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Four array parameters per statement, whatever the batch's size: no
            # query text with thousands of placeholders to build and parse.
            for start in range(0, len(items), ARRAY_CHUNK):
                chunk = items[start:start + ARRAY_CHUNK]
                cursor.execute(
                    f"INSERT INTO {table} (sensor_id, at, value, received_at) "
                    "SELECT u.s, u.a, u.v, %s FROM unnest(%s::bigint[], %s::timestamptz[], "
                    "%s::float8[]) AS u (s, a, v) ON CONFLICT (sensor_id, at) DO NOTHING "
                    "RETURNING id",
                    [now, [k[0] for k, _ in chunk], [k[1] for k, _ in chunk],
                     [v for _, (_s, v) in chunk]])
                new_ids += [row[0] for row in cursor.fetchall()]
        else:
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


def _db_time(moment: datetime):
    return connection.ops.adapt_datetimefield_value(moment)


def _states_write(rows: list[SensorState]) -> None:
    """Write the changed states back. On PostgreSQL one UPDATE … FROM (VALUES …) per
    1,000 rows; elsewhere one UPDATE per row. (Django's bulk_update builds a CASE
    per field and row: at 500 rows it took seconds.)"""
    table = SensorState._meta.db_table
    values = [(row.sensor_id, row.level, json.dumps(row.since), row.last_t, row.last_x,
               row.silent) for row in rows]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(f"UPDATE {table} SET level = %s, since = %s, last_t = %s, "
                               "last_x = %s, silent = %s WHERE sensor_id = %s",
                               [v[1:] + v[:1] for v in values])
            return
        for start in range(0, len(values), 1000):
            chunk = values[start:start + 1000]
            cursor.execute(
                f"UPDATE {table} AS s SET level = v.level, since = v.since::jsonb, "
                "last_t = v.last_t, last_x = v.last_x, silent = v.silent FROM (VALUES "
                + ", ".join(["(%s::bigint, %s::smallint, %s::text, %s::float8, %s::float8, "
                             "%s::boolean)"] * len(chunk))
                + ") AS v (sensor_id, level, since, last_t, last_x, silent) "
                "WHERE s.sensor_id = v.sensor_id", [x for v in chunk for x in v])


def _evaluate(stored, now, report: IngestReport) -> None:
    """Run the rules over the new readings with the sensors' state locked."""
    by_id = {s.id: s for s, _, _ in stored}
    ids = sorted(by_id)
    # Only the missing states are created: an INSERT … ON CONFLICT of every state
    # on every batch cost more than the rules.
    have = set(SensorState.objects.filter(sensor_id__in=ids).values_list("sensor_id", flat=True))
    if len(have) < len(ids):
        SensorState.objects.bulk_create([SensorState(sensor_id=i, since=[None] * LEVELS)
                                         for i in ids if i not in have], ignore_conflicts=True)
    # Locked in id order, so two consumers with overlapping batches cannot deadlock.
    rows = list(SensorState.objects.select_for_update().filter(sensor_id__in=ids)
                .order_by("sensor_id"))
    local = {row.sensor_id: i for i, row in enumerate(rows)}
    infos = [by_id[row.sensor_id] for row in rows]
    rules = rule_set_for(infos)
    state = RuleState.empty(len(rows))
    for i, row in enumerate(rows):
        state.level[i] = row.level
        state.since[i] = [np.nan if t is None else t for t in (row.since or [None] * LEVELS)]
        state.last_t[i] = np.nan if row.last_t is None else row.last_t
        state.last_x[i] = np.nan if row.last_x is None else row.last_x
        state.silent[i] = row.silent
    sensor_idx = [local[s.id] for s, _, _ in stored]
    result = engine.evaluate(rules, state, sensor_idx, [m.timestamp() for _, m, _ in stored],
                             [v for _, _, v in stored])
    report.late += result.late
    late_by_sensor = Counter()
    if result.late:
        # Which sensors sent them: those whose reading times are not after their last state.
        for sensor, moment, _ in stored:
            row = rows[local[sensor.id]]
            if row.last_t is not None and moment.timestamp() <= row.last_t:
                late_by_sensor[sensor.id] += 1
    changed, resumed = [], []
    for i, row in enumerate(rows):
        if row.silent and not state.silent[i]:
            resumed.append((infos[i].code, datetime.fromtimestamp(float(state.last_t[i]), UTC)))
        since = [None if np.isnan(t) else float(t) for t in state.since[i]]
        last_t = None if np.isnan(state.last_t[i]) else float(state.last_t[i])
        last_x = None if np.isnan(state.last_x[i]) else float(state.last_x[i])
        if (row.level, row.since, row.last_t, row.last_x, row.silent) != \
                (int(state.level[i]), since, last_t, last_x, bool(state.silent[i])):
            row.level, row.since, row.last_t, row.last_x = int(state.level[i]), since, last_t, last_x
            row.silent = bool(state.silent[i])
            changed.append(row)
    if changed:
        _states_write(changed)
    for sensor_id, count in late_by_sensor.items():
        SensorState.objects.filter(sensor_id=sensor_id).update(late=F("late") + count)
    from zhili.warning.services import sensor_resumed

    for code, at in resumed:
        sensor_resumed(sensor_code=code, at=at)
    report.transitions = [(infos[s], t, old, new, v)
                          for s, t, old, new, v in result.transitions.as_tuples()]
