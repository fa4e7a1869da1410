"""Reaching the responsible persons: by tier and level, acknowledged from a link in
the SMS without a login, escalated when nobody acknowledges in time."""

from datetime import timedelta

import pytest
from django.test import override_settings

from zhili.notifications.acklinks import ack_token
from zhili.notifications.fanout import message_fanout_run
from zhili.notifications.models import Delivery, Message
from zhili.warning.ingest import RawReading, readings_ingest
from zhili.warning.models import Warning
from zhili.warning.reach import warnings_escalate_unacknowledged

pytestmark = pytest.mark.django_db
MIN = timedelta(minutes=1)


@pytest.fixture
def people(slope, street):
    """Owner and grid tier in the point's grid, a street tier in its street."""
    from zhili.registry.models import Person
    from zhili.warning.services import responsible_assign

    in_grid = list(Person.objects.filter(grid=slope.grid).exclude(phone="").order_by("id")[:2])
    in_street = (Person.objects.filter(area_path__startswith=street.path).exclude(phone="")
                 .exclude(pk__in=[p.pk for p in in_grid]).order_by("id").first())
    for tier, person in (("owner", in_grid[0]), ("grid", in_grid[1]), ("street", in_street)):
        responsible_assign(actor=None, risk_point=slope, tier=tier, person=person)
    return {"owner": in_grid[0], "grid": in_grid[1], "street": in_street}


def rain(t0, *values, start=0):
    return [RawReading("S-RAIN-1", (t0 + (start + i) * MIN).isoformat(), v)
            for i, v in enumerate(values)]


def sms_to(warning) -> set[int]:
    for message in Message.objects.filter(object_type="warning.warning",
                                          object_id=str(warning.pk)):
        message_fanout_run(message_id=message.pk)  # what the worker does
    return set(Delivery.objects.filter(message__object_type="warning.warning",
                                       message__object_id=str(warning.pk), channel="sms")
               .values_list("person_id", flat=True))


def test_a_blue_warning_reaches_the_owner_and_the_grid_tier(people, t0):
    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    assert warning.status == "notified"
    assert sms_to(warning) == {people["owner"].pk, people["grid"].pk}
    assert "notified" in warning.events.values_list("kind", flat=True)
    staff = Delivery.objects.filter(message__object_type="warning.warning",
                                    message__object_id=str(warning.pk), channel="inapp")
    assert staff.exists()  # the grid's role holders, in their inbox


def test_orange_reaches_the_street_tier_too(people, t0):
    readings_ingest(readings=rain(t0, 18, 55))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    assert sms_to(warning) == {people["owner"].pk, people["grid"].pk, people["street"].pk}


def test_the_link_in_the_sms_acknowledges_without_a_login(client, people, t0):
    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    sms_to(warning)
    delivery = Delivery.objects.filter(message__object_type="warning.warning",
                                       message__object_id=str(warning.pk), channel="sms").first()
    url = f"/n/ack/{ack_token(delivery.pk)}/"
    page = client.get(url)
    assert page.status_code == 200 and b"<form" in page.content  # a preview acknowledges nothing
    delivery.refresh_from_db()
    assert delivery.acknowledged_at is None
    assert client.post(url).status_code == 200
    warning.refresh_from_db()
    assert warning.status == "acknowledged"
    assert "acknowledged" in warning.events.values_list("kind", flat=True)
    assert client.post(url).status_code == 200  # again: nothing more happens
    assert warning.events.filter(kind="acknowledged").count() == 1


def test_a_forged_or_expired_link_is_refused(client, people, t0):
    readings_ingest(readings=rain(t0, 18))
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    sms_to(warning)
    delivery = Delivery.objects.filter(message__object_type="warning.warning",
                                       message__object_id=str(warning.pk), channel="sms").first()
    token = ack_token(delivery.pk)
    assert client.get(f"/n/ack/{token[:-3]}xyz/").status_code == 404
    assert client.post(f"/n/ack/{token[:-3]}xyz/").status_code == 404
    with override_settings(ZHILI_ACK_LINK_HOURS=-1):
        assert client.post(f"/n/ack/{token}/").status_code == 410
    delivery.refresh_from_db()
    assert delivery.acknowledged_at is None


def test_nobody_acknowledges_and_the_next_tier_is_told(people, t0):
    readings_ingest(readings=rain(t0, 18), now=t0 + MIN)
    warning = Warning.objects.get(condition="rule:S-RAIN-1")
    assert sms_to(warning) == {people["owner"].pk, people["grid"].pk}
    raised = warning.events.get(kind="notified").at
    assert warnings_escalate_unacknowledged(now=raised + 30 * MIN) == 0  # blue: an hour
    assert warnings_escalate_unacknowledged(now=raised + 61 * MIN) == 1
    assert warnings_escalate_unacknowledged(now=raised + 62 * MIN) == 0  # once per step
    assert people["street"].pk in sms_to(warning)
    assert warning.events.filter(kind="escalated").exists()
