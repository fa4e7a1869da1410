"""message_broadcast(): one message to every registry person a query selects, written
set-based chunk by chunk, idempotent, resumable, run as a queued task."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from zhili.audit.models import AuditEntry
from zhili.core import tasks_worker
from zhili.core.errors import ValidationFailed
from zhili.notifications import services
from zhili.notifications.models import Delivery, Message
from zhili.registry.models import Person


def persons_in(grid, count: int, prefix: str) -> list[int]:
    """Registry persons in bulk (a fan-out is about volume; registry services are not
    what is tested here)."""
    Person.objects.bulk_create(
        Person(id_number=f"{prefix}{i:08d}"[:18], name=f"居民{i}", phone=f"139{i:08d}",
               grid=grid, area_path=grid.path)
        for i in range(count))
    return list(Person.objects.filter(id_number__startswith=prefix).values_list("pk", flat=True))


def broadcast(actor, grid, prefix, dedupe="warning:flood:1", channels=("sms",)):
    return services.message_broadcast(
        actor=actor, recipients=Person.objects.filter(id_number__startswith=prefix),
        kind="warning.issued", title="暴雨红色预警", body="请立即转移", dedupe=dedupe,
        channels=channels)


def test_a_fanout_is_one_message_and_a_delivery_per_person_at_their_phone(city_admin, grid):
    ids = persons_in(grid, 120, "FANOUTA")
    message = broadcast(city_admin, grid, "FANOUTA")
    assert message.deliveries.count() == 0  # written by the worker, not by the caller
    inserted = services.message_fanout_run(message_id=message.pk, chunk=50)
    assert inserted == 120
    message.refresh_from_db()
    assert (message.fanout_state, message.fanout_count) == ("done", 120)
    rows = Delivery.objects.filter(message=message)
    assert sorted(rows.values_list("person_id", flat=True)) == sorted(ids)
    assert set(rows.values_list("user_id", flat=True)) == {None}
    first = Person.objects.get(pk=ids[0])
    assert rows.get(person_id=first.pk).address == first.phone
    assert AuditEntry.objects.filter(action="notification.broadcast",
                                     object_id=str(message.pk)).count() == 1


def test_a_fanout_stopped_halfway_continues_and_a_rerun_adds_nothing(city_admin, grid):
    persons_in(grid, 300, "FANOUTB")
    message = broadcast(city_admin, grid, "FANOUTB", channels=("sms", "wechat"))
    first = services.message_fanout_run(message_id=message.pk, chunk=100, stop_after=1)
    message.refresh_from_db()
    assert first == message.fanout_count == Delivery.objects.filter(message=message).count()
    assert message.fanout_state == "running" and 0 < first < 600
    # The runner "died": its lease runs out and the next run continues after the cursor.
    Message.objects.filter(pk=message.pk).update(fanout_lease_until=None)
    rest = services.message_fanout_run(message_id=message.pk, chunk=100)
    assert first + rest == 600  # 300 persons on two channels
    # Run from the start again: the unique indexes refuse every row.
    Message.objects.filter(pk=message.pk).update(fanout_state="running", fanout_cursor=0,
                                                 fanout_lease_until=None)
    assert services.message_fanout_run(message_id=message.pk, chunk=100) == 0
    assert Delivery.objects.filter(message=message).count() == 600


def test_a_runner_holding_the_lease_is_not_raced(city_admin, grid):
    persons_in(grid, 10, "FANOUTC")
    message = broadcast(city_admin, grid, "FANOUTC")
    services.message_fanout_run(message_id=message.pk, chunk=5, stop_after=1)  # holds the lease
    assert services.message_fanout_run(message_id=message.pk) == 0
    assert services.message_fanout_resume() == 0  # the lease has not run out


def test_the_same_broadcast_again_queues_nothing_new(city_admin, grid):
    persons_in(grid, 5, "FANOUTD")
    before = DBTaskResult.objects.count()
    one = broadcast(city_admin, grid, "FANOUTD")
    two = broadcast(city_admin, grid, "FANOUTD")
    assert one.pk == two.pk and DBTaskResult.objects.count() == before + 1


def test_the_worker_runs_the_fanout_task_and_delivers(city_admin, grid, caplog):
    persons_in(grid, 30, "FANOUTE")
    message = broadcast(city_admin, grid, "FANOUTE")
    tasks_worker.drain()
    rows = Delivery.objects.filter(message=message)
    assert rows.count() == 30 and set(rows.values_list("status", flat=True)) == {"sent"}


def test_a_broadcast_on_no_configured_channel_is_refused(city_admin, grid, settings):
    settings.ZHILI_NOTIFICATION_CHANNELS = {"inapp": "zhili.notifications.channels.InAppChannel"}
    with pytest.raises(ValidationFailed) as caught:
        broadcast(city_admin, grid, "FANOUTF", channels=("sms",))
    assert caught.value.errors[0].field == "channels"
    assert not Message.objects.filter(dedupe_key="warning:flood:1").exists()


def test_a_fanout_to_users_reaches_their_inbox(city_admin, resident, grid_worker):
    from zhili.accounts.models import User

    message = services.message_broadcast(
        actor=city_admin, recipients=User.objects.filter(pk__in=[resident.pk, grid_worker.pk]),
        kind="notice.city", title="全市演练通知", dedupe="notice:drill:1", channels=("inapp",),
        address_field=None)
    services.message_fanout_run(message_id=message.pk)
    assert set(Delivery.objects.filter(message=message).values_list("user_id", flat=True)) == \
        {resident.pk, grid_worker.pk}
