"""Readings by month: partitions on PostgreSQL, retention everywhere."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from zhili.warning import partitions as p
from zhili.warning.ingest import RawReading, readings_ingest
from zhili.warning.models import Reading, SensorState


def _ours():
    """The test's readings (the session's demo city has its own)."""
    return Reading.objects.filter(sensor__code__in=["S-RAIN-1", "S-DISP-1"])


def _partition_of(reading_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM warning_reading WHERE id = %s",
                       [reading_id])
        return cursor.fetchone()[0]


def test_month_arithmetic():
    assert p.next_month(2026, 12) == (2027, 1)
    assert p.months_ahead(datetime(2026, 11, 15, tzinfo=UTC), 2) == [(2026, 11), (2026, 12),
                                                                      (2027, 1)]
    cutoff = datetime(2026, 3, 1, tzinfo=UTC)
    assert p.droppable([(2026, 1), (2026, 2), (2026, 3)], cutoff) == [(2026, 1), (2026, 2)]
    assert p.partition_name(2026, 2) == "warning_reading_y2026m02"


@pytest.mark.postgres_only
def test_the_table_is_partitioned_with_months_ahead(db):
    assert p.is_partitioned()
    months = p.partitions_list()
    for month in p.months_ahead(timezone.now()):
        assert month in months


@pytest.mark.postgres_only
def test_a_reading_lands_in_its_month_and_an_old_month_gets_its_partition(slope, settings):
    settings.ZHILI_READINGS_RETENTION_DAYS = 400
    now = timezone.now()
    old = (now - timedelta(days=200)).replace(microsecond=0)
    assert p.month_of(old) not in p.partitions_list()
    report = readings_ingest(readings=[RawReading("S-RAIN-1", old.isoformat(), 1.0),
                                       RawReading("S-RAIN-1", now.isoformat(), 2.0)], now=now)
    assert report.stored == 2
    assert p.month_of(old) in p.partitions_list()
    by_value = dict(_ours().values_list("value", "id"))
    assert _partition_of(by_value[1.0]) == p.partition_name(*p.month_of(old))
    assert _partition_of(by_value[2.0]) == p.partition_name(*p.month_of(now))


@pytest.mark.postgres_only
def test_idempotent_on_sensor_and_time_across_batches_and_months(slope):
    now = timezone.now().replace(microsecond=0)
    batch = [RawReading("S-RAIN-1", (now - timedelta(days=d)).isoformat(), float(d))
             for d in (0, 40, 80)]
    assert readings_ingest(readings=batch, now=now).stored == 3
    again = readings_ingest(readings=batch, now=now)
    assert (again.stored, again.duplicates) == (0, 3)
    assert _ours().count() == 3


@pytest.mark.postgres_only
def test_retention_drops_whole_old_partitions(slope):
    now = timezone.now().replace(microsecond=0)
    readings_ingest(readings=[RawReading("S-RAIN-1", (now - timedelta(days=d)).isoformat(), 1.0)
                              for d in (0, 100, 200)], now=now)
    old_month = p.month_of(now - timedelta(days=200))
    assert old_month in p.partitions_list()
    done = p.readings_partitions_maintain(now=now, retention_days=150)
    assert p.partition_name(*old_month) in done["dropped"]
    assert old_month not in p.partitions_list()
    assert p.month_of(now) in p.partitions_list()
    assert _ours().count() == 2
    # Refused and counted at intake from now on, never stored into a dropped month.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("zhili.warning.ingest.retention_days", lambda: 150)
        late = readings_ingest(readings=[RawReading("S-RAIN-1",
                                                    (now - timedelta(days=200)).isoformat(), 3.0)],
                               now=now)
    assert late.rejected == {"time is older than the retention period": 1}
    assert SensorState.objects.get(sensor__code="S-RAIN-1").rejected == 1
    from zhili.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="warning.readings_retention").exists()


def test_retention_on_sqlite_deletes_old_rows(slope):
    if p.is_partitioned():
        pytest.skip("the PostgreSQL pass drops partitions (tested above)")
    now = timezone.now().replace(microsecond=0)
    readings_ingest(readings=[RawReading("S-RAIN-1", (now - timedelta(days=d)).isoformat(), 1.0)
                              for d in (0, 100, 200)], now=now)
    done = p.readings_partitions_maintain(now=now, retention_days=150)
    assert done["deleted"] == 1
    assert _ours().count() == 2


@pytest.mark.postgres_only
def test_the_migration_converts_a_filled_table_and_back(transactional_db, slope):
    from django.core.management import call_command

    now = timezone.now().replace(microsecond=0)
    readings_ingest(readings=[RawReading("S-RAIN-1", (now - timedelta(days=d)).isoformat(), 1.0)
                              for d in (0, 35, 70)], now=now)
    ids = sorted(_ours().values_list("id", flat=True))
    call_command("migrate", "warning", "0002", verbosity=0)
    assert not p.is_partitioned()
    assert sorted(_ours().values_list("id", flat=True)) == ids
    call_command("migrate", "warning", verbosity=0)
    assert p.is_partitioned()
    assert sorted(_ours().values_list("id", flat=True)) == ids
    fresh = readings_ingest(readings=[RawReading("S-RAIN-1", now.isoformat(), 1.0),
                                      RawReading("S-DISP-1", now.isoformat(), 1.0)], now=now)
    assert (fresh.stored, fresh.duplicates) == (1, 1)
    assert max(_ours().values_list("id", flat=True)) > max(ids)
