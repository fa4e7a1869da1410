"""The dispatched team is told through the notifications outbox, in the dispatch's
transaction, and its acknowledgement shows on the incident's timeline; releasing the
team frees it on the map."""

from __future__ import annotations

import pytest

from zhili.audit.models import AuditEntry
from zhili.cockpit.tests.test_teams import dispatch, team
from zhili.emergency import services
from zhili.emergency.models import IncidentAssignment, RescueResource
from zhili.notifications.models import Delivery, Message

pytestmark = pytest.mark.django_db


def assigned(t) -> IncidentAssignment:
    return IncidentAssignment.objects.select_related("incident").get(resource=t)


@pytest.fixture
def leader(db):
    from zhili.accounts.models import User

    return User.objects.create_user(username="team_leader", password="x")


def test_the_team_is_told_where_and_how_far_and_acknowledges(api, bearer, grid, warning,
                                                             commander, leader, only_our_teams):
    t = team(grid, "T-TOLD")
    services.resource_members_set(actor=commander, resource=t, users=[leader])
    assert AuditEntry.objects.filter(action="rescue_resource.members").exists()

    r = dispatch(api, bearer(commander), "warnings", warning.number)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["notified"] == 2  # in-app and SMS to the one member
    assignment = IncidentAssignment.objects.get(incident__number=body["incident"])
    assert body["notified_to"] == "members"
    message = Message.objects.get(kind="incident.team_dispatched", object_id=str(assignment.pk))
    assert message.object_id == str(assignment.pk)
    # In the platform's language (zh-Hans): the incident, the warning, where, how long.
    assert body["incident"] in message.title and warning.number in message.body
    assert f"{assignment.incident.lon:.5f}" in message.body
    assert "分钟" in message.body or "min" in message.body
    assert message.link.startswith("/cockpit/?at=")
    deliveries = Delivery.objects.filter(message=message)
    assert sorted(deliveries.values_list("channel", flat=True)) == ["inapp", "sms"]
    assert set(deliveries.values_list("user_id", flat=True)) == {leader.pk}

    # The leader acknowledges in their inbox: audited, on the incident's timeline once.
    inapp = deliveries.get(channel="inapp")
    r = api.post(f"/notifications/{inapp.pk}/acknowledge", {}, headers=bearer(leader))
    assert r.status_code == 200, r.content
    sms = deliveries.get(channel="sms")
    assert api.post(f"/notifications/{sms.pk}/acknowledge", {},
                    headers=bearer(leader)).status_code == 200
    events = list(assignment.incident.events.values_list("kind", flat=True))
    assert events.count("acknowledged") == 1 and "team_notified" in events
    ack = AuditEntry.objects.filter(action="notification.acknowledge").first()
    assert ack.detail["incident"] == body["incident"] and ack.detail["resource"] == "T-TOLD"
    assert ack.area_path == assignment.incident.area_path

    from zhili.emergency.team_notice import notice_status

    status = notice_status([assignment])[assignment.pk]
    assert status["deliveries"] == 2 and status["acknowledged"] == 2
    # The incident's API and page show it beside the assignment.
    shown = api.get(f"/emergency/incidents/{body['incident']}", headers=bearer(commander)).json()
    assert shown["assignments"][0]["notice"]["acknowledged"] == 2
    from django.test import Client

    page = Client()
    page.force_login(commander)
    html = page.get(f"/emergency/incidents/{body['incident']}/").content.decode()
    assert "td class=\"notice\"" in html


def test_a_refused_dispatch_tells_nobody(api, bearer, grid, warning, commander, leader,
                                         only_our_teams):
    t = team(grid, "T-ONE")
    services.resource_members_set(actor=commander, resource=t, users=[leader])
    assert dispatch(api, bearer(commander), "warnings", warning.number).status_code == 200
    assert dispatch(api, bearer(commander), "warnings", warning.number).status_code == 409
    assert Message.objects.filter(kind="incident.team_dispatched",
                                  object_id=str(assigned(t).pk)).count() == 1
    assert Delivery.objects.filter(message__kind="incident.team_dispatched",
                                   message__object_id=str(assigned(t).pk)).count() == 2


def test_a_team_without_accounts_or_phone_is_sent_and_says_nobody_was_told(
        api, bearer, grid, warning, commander, only_our_teams):
    t = team(grid, "T-NOACC")
    before = Delivery.objects.count()
    r = dispatch(api, bearer(commander), "warnings", warning.number)
    assert r.status_code == 200, r.content
    assert r.json()["notified"] == 0 and r.json()["notified_to"] == ""
    assert not Message.objects.filter(kind="incident.team_dispatched",
                                      object_id=str(assigned(t).pk)).exists()
    assert Delivery.objects.count() == before
    kinds = list(assigned(t).incident.events.values_list("kind", flat=True))
    assert "assigned" in kinds and "team_notified" not in kinds
    shown = api.get(f"/emergency/incidents/{r.json()['incident']}", headers=bearer(commander))
    assert shown.json()["assignments"][0]["notice"] is None


def test_releasing_frees_the_team_on_the_map_and_it_can_be_sent_again(
        api, client, bearer, grid, warning, commander, only_our_teams):
    from zhili.emergency.incidents import incident_close
    from zhili.emergency.models import Incident

    team(grid, "T-BACK")
    number = dispatch(api, bearer(commander), "warnings", warning.number).json()["incident"]
    client.force_login(commander)

    def on_map():
        features = client.get("/emergency/layers/resources.geojson").json()["features"]
        return next(f["properties"] for f in features if f["properties"]["code"] == "T-BACK")

    assert on_map()["availability"] == "busy"
    r = api.post(f"/emergency/incidents/{number}/release", {"resource": "T-BACK"},
                 headers=bearer(commander))
    assert r.status_code == 200, r.content
    assert on_map()["availability"] == "available"
    # Free again: the button sends it again; closing the incident releases it.
    again = dispatch(api, bearer(commander), "incidents", number)
    assert again.status_code == 200 and again.json()["resource"]["code"] == "T-BACK"
    incident_close(actor=commander, incident=Incident.objects.get(number=number),
                   summary="处置完毕")
    assert RescueResource.objects.get(code="T-BACK").availability == "available"
    kinds = list(Incident.objects.get(number=number).events.values_list("kind", flat=True))
    assert kinds.count("released") == 2 and kinds[-1] == "closed"


def test_a_team_with_only_a_phone_is_texted_and_the_map_says_so(api, bearer, grid, warning,
                                                                commander, only_our_teams):
    t = team(grid, "T-PHONE", contact_name="李队长", contact_phone="138 0000 5678")
    r = dispatch(api, bearer(commander), "warnings", warning.number)
    assert r.status_code == 200, r.content
    assert r.json()["notified"] == 1 and r.json()["notified_to"] == "contact"
    sms = Delivery.objects.get(message__kind="incident.team_dispatched",
                               message__object_id=str(assigned(t).pk))
    assert (sms.channel, sms.address, sms.user_id, sms.person_id) == \
        ("sms", "13800005678", None, None)
    # The dispatch's audit row says whom it told, never the number.
    audit = AuditEntry.objects.get(action="incident.dispatch_nearest_team",
                                   object_id=str(assigned(t).incident.pk))
    assert audit.detail["notified_to"] == "contact" and "5678" not in str(audit.detail)
