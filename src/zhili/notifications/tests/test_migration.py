"""Migration 0003: the old outbox's rows become messages and deliveries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

OLD = [("notifications", "0002_lean_indexes")]
NEW = [("notifications", "0003_messages_and_deliveries")]


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.fixture
def latest_after():
    """Back to the newest migrations afterwards: the seeded city is put back into the
    schema the other tests expect (on PostgreSQL row by row, so a constraint of an
    older schema would refuse rows the newer one allows)."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_old_outbox_rows_become_one_message_with_a_delivery_each(resident, grid_worker,
                                                                 reseed_after, latest_after):
    apps = migrate(OLD)
    Notification = apps.get_model("notifications", "Notification")
    now = timezone.now()
    for user, channel, status in ((resident, "inapp", "sent"), (resident, "sms", "pending"),
                                  (grid_worker, "inapp", "sent")):
        Notification.objects.create(
            recipient_id=user.pk, channel=channel, kind="case.assigned", title="新案件",
            object_type="governance.case", object_id="7", status=status, attempts=1,
            dedupe_key=f"case:7:v1:case.assigned|u{user.pk}|{channel}", created_at=now,
            read_at=now if user == grid_worker else None)
    apps = migrate(NEW)
    Message = apps.get_model("notifications", "Message")
    Delivery = apps.get_model("notifications", "Delivery")
    message = Message.objects.get(dedupe_key="case:7:v1:case.assigned")
    assert (message.kind, message.title, message.object_id) == ("case.assigned", "新案件", "7")
    rows = Delivery.objects.filter(message=message)
    assert sorted(rows.values_list("user_id", "channel", "status")) == sorted([
        (resident.pk, "inapp", "sent"), (resident.pk, "sms", "pending"),
        (grid_worker.pk, "inapp", "sent")])
    assert rows.get(user_id=grid_worker.pk).read_at is not None
