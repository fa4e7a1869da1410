"""Incidents: open (warning, case, by hand), assign with ETA, busy once, close, bad input,
three-way permissions, API, pages, the map layer and its query counts."""

import json

import pytest

from zhili.audit.models import AuditEntry
from zhili.core.errors import Conflict, NotFound, OutsideCity, PermissionDenied, ValidationFailed
from zhili.core.tests.queries import assert_flat, items
from zhili.emergency import incidents, services
from zhili.emergency.models import Incident, IncidentEvent, RescueResource
from zhili.emergency.routing import travel_seconds

pytestmark = pytest.mark.django_db


def resource(grid, code, kind="fire_station", dlon=0.01, **fields):
    return services.resource_create(actor=None, code=code, name=f"测试{code}", kind=kind,
                                    lon=grid.centre_lon + dlon, lat=grid.centre_lat,
                                    recompute=False, **fields)


def by_hand(actor, grid, **fields):
    values = dict(title="化工厂火灾", severity="较大", lon=grid.centre_lon, lat=grid.centre_lat)
    values.update(fields)
    return incidents.incident_open(actor=actor, **values)


@pytest.fixture
def catalogue(db):
    from zhili.governance.catalogue import category_seed
    from zhili.warning.catalogue import catalogue_seed

    category_seed()
    catalogue_seed()


def test_open_by_hand_locates_audits_and_writes_the_timeline(grid, district_operator):
    incident = by_hand(district_operator, grid)
    assert incident.severity == 3 and incident.grid == grid and incident.area_path == grid.path
    assert incident.source == "manual" and incident.status == "open"
    assert list(incident.events.values_list("kind", flat=True)) == ["opened"]
    assert AuditEntry.objects.filter(action="incident.open", object_id=str(incident.pk)).exists()
    for word, value in (("I", 1), ("iv", 4), ("especially major", 1), ("一般", 4), (2, 2)):
        assert incidents.severity_parse(word) == value


def test_open_from_a_warning_takes_its_point_and_level(catalogue, grid, district_operator):
    from zhili.warning.services import risk_point_create, warning_raise

    point = risk_point_create(actor=None, code="RP-INC-1", name="测试滑坡点",
                              category="landslide", lon=grid.centre_lon, lat=grid.centre_lat)
    warning = warning_raise(risk_point=point, level=3, source="manual", condition="test:inc")
    incident = incidents.incident_open(actor=district_operator, warning_number=warning.number)
    assert incident.warning == warning and incident.source == "warning"
    assert incident.severity == 2  # orange (II)
    assert (incident.lon, incident.lat) == (point.lon, point.lat)
    with pytest.raises(NotFound):
        incidents.incident_open(actor=district_operator, warning_number="W-NOPE")


def test_open_from_a_case(catalogue, grid, district_operator, resident):
    from zhili.governance.services.intake import case_report

    case, _ = case_report(actor=resident, category="garbage", description="楼下垃圾堆满了",
                          lon=grid.centre_lon, lat=grid.centre_lat)
    incident = incidents.incident_open(actor=district_operator, case_tracking_no=case.tracking_no,
                                       severity="IV")
    assert incident.case == case and incident.source == "case" and incident.severity == 4


def test_bad_input_is_a_clear_error_and_nothing_is_written(grid, district_operator):
    before = Incident.objects.count()
    with pytest.raises(OutsideCity):
        by_hand(district_operator, grid, lon=100.0, lat=20.0)
    for bad, field in ((dict(severity="V"), "severity"), (dict(title=" "), "title"),
                       (dict(lon=float("nan")), "lon"), (dict(lat=True), "lat")):
        with pytest.raises(ValidationFailed) as error:
            by_hand(district_operator, grid, **bad)
        assert error.value.errors[0].field == field
    assert Incident.objects.count() == before


def test_assign_computes_the_eta_and_makes_busy_once(grid, district_operator):
    incident = by_hand(district_operator, grid)
    station = resource(grid, "RR-INC-1")
    walkers = resource(grid, "RR-INC-2", kind="responder_group", dlon=0.005)
    one = incidents.incident_assign(actor=district_operator, incident=incident,
                                    resource_code=station.code)
    expected = travel_seconds([(station.lon, station.lat)], (incident.lon, incident.lat), "drive")
    assert one.mode == "drive" and one.eta_seconds == pytest.approx(float(expected[0]))
    two = incidents.incident_assign(actor=district_operator, incident=incident,
                                    resource_code=walkers.code)
    assert two.mode == "walk" and two.eta_seconds > 0
    station.refresh_from_db()
    assert station.availability == "busy"
    other = by_hand(district_operator, grid, title="第二起")
    with pytest.raises(Conflict):
        incidents.incident_assign(actor=district_operator, incident=other,
                                  resource_code=station.code)
    with pytest.raises(NotFound):
        incidents.incident_assign(actor=district_operator, incident=other, resource_code="NOPE")
    incidents.incident_release(actor=district_operator, incident=incident,
                               resource_code=station.code)
    station.refresh_from_db()
    assert station.availability == "available"
    incidents.incident_assign(actor=district_operator, incident=other, resource_code=station.code)


