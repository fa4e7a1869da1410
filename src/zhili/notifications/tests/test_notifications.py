"""notify(): a message written once in the causing transaction with a delivery per
recipient and channel, delivered by the worker after the commit, retried with
back-off, pluggable channels, my inbox API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from zhili.core import tasks_worker
from zhili.notifications import services
from zhili.notifications.models import Delivery, Message


def rows(dedupe):
    return Delivery.objects.filter(message__dedupe_key__startswith=dedupe)


def test_written_once_per_recipient_and_channel(resident, grid_worker):
    for _ in range(3):  # a retried write, a re-run sweep
        services.notify(recipients=[resident, grid_worker.pk, None, resident], kind="test.hello",
                        title="你好", dedupe="test:once", channels=("inapp", "sms"))
    assert rows("test:once").count() == 4
    assert Message.objects.filter(dedupe_key="test:once").count() == 1  # stored once
    assert set(rows("test:once").values_list("channel", flat=True)) == {"inapp", "sms"}


def test_unconfigured_channel_is_skipped(resident, settings):
    settings.ZHILI_NOTIFICATION_CHANNELS = {"inapp": "zhili.notifications.channels.InAppChannel"}
    services.notify(recipients=[resident], kind="test.x", title="x", dedupe="test:skip",
                    channels=("inapp", "wechat"))
    assert list(rows("test:skip").values_list("channel", flat=True)) == ["inapp"]


def test_the_outbox_is_the_queue_and_the_worker_loop_delivers(resident):
    before = DBTaskResult.objects.count()
    with transaction.atomic():
        services.notify(recipients=[resident], kind="test.a", title="a", dedupe="test:c1")
        services.notify(recipients=[resident], kind="test.b", title="b", dedupe="test:c2")
    assert DBTaskResult.objects.count() == before  # no task row: the worker polls the rows
    tasks_worker.drain()
    assert set(rows("test:c").values_list("status", flat=True)) == {"sent"}


def test_rolled_back_change_notifies_nobody(resident, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.notify(recipients=[resident], kind="test.r", title="r",
                                dedupe="test:rollback")
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert not callbacks and not rows("test:rollback").exists()


def test_case_notification_is_delivered_after_commit(report, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = report(category="garbage")
    note = Delivery.objects.get(message__object_id=str(case.pk), message__kind="case.assigned")
    assert note.status == "pending"  # the worker has not run yet
    tasks_worker.drain()
    note.refresh_from_db()
    assert note.status == "sent" and note.sent_at and note.attempts == 1


def test_failing_channel_is_retried_with_backoff_then_given_up(resident, settings):
    services.notifications_deliver_pending()  # the seeded city's backlog goes out first
    settings.ZHILI_NOTIFICATION_CHANNELS = {
        "inapp": "zhili.notifications.channels.InAppChannel",
        "sms": "zhili.notifications.channels.FailingChannel",
    }
    services.notify(recipients=[resident], kind="test.f", title="f", dedupe="test:fail",
                    channels=("sms",))
    note = rows("test:fail").get()
    now = timezone.now()
    services.notifications_deliver_pending(now=now)
    note.refresh_from_db()
    assert note.status == "pending" and note.attempts == 1 and "unavailable" in note.last_error
    assert note.next_attempt_at == now + timedelta(seconds=30)
    # Not due yet: nothing is tried.
    services.notifications_deliver_pending(now=now + timedelta(seconds=10))
    note.refresh_from_db()
    assert note.attempts == 1
    moment = now
    for _ in range(services.MAX_ATTEMPTS):
        moment += timedelta(hours=2)
        services.notifications_deliver_pending(now=moment)
    note.refresh_from_db()
    assert note.status == "failed" and note.attempts == services.MAX_ATTEMPTS


def test_log_channel_writes_what_it_would_send(resident, caplog):
    import logging

    services.notify(recipients=[resident], kind="test.l", title="电线下垂", dedupe="test:log",
                    channels=("sms",))
    with caplog.at_level(logging.INFO, logger="zhili.notifications"):
        services.notifications_deliver_pending()
    assert any("[sms]" in r.message and "电线下垂" in r.message for r in caplog.records)


def test_the_outbox_poller_is_registered():
    from zhili.core import periodic

    periodic.load_all()
    assert "zhili.notifications.tasks.notifications_poll" in periodic.POLLERS


# -- my notifications API ----------------------------------------------------------


@pytest.mark.django_db
def test_my_notifications_list_and_mark_read(api, bearer, resident, grid_worker,
                                             django_assert_max_num_queries):
    for i in range(3):
        services.notify(recipients=[resident], kind="test.api", title=f"n{i}",
                        dedupe=f"test:api:{i}")
    services.notify(recipients=[grid_worker], kind="test.api", title="not yours",
                    dedupe="test:api:other")
    from django.urls import resolve

    from zhili.conftest import require

    mounted = resolve("/api/v1/notifications").url_name == "notifications_list"
    require(mounted, "the notifications router is not mounted at /api/v1/notifications yet")
    headers = bearer(resident)
    with django_assert_max_num_queries(6):
        response = api.get("/notifications", headers=headers)
    assert response.status_code == 200
    body = response.json()
    titles = [n["title"] for n in body["items"]]
    assert "not yours" not in titles and {"n0", "n1", "n2"} <= set(titles)
    unread = body["unread"]
    first = body["items"][0]["id"]
    assert api.post(f"/notifications/{first}/read", headers=headers).json() == {"marked": 1}
    assert api.get("/notifications/unread-count", headers=headers).json()["unread"] == unread - 1
    other = rows("test:api:other").get().pk
    # Another user's notification: the same 404 as a missing one.
    assert api.post(f"/notifications/{other}/read", headers=headers).status_code == 404
    assert api.post("/notifications/read-all", headers=headers).json()["marked"] == unread - 1
    assert api.get("/notifications", headers=headers, unread=True).json()["count"] == 0
    assert api.get("/notifications").status_code == 401
