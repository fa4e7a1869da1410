"""Writes deferred to the COMMIT (core/atcommit.py) and reads prepared once (core/prepared.py).

These tests really commit (transactional), so the commit hook runs as in
production: on PostgreSQL the live event with its NOTIFY, the notification
with its deliveries and the audit row go in one pipeline with the COMMIT.
"""

import datetime as dt
import json

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from zhili.accounts.models import User
from zhili.audit.models import AuditEntry
from zhili.audit.services import audit_record
from zhili.cockpit.live import CHANNEL, publish
from zhili.cockpit.models import LiveEvent
from zhili.core import prepared
from zhili.notifications.models import Delivery, Message
from zhili.notifications.services import notify


def _listener():
    params = connection.get_connection_params()
    keys = ("host", "port", "user", "password", "dbname")
    con = psycopg.connect(" ".join(f"{k}={params[k]}" for k in keys if params.get(k)),
                          autocommit=True)
    con.execute(f"LISTEN {CHANNEL}")
    return con


@pytest.mark.django_db(transaction=True)
def test_deferred_writes_commit_with_the_transaction_and_only_then(reseed_after):
    user = User.objects.create(username="told")
    listener = _listener() if connection.vendor == "postgresql" else None
    try:
        with transaction.atomic():
            first = publish("case", 9001, "50/500103/")
            again = publish("case", 9001, "50/500103/")  # the same object: one event
            other = publish("warning", 7, "50/")
            notify(recipients=[user], kind="test.told", title="标题", body="正文",
                   dedupe="test:told", channels=("inapp",))
            entry = audit_record(actor=None, action="test.deferred", detail={"城": "渝中"})
            if connection.vendor == "postgresql":
                assert first.id is None and entry.pk is None  # waiting for the COMMIT
        assert LiveEvent.objects.filter(object_id="9001").count() == 1
        assert first.id and other.id and first.id < other.id
        assert again.id is None or again.id == first.id
        message = Message.objects.get(dedupe_key="test:told")
        assert (message.title, message.body) == ("标题", "正文")
        assert list(Delivery.objects.filter(message=message)
                    .values_list("user_id", "channel", "status")) == [(user.pk, "inapp", "pending")]
        assert AuditEntry.objects.get(pk=entry.pk).detail == {"城": "渝中"}
        if listener is not None:
            heard = [n.payload for n in listener.notifies(timeout=2, stop_after=2)]
            assert [json.loads(p) for p in heard] == [
                {"seq": first.id, "kind": "case", "id": "9001", "path": "50/500103/"},
                {"seq": other.id, "kind": "warning", "id": "7", "path": "50/"}]

        # Rolled back: nothing of it, and nothing carried into the next transaction.
        with pytest.raises(RuntimeError), transaction.atomic():
            publish("case", 9002, "50/")
            notify(recipients=[user], kind="test.gone", title="t", dedupe="test:gone")
            raise RuntimeError
        with transaction.atomic():
            User.objects.create(username="plain")
        assert not LiveEvent.objects.filter(object_id="9002").exists()
        assert not Message.objects.filter(dedupe_key="test:gone").exists()
        if listener is not None:
            assert list(listener.notifies(timeout=0.5)) == []

        if connection.vendor != "postgresql":
            return
        # A deferred write the database refuses fails the whole transaction.
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="must_not_stay")
            notify(recipients=[10**9], kind="test.nobody", title="t", dedupe="test:nobody")
        assert not User.objects.filter(username="must_not_stay").exists()
        assert not Message.objects.filter(dedupe_key="test:nobody").exists()
    finally:
        if listener is not None:
            listener.close()


@pytest.mark.django_db(transaction=True)
def test_a_prepared_read_is_typed_as_djangos_and_begins_the_transaction(reseed_after):
    if connection.vendor != "postgresql":  # a Django cursor's execute, nothing more
        assert prepared.fetch("test_typed", "SELECT %s, %s", [42, "渝中"]) == [(42, "渝中")]
        return
    sql = "SELECT %s::bigint, %s::text, now(), %s::timestamptz, %s::boolean"
    at = dt.datetime(2026, 12, 3, 8, 30, tzinfo=dt.UTC)
    params = [42, "渝中", at, True]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        expected = cursor.fetchall()
    rows = prepared.fetch("test_typed", sql, params)
    assert [r[:2] + r[3:] for r in rows] == [e[:2] + e[3:] for e in expected]
    assert isinstance(rows[0][2], dt.datetime) and rows[0][2].tzinfo is not None

    with transaction.atomic():
        started = prepared.fetch("test_now", "SELECT now()", [])[0][0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            assert cursor.fetchone()[0] == started  # the same transaction: BEGIN went first

    # A rolled-back transaction does not take the prepared statements with it.
    with pytest.raises(RuntimeError), transaction.atomic():
        prepared.fetch("test_now", "SELECT now()", [])
        raise RuntimeError
    assert prepared.fetch("test_typed", sql, params)[0][0] == 42
    # A read the database refuses is Django's error, and the connection goes on.
    with pytest.raises(Exception) as refused:
        prepared.fetch("test_bad", "SELECT 1 / %s::int", [0])
    assert "division by zero" in str(refused.value)
    assert prepared.fetch("test_typed", sql, params)[0][1] == "渝中"