def test_close_needs_a_summary_and_frees_the_resources(grid, district_operator):
    incident = by_hand(district_operator, grid)
    station = resource(grid, "RR-INC-3")
    incidents.incident_assign(actor=district_operator, incident=incident,
                              resource_code=station.code)
    incidents.incident_note(actor=district_operator, incident=incident, text="火势已控制")
    task = incidents.incident_task_add(actor=district_operator, incident=incident,
                                       what="疏散周边群众", resource_code=station.code,
                                       due="2026-12-02T10:00:00+08:00")
    incidents.incident_task_done(actor=district_operator, incident=incident, task_id=task.pk)
    with pytest.raises(ValidationFailed):
        incidents.incident_close(actor=district_operator, incident=incident, summary="  ")
    closed = incidents.incident_close(actor=district_operator, incident=incident,
                                      summary="明火扑灭，无人员伤亡")
    assert closed.status == "closed" and closed.closed_at
    station.refresh_from_db()
    assert station.availability == "available"
    kinds = list(IncidentEvent.objects.filter(incident=incident).values_list("kind", flat=True))
    assert kinds == ["opened", "assigned", "note", "task_added", "task_done", "released",
                     "closed"]
    with pytest.raises(Conflict):
        incidents.incident_note(actor=district_operator, incident=closed, text="迟到的")


def test_task_needs_exactly_one_who(grid, district_operator):
    incident = by_hand(district_operator, grid)
    with pytest.raises(ValidationFailed):
        incidents.incident_task_add(actor=district_operator, incident=incident, what="x")
    with pytest.raises(ValidationFailed):
        incidents.incident_task_add(actor=district_operator, incident=incident, what="x",
                                    department="no-such-dept")
    with pytest.raises(ValidationFailed):
        incidents.incident_task_add(actor=district_operator, incident=incident, what="x",
                                    resource_code="RR-X", due="tomorrow")


def test_suggest_lists_the_nearest_available_per_class(grid, district_operator):
    from zhili.emergency.selectors_incidents import incident_suggest

    incident = by_hand(district_operator, grid)
    near, far = resource(grid, "RR-INC-N", dlon=0.001), resource(grid, "RR-INC-F", dlon=0.008)
    busy = resource(grid, "RR-INC-B", dlon=0.0005, availability="busy")
    found = incident_suggest(actor=district_operator, incident=incident, per_class=50)
    codes = [s["resource"].code for s in found["ground"]]
    assert busy.code not in codes and codes.index(near.code) < codes.index(far.code)
    seconds = [s["eta_seconds"] for s in found["ground"] if s["eta_seconds"] is not None]
    assert seconds == sorted(seconds)


def test_three_way_permissions(client, grid, district_operator, street_operator,
                               other_street_operator, grid_worker):
    with pytest.raises(PermissionDenied):
        by_hand(street_operator, grid)
    incident = by_hand(district_operator, grid)
    client.force_login(street_operator)
    listed = client.get("/api/v1/emergency/incidents").json()
    assert incident.number in {i["number"] for i in listed["items"]}
    denied = client.post(f"/api/v1/emergency/incidents/{incident.number}/notes",
                         json.dumps({"text": "x"}), content_type="application/json")
    assert denied.status_code == 403
    client.force_login(other_street_operator)
    assert client.get(f"/api/v1/emergency/incidents/{incident.number}").status_code == 404
    client.force_login(grid_worker)
    assert client.get("/api/v1/emergency/incidents").status_code == 403
    assert client.get("/emergency/layers/incidents.geojson").status_code == 403
    client.logout()
    assert client.get("/api/v1/emergency/incidents").status_code == 401


