"""Delivery: claimed and committed, sent outside any transaction call by call, each
outcome recorded before the next send; channels independent, rate-limited, backed
off; a dead worker's claim taken over; acknowledgements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from zhili.audit.models import AuditEntry
from zhili.core.errors import NotFound, ValidationFailed
from zhili.notifications import channels, services
from zhili.notifications.delivery import _claim
from zhili.notifications.models import Delivery
from zhili.notifications.tests import channels as test_channels

INAPP = "zhili.notifications.channels.InAppChannel"


@pytest.fixture
def quiet_backlog(db):
    """The seeded city's notifications go out first, so a test sees only its own."""
    services.notifications_deliver_pending()


def rows(dedupe):
    return Delivery.objects.filter(message__dedupe_key=dedupe)


def tell(users, dedupe, channels=("sms",)):
    return services.notify(recipients=users, kind="test.d", title="停水通知", dedupe=dedupe,
                           channels=channels)


def test_each_send_is_recorded_before_the_next_and_carries_its_key(quiet_backlog, resident,
                                                                  grid_worker, street_operator,
                                                                  settings):
    settings.ZHILI_NOTIFICATION_CHANNELS = {
        "sms": "zhili.notifications.tests.channels.RecordingChannel"}
    test_channels.SENT.clear()
    test_channels.RecordingChannel.seen_unrecorded.clear()
    tell([resident, grid_worker, street_operator], "test:each")
    assert services.notifications_deliver_pending() == 3
    assert test_channels.RecordingChannel.seen_unrecorded == []
    assert sorted(test_channels.SENT) == sorted(f"zhili-delivery-{pk}"
                                                for pk in rows("test:each").values_list("pk", flat=True))
    assert {(d.status, d.provider_ref) for d in rows("test:each")} == \
        {("sent", f"rec-{d.pk}") for d in rows("test:each")}


def test_a_raising_channel_does_not_stop_the_others(quiet_backlog, resident, grid_worker,
                                                    settings):
    settings.ZHILI_NOTIFICATION_CHANNELS = {
        "sms": "zhili.notifications.channels.FailingChannel",
        "inapp": INAPP, "wechat": "zhili.notifications.channels.LogChannel"}
    tell([resident, grid_worker], "test:raise", channels=("sms", "inapp", "wechat"))
    assert services.notifications_deliver_pending() == 4
    status = dict(rows("test:raise").values_list("channel", "status").distinct())
    assert status == {"sms": "pending", "inapp": "sent", "wechat": "sent"}
    # The failed call is retried later; the rest of the claim was handed back untried.
    assert sorted(rows("test:raise").filter(channel="sms").values_list("attempts", flat=True)) \
        == [0, 1]


def test_a_channel_that_hangs_times_out_and_the_others_go_on(quiet_backlog, resident, settings):
    settings.ZHILI_NOTIFICATION_CHANNELS = {
        "sms": "zhili.notifications.tests.channels.SlowChannel", "inapp": INAPP}
    tell([resident], "test:slow", channels=("sms", "inapp"))
    assert services.notifications_deliver_pending() == 1
    sms = rows("test:slow").get(channel="sms")
    assert sms.status == "pending" and "TimeoutError" in sms.last_error
    assert rows("test:slow").get(channel="inapp").status == "sent"
    # While the hung call has not come back, the channel is left alone.
    tell([resident], "test:slow2", channels=("sms",))
    services.notifications_deliver_pending(now=timezone.now() + timedelta(hours=2))
    assert rows("test:slow2").get().attempts == 0


def test_a_rate_limited_channel_sends_no_more_than_its_tokens(quiet_backlog, settings):
    from zhili.accounts.models import User

    settings.ZHILI_NOTIFICATION_CHANNELS = {
        "sms": {"backend": "zhili.notifications.channels.LogChannel", "rate": 3, "burst": 3}}
    users = list(User.objects.order_by("pk")[:10])
    tell(users, "test:rate")
    assert services.notifications_deliver_pending() == 3
    assert rows("test:rate").filter(status="sent").count() == 3


def test_an_undeliverable_address_fails_alone(quiet_backlog, resident, grid_worker, settings):
    settings.ZHILI_NOTIFICATION_CHANNELS = {
        "sms": "zhili.notifications.tests.channels.PickyChannel"}
    test_channels.PickyChannel.refused = resident.pk
    tell([resident, grid_worker], "test:picky")
    services.notifications_deliver_pending()
    assert dict(rows("test:picky").values_list("user_id", "status")) == {
        resident.pk: "failed", grid_worker.pk: "sent"}


def test_a_dead_workers_claim_falls_due_after_the_lease(quiet_backlog, resident):
    tell([resident], "test:lease")
    now = timezone.now()
    assert len(_claim("sms", now, 1000, [])) >= 1  # claimed, committed, then the worker died
    assert services.notifications_deliver_pending(now=now) == 0
    later = now + services.lease() + timedelta(seconds=1)
    assert services.notifications_deliver_pending(now=later) >= 1
    assert rows("test:lease").get().status == "sent" and rows("test:lease").get().attempts == 2


# -- acknowledgement ------------------------------------------------------------------


