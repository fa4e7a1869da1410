"""One click from a warning or an incident sends the nearest free rescue team by travel time
on the road network: the assignment lands on the incident (opened from the warning if none
is open) with its arrival time, audited, in the dispatcher's area only."""

from __future__ import annotations

import pytest

from zhili.audit.models import AuditEntry
from zhili.emergency import services
from zhili.emergency.models import Incident, IncidentAssignment, RescueResource
from zhili.emergency.routing import travel_seconds

pytestmark = pytest.mark.django_db


def team(grid, code, kind="fire_station", at=None, **fields):
    """A team at `at` (lon, lat), or at a fresh spot inside the grid."""
    from zhili.cockpit.tests.conftest import spot

    lon, lat = at or spot(grid)
    return services.resource_create(actor=None, code=code, name=f"队伍{code}", kind=kind,
                                    lon=lon, lat=lat, recompute=False, **fields)


def dispatch(api, headers, kind, number, body=None):
    return api.post(f"/cockpit/{kind}/{number}/dispatch-team", body or {}, headers=headers)


def test_from_a_warning_the_nearest_team_by_road_is_sent_and_an_incident_opened(
        api, bearer, grid, other_grid, warning, commander, only_our_teams):
    near = team(grid, "T-NEAR")
    far = team(other_grid, "T-FAR", at=(other_grid.centre_lon, other_grid.centre_lat))
    walkers = team(grid, "T-WALK", kind="responder_group")
    team(grid, "T-AIR", kind="air_base")  # not a team: air is not dispatched here
    point = (warning.risk_point.lon, warning.risk_point.lat)
    expected = {t.code: float(travel_seconds([(t.lon, t.lat)], point, mode)[0])
                for t, mode in ((near, "drive"), (far, "drive"), (walkers, "walk"))}
    best = min(expected, key=expected.get)

    r = dispatch(api, bearer(commander), "warnings", warning.number)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["opened"] is True and body["resource"]["code"] == best
    assert body["candidates"] == 3
    assert body["eta_seconds"] == pytest.approx(expected[best], abs=0.1)
    assert body["arrival_at"] and body["resource"]["rescue_class"] in ("ground", "responders")
    incident = Incident.objects.get(number=body["incident"])
    assert incident.warning == warning and incident.status == "open"
    assignment = IncidentAssignment.objects.get(incident=incident)
    assert assignment.resource.code == best and assignment.eta_seconds == pytest.approx(
        expected[best], abs=0.1)
    assert RescueResource.objects.get(code=best).availability == "busy"
    assert AuditEntry.objects.filter(action="incident.dispatch_nearest_team",
                                     object_id=str(incident.pk), actor=commander).exists()

    assert list(incident.events.values_list("kind", flat=True)) == ["opened", "assigned"]

    # A second click while that team is on its way: already dispatched, a 409, nothing
    # changed, no second incident.
    again = dispatch(api, bearer(commander), "warnings", warning.number)
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert incident.number in again.json()["detail"]
    assert IncidentAssignment.objects.filter(incident=incident).count() == 1
    assert Incident.objects.filter(warning=warning).count() == 1


def test_from_an_incident_and_by_class(api, bearer, grid, commander, only_our_teams):
    from zhili.emergency.incidents import incident_open

    incident = incident_open(actor=commander, title="化工厂火灾", severity="II",
                             lon=grid.centre_lon, lat=grid.centre_lat)
    team(grid, "T-DRIVE")
    team(grid, "T-FEET", kind="responder_group")
    r = dispatch(api, bearer(commander), "incidents", incident.number, {"class": "ground"})
    assert r.status_code == 200, r.content
    assert r.json()["resource"]["code"] == "T-DRIVE" and r.json()["mode"] == "drive"
    assert r.json()["opened"] is False and r.json()["candidates"] == 1
    r = dispatch(api, bearer(commander), "incidents", incident.number, {"class": "responders"})
    assert r.json()["resource"]["code"] == "T-FEET" and r.json()["mode"] == "walk"
    # Every team busy now: a clear 409, nothing changed.
    before = IncidentAssignment.objects.count()
    r = dispatch(api, bearer(commander), "incidents", incident.number)
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert IncidentAssignment.objects.count() == before


def test_no_free_team_from_a_warning_opens_nothing(api, bearer, warning, commander,
                                                   only_our_teams):
    r = dispatch(api, bearer(commander), "warnings", warning.number)
    assert r.status_code == 409, r.content
    assert not Incident.objects.filter(warning=warning).exists()