def test_api_open_assign_close_and_problems(client, grid, district_operator, settings):
    settings.LANGUAGE_CODE = "en"
    station = resource(grid, "RR-INC-API")
    client.force_login(district_operator)

    def post(path, body):
        return client.post(f"/api/v1/emergency/incidents{path}", json.dumps(body),
                           content_type="application/json")

    bad = post("", {"title": "x", "severity": "V", "lon": grid.centre_lon,
                    "lat": grid.centre_lat})
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "severity"
    outside = post("", {"title": "x", "severity": 4, "lon": 100.0, "lat": 20.0})
    assert outside.status_code == 404 and outside.json()["code"] == "outside-city"
    opened = post("", {"title": "山火", "severity": "II", "lon": grid.centre_lon,
                       "lat": grid.centre_lat})
    assert opened.status_code == 201, opened.content
    number = opened.json()["number"]
    suggest = client.get(f"/api/v1/emergency/incidents/{number}/suggest").json()
    assert station.code in {s["resource"] for s in suggest}
    assigned = post(f"/{number}/assign", {"resource": station.code})
    assert assigned.status_code == 200
    assert assigned.json()["assignments"][0]["eta_seconds"] > 0
    assert post(f"/{number}/assign", {"resource": station.code}).status_code == 409
    assert post(f"/{number}/close", {"summary": ""}).status_code == 422
    closed = post(f"/{number}/close", {"summary": "扑灭"})
    assert closed.json()["status"] == "closed"
    assert RescueResource.objects.get(pk=station.pk).availability == "available"
    assert client.get("/api/v1/emergency/incidents/NOPE").status_code == 404


def test_pages_board_and_detail(client, grid, district_operator, street_operator, settings):
    settings.LANGUAGE_CODE = "en"
    incident = by_hand(district_operator, grid, severity="I")
    resource(grid, "RR-INC-PG")
    client.force_login(district_operator)
    board = client.get("/emergency/incidents/")
    assert board.status_code == 200 and incident.number in board.content.decode()
    page = client.get(f"/emergency/incidents/{incident.number}/").content.decode()
    assert "Nearest available" in page and 'name="summary"' in page
    done = client.post(f"/emergency/incidents/{incident.number}/assign",
                       {"resource": "RR-INC-PG"})
    assert done.status_code == 302
    assert incident.assignments.filter(released_at__isnull=True).count() == 1
    client.post(f"/emergency/incidents/{incident.number}/close", {"summary": ""})
    assert Incident.objects.get(pk=incident.pk).status == "open"
    client.force_login(street_operator)
    view = client.get(f"/emergency/incidents/{incident.number}/").content.decode()
    assert "RR-INC-PG" in view and 'name="summary"' not in view
    assert client.post(f"/emergency/incidents/{incident.number}/note",
                       {"text": "x"}).status_code == 403


def test_layer_shows_open_incidents_of_the_area_with_colour(client, grid, other_grid,
                                                             district_operator, city_admin):
    from zhili.emergency.selectors_incidents import open_incident_counts

    before = open_incident_counts(actor=district_operator)
    mine = by_hand(district_operator, grid, severity="I")
    assert open_incident_counts(actor=district_operator)[1] == before[1] + 1
    client.force_login(district_operator)
    features = client.get("/emergency/layers/incidents.geojson").json()["features"]
    found = {f["id"]: f for f in features}
    assert found[mine.number]["properties"]["colour"] == "red"
    incidents.incident_close(actor=district_operator, incident=mine, summary="完")
    features = client.get("/emergency/layers/incidents.geojson").json()["features"]
    assert mine.number not in {f["id"] for f in features}


def test_query_counts_of_the_list_and_the_layer_stay_flat(
        client, grid, district_operator, django_assert_max_num_queries,
        django_assert_num_queries):
    client.force_login(district_operator)
    by_hand(district_operator, grid)
    serial = iter(range(100))

    def grow():
        for _ in range(3):
            by_hand(district_operator, grid, title=f"事件{next(serial)}")

    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get("/api/v1/emergency/incidents?limit=500"), grow=grow,
                rows=items, most=8)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get("/emergency/layers/incidents.geojson"), grow=grow,
                rows=lambda r: len(r.json()["features"]), most=8)


def test_the_demo_seeds_an_open_incident_from_a_warning_with_two_resources():
    incident = Incident.objects.filter(source="warning", status="open").first()
    assert incident is not None and incident.warning_id
    assert incident.assignments.filter(released_at__isnull=True).count() == 2


def test_the_database_refuses_a_second_active_assignment(grid, district_operator):
    """What stops two concurrent assigns that both read "available" (the row lock aside)."""
    from django.db import IntegrityError, transaction

    from zhili.emergency.models import IncidentAssignment

    incident = by_hand(district_operator, grid)
    station = resource(grid, "RR-INC-DB")
    incidents.incident_assign(actor=district_operator, incident=incident,
                              resource_code=station.code)
    with pytest.raises(IntegrityError), transaction.atomic():
        IncidentAssignment.objects.create(incident=incident, resource=station, mode="drive")