def test_acknowledging_my_delivery_is_audited_once(resident):
    tell([resident], "test:ack", channels=("inapp",))
    mine = rows("test:ack").get()
    acknowledged = services.delivery_acknowledge(delivery=mine.pk, actor=resident, via="inapp")
    assert acknowledged.acknowledged_at and acknowledged.acknowledged_via == "inapp"
    assert acknowledged.read_at == acknowledged.acknowledged_at
    services.delivery_acknowledge(delivery=mine.pk, actor=resident, via="api")
    assert AuditEntry.objects.filter(action="notification.acknowledge",
                                     object_id=str(mine.pk)).count() == 1
    assert rows("test:ack").get().acknowledged_via == "inapp"  # the first one counts


def test_nobody_acknowledges_anothers_delivery(resident, grid_worker):
    tell([grid_worker], "test:ack2", channels=("inapp",))
    theirs = rows("test:ack2").get()
    with pytest.raises(NotFound):
        services.delivery_acknowledge(delivery=theirs.pk, actor=resident, via="api")
    with pytest.raises(ValidationFailed):
        services.delivery_acknowledge(delivery=theirs.pk, actor=grid_worker, via="carrier-pigeon")
    assert rows("test:ack2").get().acknowledged_at is None


def test_a_person_without_a_login_acknowledges_through_the_channel(city_admin, grid):
    from zhili.notifications.tests.test_fanout import broadcast, persons_in

    persons_in(grid, 2, "ACKPERSON")
    message = broadcast(city_admin, grid, "ACKPERSON", dedupe="warning:ack:1")
    services.message_fanout_run(message_id=message.pk)
    delivery = Delivery.objects.filter(message=message).first()
    services.delivery_acknowledge(delivery=delivery, via="sms")  # an SMS reply "1"
    delivery.refresh_from_db()
    assert delivery.acknowledged_via == "sms"
    entry = AuditEntry.objects.get(action="notification.acknowledge", object_id=str(delivery.pk))
    assert entry.actor is None and entry.actor_label == "system"


def test_the_api_acknowledges_mine_only(api, bearer, resident, grid_worker):
    tell([resident], "test:ack3", channels=("inapp",))
    tell([grid_worker], "test:ack4", channels=("inapp",))
    mine, theirs = rows("test:ack3").get().pk, rows("test:ack4").get().pk
    headers = bearer(resident)
    response = api.post(f"/notifications/{mine}/acknowledge", headers=headers)
    assert response.status_code == 200 and response.json()["acknowledged_via"] == "api"
    assert api.post(f"/notifications/{theirs}/acknowledge", headers=headers).status_code == 404
    listed = api.get("/notifications", headers=headers).json()["items"]
    assert next(n for n in listed if n["id"] == mine)["acknowledged_at"]


def test_channel_options_come_from_the_setting(settings):
    settings.ZHILI_NOTIFICATION_CHANNELS = {
        "sms": {"backend": "zhili.notifications.channels.LogChannel", "rate": 50, "batch": 20}}
    sms = channels.channel_for("sms")
    assert (sms.rate, sms.batch, sms.bucket.capacity) == (50, 20, 50)


def test_the_log_and_the_admin_show_a_persons_phone_masked(city_admin, grid, client, caplog):
    import logging

    from zhili.notifications.tests.test_fanout import broadcast, persons_in

    persons_in(grid, 1, "MASKED")
    message = broadcast(city_admin, grid, "MASKED", dedupe="warning:masked")
    services.message_fanout_run(message_id=message.pk)
    delivery = Delivery.objects.get(message=message)
    with caplog.at_level(logging.INFO, logger="zhili.notifications"):
        services.notifications_deliver_pending()
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "139****0000" in logged and delivery.address not in logged
    city_admin.is_staff = city_admin.is_superuser = True
    city_admin.save()
    client.force_login(city_admin)
    page = client.get(f"/admin/notifications/delivery/{delivery.pk}/change/")
    assert page.status_code == 200 and delivery.address not in page.content.decode()


def test_a_channel_with_a_backlog_gives_the_others_their_turn(quiet_backlog, settings):
    from zhili.accounts.models import User

    settings.ZHILI_NOTIFICATION_CHANNEL_BUDGET = 0  # one batch per channel per call
    users = list(User.objects.order_by("pk")[:5])
    tell(users, "test:budget", channels=("sms", "inapp"))
    assert services.notifications_deliver_pending(batch=2) == 4  # two on each channel
    assert services.notifications_deliver_pending(batch=2) == 4


def test_a_claim_is_no_bigger_than_the_lease_lets_a_slow_channel_finish(quiet_backlog, settings):
    from zhili.accounts.models import User

    settings.ZHILI_NOTIFICATION_LEASE = 3
    settings.ZHILI_NOTIFICATION_CHANNELS = {
        "sms": {"backend": "zhili.notifications.channels.LogChannel", "timeout": 1, "batch": 1}}
    tell(list(User.objects.order_by("pk")[:10]), "test:leased")
    # Three calls of at most a second each fit in a three-second lease.
    assert services.notifications_deliver_pending(max_batches=1) == 3
