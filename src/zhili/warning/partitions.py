"""Readings by month: range partitions on PostgreSQL, and the retention period.

On PostgreSQL `warning_reading` is partitioned by range of `at`, one partition
per calendar month (UTC), named `warning_reading_yYYYYmMM`. The table's
primary key is (id, at) in the database, because a partitioned table's unique
keys must contain the partition key; Django still sees `id` as the primary
key (ids come from one sequence, so they stay unique across partitions). The
idempotency key (sensor, at) contains `at` already and stays a real unique
constraint, so `INSERT … ON CONFLICT (sensor_id, at) DO NOTHING` works as
before, across batches and across partitions.

There is no DEFAULT partition: a reading whose month has no partition yet (a
late reading older than every partition, or the first reading of a month the
periodic job has not reached) gets its partition created just before it is
stored (`partitions_ensure_for`), under an advisory lock so two consumers do
not race. The periodic job creates the current month and MONTHS_AHEAD after
it, and enforces `ZHILI_READINGS_RETENTION_DAYS` by dropping whole partitions
whose every possible row is older than the retention cut-off (so up to a month
more than the retention is kept). A reading older than the retention is
refused at intake and counted on its sensor (ingest.py).

SQLite has no partitions: retention deletes the old rows.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

TABLE = "warning_reading"
MONTHS_AHEAD = 3
PARTITION = re.compile(rf"^{TABLE}_y(\d{{4}})m(\d{{2}})$")
LOCK_KEY = 0x7A68_0010  # pg_advisory_xact_lock key: creating or dropping reading partitions

_known: set[tuple[int, int]] = set()  # months this process has seen a partition for


def month_of(moment: datetime) -> tuple[int, int]:
    moment = moment.astimezone(UTC)
    return moment.year, moment.month


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def partition_name(year: int, month: int) -> str:
    return f"{TABLE}_y{year:04d}m{month:02d}"


def month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def is_partitioned() -> bool:
    """True when the readings table is a partitioned table (PostgreSQL after 0003)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def partitions_list(cursor=None) -> list[tuple[int, int]]:
    """The months that have a partition, oldest first."""
    def run(cur):
        cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = to_regclass(%s)", [TABLE])
        found = []
        for (name,) in cur.fetchall():
            match = PARTITION.match(name)
            if match:
                found.append((int(match[1]), int(match[2])))
        return sorted(found)

    if cursor is not None:
        return run(cursor)
    with connection.cursor() as cur:
        return run(cur)


def _create(cursor, year: int, month: int) -> None:
    upper = next_month(year, month)
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {partition_name(year, month)} PARTITION OF {TABLE} "
        f"FOR VALUES FROM ('{month_start(year, month).isoformat()}') "
        f"TO ('{month_start(*upper).isoformat()}')")


def partitions_create(cursor, months) -> list[tuple[int, int]]:
    """Create the missing partitions for these months (the caller's transaction,
    serialised by an advisory lock); return the months created."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
    existing = set(partitions_list(cursor))
    made = []
    for year, month in sorted(set(months) - existing):
        _create(cursor, year, month)
        made.append((year, month))
    return made


def partitions_ensure_for(moments) -> None:
    """Before storing readings: every month they fall in has a partition.

    Cheap when nothing is missing (a set lookup per month in this process);
    otherwise one advisory lock and a catalogue read, in the caller's
    transaction, so a rolled-back batch leaves no partition behind.
    """
    if connection.vendor != "postgresql":
        return
    months = {month_of(m) for m in moments} - _known
    if not months:
        return
    if not is_partitioned():
        return
    with connection.cursor() as cursor:
        partitions_create(cursor, months)
    # Remembered only once the transaction commits: a rollback also undoes the CREATE.
    transaction.on_commit(lambda: _known.update(months))


def known_clear() -> None:
    _known.clear()


def months_ahead(now: datetime, ahead: int = MONTHS_AHEAD) -> list[tuple[int, int]]:
    months = [month_of(now)]
    for _ in range(ahead):
        months.append(next_month(*months[-1]))
    return months


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def droppable(months, cutoff: datetime) -> list[tuple[int, int]]:
    """Months whose partition holds only readings older than the cut-off."""
    return [m for m in months if month_start(*next_month(*m)) <= cutoff]


def readings_partitions_maintain(*, now: datetime | None = None,
                                 retention_days: int | None = None) -> dict:
    """The periodic job's work: partitions ahead, retention enforced. Audited when
    it drops or deletes anything. Returns what it did."""
    from zhili.audit.services import audit_record
    from zhili.warning.ingest import retention_days as configured_retention
    from zhili.warning.models import Reading

    now = now or timezone.now()
    days = configured_retention() if retention_days is None else retention_days
    cutoff = retention_cutoff(now, days)
    done = {"created": [], "dropped": [], "deleted": 0}
    with transaction.atomic():
        if is_partitioned():
            with connection.cursor() as cursor:
                done["created"] = [partition_name(*m) for m in
                                   partitions_create(cursor, months_ahead(now))]
                old = droppable(partitions_list(cursor), cutoff)
                if old:  # a partition with deferred FK checks pending cannot be dropped
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for year, month in old:
                    cursor.execute(f"DROP TABLE {partition_name(year, month)}")
                    done["dropped"].append(partition_name(year, month))
                    _known.discard((year, month))
        else:
            done["deleted"], _ = Reading.objects.filter(at__lt=cutoff).delete()
        if done["dropped"] or done["deleted"]:
            audit_record(actor=None, action="warning.readings_retention",
                         object_type="warning.reading",
                         detail={"retention_days": days, "cutoff": cutoff.isoformat(),
                                 "dropped": done["dropped"], "deleted": done["deleted"]})
    return done
