"""A team with no member account but a contact phone is told by one SMS to that phone:
queued with the assignment (a rolled-back or refused one tells nobody), sent by the
worker through the SMS channel, retried like any delivery, and acknowledged through
the link it carries, which puts "acknowledged" on the incident's timeline once. A
team with members is told as before; a team with neither is sent and told by nobody."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from zhili.audit.models import AuditEntry
from zhili.core.errors import Conflict
from zhili.emergency import incidents, services
from zhili.emergency.team_notice import KIND, notice_status
from zhili.notifications import channels
from zhili.notifications.models import Delivery
from zhili.notifications.services import notifications_deliver_pending
from zhili.notifications.tests import channels as test_channels

pytestmark = pytest.mark.django_db

PHONE = "13800005678"
MASKED = "138****5678"
KEEPING = "zhili.notifications.tests.channels.KeepingChannel"
INAPP = "zhili.notifications.channels.InAppChannel"


@pytest.fixture(autouse=True)
def gateway(settings):
    """SMS goes to a gateway that keeps what it was handed; the seeded city's own
    backlog is sent first, so a test sees only its own."""
    settings.ZHILI_NOTIFICATION_CHANNELS = {"sms": KEEPING, "inapp": INAPP}
    settings.ZHILI_SITE_URL = "https://zhili.example"
    channels.reset()
    notifications_deliver_pending()
    test_channels.HANDED.clear()
    yield test_channels.HANDED
    test_channels.HANDED.clear()
    channels.reset()


def team(grid, code, **fields):
    return services.resource_create(actor=None, code=code, name=f"测试{code}",
                                    kind="fire_station", lon=grid.centre_lon + 0.01,
                                    lat=grid.centre_lat, recompute=False, **fields)


def incident(actor, grid):
    return incidents.incident_open(actor=actor, title="化工厂火灾", severity="较大",
                                   lon=grid.centre_lon, lat=grid.centre_lat)


def sent_to(assignment):
    return Delivery.objects.filter(message__kind=KIND, message__object_id=str(assignment.pk))


def test_a_team_with_only_a_phone_gets_one_sms_with_a_link_that_acknowledges(
        grid, district_operator, gateway):
    t = team(grid, "T-SMS", contact_name="李队长", contact_phone=PHONE)
    inc = incident(district_operator, grid)
    assignment = incidents.incident_assign(actor=district_operator, incident=inc,
                                           resource_code="T-SMS")
    assert (assignment.notified, assignment.notified_to) == (1, "contact")
    sms = sent_to(assignment).get()
    assert (sms.channel, sms.address, sms.user_id, sms.person_id, sms.status) == \
        ("sms", PHONE, None, None, "pending")
    assert str(sms).endswith(f"{MASKED} (sms, pending)")  # the admin and logs mask it
    kinds = list(inc.events.values_list("kind", flat=True))
    assert kinds == ["opened", "assigned", "team_notified"]
    notified = inc.events.get(kind="team_notified")
    assert notified.data["to"] == "contact" and PHONE not in str(notified.data)

    # The worker sends it after commit, through the SMS channel: marked sent.
    assert notifications_deliver_pending() == 1
    sms.refresh_from_db()
    assert sms.status == "sent" and sms.provider_ref == f"keep-{sms.pk}"
    [handed] = gateway
    assert handed.address == PHONE and handed.user_id is None and handed.person_id is None
    assert t.name in handed.title and inc.number in handed.body
    assert handed.link.startswith("https://zhili.example/n/ack/") and "{ack}" not in handed.link
    assert notice_status([assignment])[assignment.pk] == {
        "deliveries": 1, "sent": 1, "failed": 0, "acknowledged": 0, "contact": 1}

    # Whoever holds the phone opens the link (no login): a GET asks, a POST acknowledges.
    path = handed.link.removeprefix("https://zhili.example")
    phone = Client()
    page = phone.get(path)
    assert page.status_code == 200 and inc.number in page.content.decode()
    assert not inc.events.filter(kind="acknowledged").exists()
    assert phone.post(path).status_code == 200
    assert phone.post(path).status_code == 200  # a second press changes nothing
    acks = list(inc.events.filter(kind="acknowledged"))
    assert len(acks) == 1 and acks[0].actor is None
    assert acks[0].data == {"resource": "T-SMS", "assignment": assignment.pk,
                            "delivery": sms.pk, "via": "link", "by": "contact"}
    entry = AuditEntry.objects.get(action="notification.acknowledge", object_id=str(sms.pk))
    assert entry.actor is None and entry.detail["incident"] == inc.number
    assert entry.area_path == inc.area_path and PHONE not in str(entry.detail)
    assert notice_status([assignment])[assignment.pk]["acknowledged"] == 1


def test_the_incident_page_and_api_show_the_phones_sms_masked_nowhere_in_full(
        api, bearer, grid, district_operator):
    team(grid, "T-SHOW", contact_phone=PHONE)
    inc = incident(district_operator, grid)
    incidents.incident_assign(actor=district_operator, incident=inc, resource_code="T-SHOW")
    shown = api.get(f"/emergency/incidents/{inc.number}", headers=bearer(district_operator))
    assert shown.status_code == 200
    notice = shown.json()["assignments"][0]["notice"]
    assert notice == {"deliveries": 1, "sent": 0, "failed": 0, "acknowledged": 0, "contact": 1}
    assert PHONE not in shown.content.decode()
    page = Client()
    page.force_login(district_operator)
    html = page.get(f"/emergency/incidents/{inc.number}/").content.decode()
    assert 'class="notice-contact"' in html and PHONE not in html


def test_a_failing_gateway_retries_the_phones_sms_like_any_delivery(grid, district_operator,
                                                                   settings):
    settings.ZHILI_NOTIFICATION_CHANNELS = {
        "sms": "zhili.notifications.channels.FailingChannel", "inapp": INAPP}
    channels.reset()
    team(grid, "T-RETRY", contact_phone=PHONE)
    assignment = incidents.incident_assign(actor=district_operator,
                                           incident=incident(district_operator, grid),
                                           resource_code="T-RETRY")
    assert notifications_deliver_pending() == 0
    sms = sent_to(assignment).get()
    assert (sms.status, sms.attempts) == ("pending", 1) and "unavailable" in sms.last_error
    assert sms.next_attempt_at > sms.message.created_at  # backed off, due again later


def test_a_rolled_back_or_refused_assignment_texts_nobody(grid, district_operator):
    team(grid, "T-BACK", contact_phone=PHONE)
    inc = incident(district_operator, grid)
    before = Delivery.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        incidents.incident_assign(actor=district_operator, incident=inc, resource_code="T-BACK")
        raise RuntimeError("the caller's transaction fails after the assignment")
    assert Delivery.objects.count() == before
    assert not Delivery.objects.filter(address=PHONE).exists()

    services.resource_set_availability(actor=district_operator,
                                       resource=services.RescueResource.objects.get(code="T-BACK"),
                                       availability="off_duty")
    with pytest.raises(Conflict):
        incidents.incident_assign(actor=district_operator, incident=inc, resource_code="T-BACK")
    assert Delivery.objects.count() == before


def test_a_team_with_members_is_told_as_before_and_its_phone_is_not_texted(
        grid, district_operator, resident):
    t = team(grid, "T-MEM", contact_phone=PHONE)
    services.resource_members_set(actor=None, resource=t, users=[resident])
    assignment = incidents.incident_assign(actor=district_operator,
                                           incident=incident(district_operator, grid),
                                           resource_code="T-MEM")
    assert (assignment.notified, assignment.notified_to) == (2, "members")
    rows = sent_to(assignment)
    assert sorted(rows.values_list("channel", "user_id", "address")) == \
        [("inapp", resident.pk, ""), ("sms", resident.pk, "")]
    assert not Delivery.objects.filter(address=PHONE).exists()


def test_a_team_whose_members_are_all_inactive_is_texted_at_its_phone(
        grid, district_operator, resident):
    t = team(grid, "T-GONE", contact_phone=PHONE)
    services.resource_members_set(actor=None, resource=t, users=[resident])
    type(resident).objects.filter(pk=resident.pk).update(is_active=False)
    assignment = incidents.incident_assign(actor=district_operator,
                                           incident=incident(district_operator, grid),
                                           resource_code="T-GONE")
    assert assignment.notified_to == "contact"
    assert list(sent_to(assignment).values_list("address", "user_id")) == [(PHONE, None)]


@pytest.mark.parametrize("phone", ["", "无", "12-34"])
def test_a_team_with_neither_members_nor_a_phone_is_sent_and_told_by_nobody(
        grid, district_operator, phone):
    team(grid, "T-NONE", contact_phone=phone)
    inc = incident(district_operator, grid)
    before = Delivery.objects.count()
    assignment = incidents.incident_assign(actor=district_operator, incident=inc,
                                           resource_code="T-NONE")
    assert (assignment.notified, assignment.notified_to) == (0, "")
    assert Delivery.objects.count() == before
    assert list(inc.events.values_list("kind", flat=True)) == ["opened", "assigned"]
    assert notice_status([assignment]) == {}
