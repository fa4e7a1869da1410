"""Rescue resources: services, API (three-way permissions), contacts, import, query counts."""

import json

import pytest
from django_tasks_db.models import DBTaskResult

from zhili.audit.models import AuditEntry
from zhili.core.errors import OutsideCity, PermissionDenied, ValidationFailed
from zhili.core.tests.queries import assert_flat, items
from zhili.emergency import services
from zhili.emergency.models import RescueResource

pytestmark = pytest.mark.django_db


def make(grid, code="RR-T-1", **fields):
    values = dict(name="测试消防站", kind="fire_station", lon=grid.centre_lon, lat=grid.centre_lat,
                  capacity=20, contact_name="王队长", contact_phone="13800001234")
    values.update(fields)
    return services.resource_create(actor=None, code=code, **values)


def test_a_resource_is_located_to_its_grid_audited_and_queues_a_recompute(grid):
    queued = DBTaskResult.objects.filter(task_path__endswith="coverage_recompute").count()
    resource = make(grid)
    assert resource.grid == grid and resource.area_path == grid.path
    assert resource.rescue_class == "ground"
    assert AuditEntry.objects.filter(action="rescue_resource.create",
                                     object_id=str(resource.pk)).exists()
    assert DBTaskResult.objects.filter(task_path__endswith="coverage_recompute").count() == \
        queued + 1


def test_outside_the_city_is_a_clear_error_and_nothing_is_written(grid):
    before = RescueResource.objects.count()
    with pytest.raises(OutsideCity):
        make(grid, lon=100.0, lat=20.0)
    with pytest.raises(ValidationFailed) as bad:
        make(grid, kind="submarine", capacity=-1)
    assert {e.field for e in bad.value.errors} == {"kind", "capacity"}
    assert RescueResource.objects.count() == before


def test_only_managers_of_the_area_write(grid, street_operator, district_operator):
    with pytest.raises(PermissionDenied):
        services.resource_create(actor=street_operator, code="RR-T-2", name="x",
                                 kind="fire_station", lon=grid.centre_lon, lat=grid.centre_lat)
    made = services.resource_create(actor=district_operator, code="RR-T-2", name="x",
                                    kind="fire_station", lon=grid.centre_lon, lat=grid.centre_lat)
    busy = services.resource_set_availability(actor=district_operator, resource=made,
                                              availability="busy")
    assert busy.availability == "busy"


def test_api_three_ways(client, grid, other_grid, street_operator, other_street_operator,
                        grid_worker):
    mine, theirs = make(grid, "RR-T-A"), make(other_grid, "RR-T-B")
    client.force_login(street_operator)
    listed = client.get("/api/v1/emergency/resources").json()
    codes = {r["code"] for r in listed["items"]}
    assert mine.code in codes and theirs.code not in codes
    assert client.get(f"/api/v1/emergency/resources/{theirs.code}").status_code == 404
    detail = client.get(f"/api/v1/emergency/resources/{mine.code}").json()
    assert detail["contact_phone"] == "138****1234" and detail["contact_name"] != "王队长"
    client.force_login(other_street_operator)
    assert client.get(f"/api/v1/emergency/resources/{theirs.code}").status_code == 200
    client.force_login(grid_worker)
    assert client.get("/api/v1/emergency/resources").status_code == 403
    client.logout()
    assert client.get("/api/v1/emergency/resources").status_code == 401


def test_api_create_and_patch(client, grid, district_operator, street_operator):
    body = {"code": "RR-API-1", "name": "专业队", "kind": "professional_team",
            "lon": grid.centre_lon, "lat": grid.centre_lat, "capacity": 12}
    client.force_login(street_operator)
    denied = client.post("/api/v1/emergency/resources", json.dumps(body),
                         content_type="application/json")
    assert denied.status_code == 403
    client.force_login(district_operator)
    outside = client.post("/api/v1/emergency/resources", json.dumps({**body, "lon": 90.0}),
                          content_type="application/json")
    assert outside.status_code == 404 and outside.json()["code"] == "outside-city"
    bad = client.post("/api/v1/emergency/resources", json.dumps({**body, "kind": "tank"}),
                      content_type="application/json")
    assert bad.status_code == 422
    created = client.post("/api/v1/emergency/resources", json.dumps(body),
                          content_type="application/json")
    assert created.status_code == 201, created.content
    patched = client.patch("/api/v1/emergency/resources/RR-API-1",
                           json.dumps({"availability": "off_duty"}),
                           content_type="application/json")
    assert patched.status_code == 200 and patched.json()["availability"] == "off_duty"


def test_the_full_contact_is_an_audited_read(client, grid, street_operator, other_street_operator):
    resource = make(grid)
    url = f"/api/v1/emergency/resources/{resource.code}/contact"
    client.force_login(street_operator)
    assert client.post(url, json.dumps({"purpose": "x"}),
                       content_type="application/json").status_code == 422
    shown = client.post(url, json.dumps({"purpose": "调度联系"}), content_type="application/json")
    assert shown.status_code == 200 and shown.json()["contact_phone"] == "13800001234"
    entry = AuditEntry.objects.filter(action="rescue_resource.contact_read").latest("id")
    assert entry.purpose == "调度联系" and entry.actor_id == street_operator.pk
    client.force_login(other_street_operator)
    assert client.post(url, json.dumps({"purpose": "调度联系"}),
                       content_type="application/json").status_code == 404


def test_import_is_a_dry_run_listing_every_bad_row(grid):
    from zhili.emergency.importing import resources_import

    lon, lat = grid.centre_lon, grid.centre_lat
    csv = ("code,name,kind,lon,lat,capacity\n"
           f"RR-I-1,一站,fire_station,{lon},{lat},10\n"
           f"RR-I-2,二站,boat,{lon},{lat},10\n"
           "RR-I-3,三站,air_base,90,20,2\n"
           f"RR-I-1,重复,fire_station,{lon},{lat},1\n"
           f"RR-I-4,四站,responder_group,{lon},abc,1\n").encode()
    report = resources_import(actor=None, data=csv, fmt="csv")
    assert [p.split(":")[0] for p in report.problems] == ["row 3", "row 4", "row 5", "row 6"]
    assert not RescueResource.objects.filter(code__startswith="RR-I-").exists()
    good = csv.split(b"\n")[0] + b"\n" + csv.split(b"\n")[1] + b"\n"
    report = resources_import(actor=None, data=good, fmt="csv", commit=True)
    assert report.ok and report.created == 1
    geojson = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {"code": "RR-I-1", "name": "一站改", "kind": "fire_station"}}]}).encode()
    report = resources_import(actor=None, data=geojson, fmt="geojson", commit=True)
    assert report.ok and report.updated == 1
    assert RescueResource.objects.get(code="RR-I-1").name == "一站改"


def test_list_and_layer_query_counts_are_flat(client, grid, district_operator,
                                              django_assert_max_num_queries,
                                              django_assert_num_queries):
    client.force_login(district_operator)
    counter = iter(range(1000))

    def grow():
        for _ in range(3):
            make(grid, f"RR-Q-{next(counter)}")

    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get("/api/v1/emergency/resources"), grow=grow, rows=items,
                most=6)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get("/emergency/layers/resources.geojson"), grow=grow,
                rows=lambda r: len(r.json()["features"]), most=5)