def test_bad_input_is_a_4xx_and_changes_nothing(api, client, bearer, grid, warning, commander,
                                                only_our_teams):
    team(grid, "T-1")
    r = dispatch(api, bearer(commander), "warnings", warning.number, {"class": "air"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "class"
    assert dispatch(api, bearer(commander), "warnings", "W-NOPE").status_code == 404
    assert dispatch(api, bearer(commander), "incidents", "x" * 300).status_code == 404
    r = client.post(f"/api/v1/cockpit/warnings/{warning.number}/dispatch-team", "not json",
                    content_type="application/json", headers=bearer(commander))
    assert 400 <= r.status_code < 500
    r = dispatch(api, bearer(commander), "warnings", warning.number, {"class": ["ground"]})
    assert r.status_code == 422
    assert not Incident.objects.filter(warning=warning).exists()
    assert RescueResource.objects.get(code="T-1").availability == "available"


def test_a_closed_warning_or_incident_is_a_409(api, bearer, grid, warning, commander,
                                               only_our_teams):
    from zhili.emergency.incidents import incident_close, incident_open

    team(grid, "T-1")
    incident = incident_open(actor=commander, title="已处置", severity="IV",
                             lon=grid.centre_lon, lat=grid.centre_lat)
    incident_close(actor=commander, incident=incident, summary="处置完毕")
    assert dispatch(api, bearer(commander), "incidents", incident.number).status_code == 409
    from zhili.warning.models import Warning

    Warning.objects.filter(pk=warning.pk).update(status="closed")
    r = dispatch(api, bearer(commander), "warnings", warning.number)
    assert r.status_code == 409 and r.json()["code"] == "invalid-transition"


def test_three_ways(api, bearer, grid, other_street, warning, commander, street_operator,
                    resident, only_our_teams):
    from zhili.accounts.models import User
    from zhili.accounts.services import role_assign

    team(grid, "T-1")
    # Without the permission: a street operator sees warnings but dispatches no team.
    r = dispatch(api, bearer(street_operator), "warnings", warning.number)
    assert r.status_code == 403, r.content
    assert dispatch(api, bearer(resident), "warnings", warning.number).status_code in (403, 404)
    # With it, for another area: the warning is not theirs (the same 404 as missing).
    elsewhere = User.objects.create_user(username="commander_elsewhere", password="x")
    role_assign(user=elsewhere, role="emergency_commander", area=other_street)
    assert not elsewhere.has_perm_in("warning.view_warning", grid.path)
    assert dispatch(api, bearer(elsewhere), "warnings", warning.number).status_code == 404
    assert not Incident.objects.filter(warning=warning).exists()
    # With it, in the area.
    assert dispatch(api, bearer(commander), "warnings", warning.number).status_code == 200


def test_the_map_offers_the_team_dispatch_to_those_who_may(client, commander, street_operator):
    import json

    client.force_login(commander)
    page = client.get("/cockpit/")
    config = json.loads(page.content.decode().split('id="cockpit-config" type="application/json">')[1]
                        .split("</script>")[0])
    assert config["dispatchTeam"].endswith("/cockpit/{kind}/{number}/dispatch-team")
    client.force_login(street_operator)
    page = client.get("/cockpit/")
    assert '"dispatchTeam": null' in page.content.decode()


def test_the_risk_point_layer_names_its_open_warning(client, warning, commander):
    client.force_login(commander)
    body = client.get("/warning/layers/points.geojson").json()
    mine = [f for f in body["features"] if f["properties"]["code"] == "RP-TEAM-1"]
    assert mine and mine[0]["properties"]["warning"] == warning.number


def test_an_incident_out_of_scope_is_a_404_and_changes_nothing(api, bearer, grid, other_street,
                                                               commander, only_our_teams):
    from zhili.accounts.models import User
    from zhili.accounts.services import role_assign
    from zhili.emergency.incidents import incident_open

    incident = incident_open(actor=commander, title="不在辖区", severity="III",
                             lon=grid.centre_lon, lat=grid.centre_lat)
    team(grid, "T-1")
    elsewhere = User.objects.create_user(username="commander_far", password="x")
    role_assign(user=elsewhere, role="emergency_commander", area=other_street)
    r = dispatch(api, bearer(elsewhere), "incidents", incident.number)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/problem+json")
    assert not IncidentAssignment.objects.filter(incident=incident).exists()
    assert RescueResource.objects.get(code="T-1").availability == "available"
