"""Issue 11's bad input as the pages meet it: a road network in two parts (a resource on
one, the incident on the other) shows the arrival as not connected, never a made-up
time; a resource outside the city is refused on the admin form with nothing written."""

import pytest
from django.core.management import call_command

from zhili.emergency import incidents, routing, services
from zhili.emergency.models import RescueResource

pytestmark = pytest.mark.django_db


def two_parts(path, lon, lat):
    """Four junctions along a parallel 330 m south of (lon, lat); two more at (lon, lat),
    joined only to each other."""
    import osmium

    places = [(lon + 0.001 * i, lat - 0.003) for i in range(4)] + [(lon, lat),
                                                                    (lon + 0.001, lat)]
    writer = osmium.SimpleWriter(str(path), overwrite=True)
    for i, location in enumerate(places, start=1):
        writer.add_node(osmium.osm.mutable.Node(id=i, location=location, version=1))
    for n, refs in enumerate(([1, 2, 3, 4], [5, 6]), start=100):
        writer.add_way(osmium.osm.mutable.Way(id=n, nodes=refs, tags={"highway": "primary"},
                                              version=1))
    writer.close()
    return path


def test_a_network_in_two_parts_shows_the_arrival_as_not_connected(client, tmp_path, settings,
                                                                    district_operator, grid):
    settings.DATA_DIR = tmp_path
    settings.LANGUAGE_CODE = "en"
    lon, lat = grid.centre_lon, grid.centre_lat
    path = two_parts(tmp_path / "parts.osm.pbf", lon, lat)
    call_command("emergency", "roads", "import", str(path))
    routing.mark_stale()
    station = services.resource_create(actor=None, code="RR-PARTS", name="两段路网消防站",
                                       kind="fire_station", lon=lon + 0.002, lat=lat - 0.003,
                                       recompute=False)
    incident = incidents.incident_open(actor=district_operator, title="北侧火情", severity="III",
                                       lon=lon, lat=lat)
    client.force_login(district_operator)
    done = client.post(f"/emergency/incidents/{incident.number}/assign",
                       {"resource": station.code})
    assert done.status_code == 302
    assignment = incident.assignments.get(resource=station)
    assert assignment.eta_seconds is None
    page = client.get(f"/emergency/incidents/{incident.number}/").content.decode()
    row = page[page.index('<tr class="assignment">'):]
    assert "RR-PARTS" in row[:600] and "not connected" in row[:600]


@pytest.fixture
def staff(client, district_operator, settings):
    settings.LANGUAGE_CODE = "en"
    district_operator.is_staff = True
    district_operator.save(update_fields=["is_staff"])
    client.force_login(district_operator)
    return client


def test_a_resource_outside_the_city_is_refused_on_the_admin_form(staff):
    before = RescueResource.objects.count()
    response = staff.post("/admin/emergency/rescueresource/add/", {
        "code": "RR-OUTSIDE", "name": "城外消防站", "kind": "fire_station", "grade": "",
        "capacity": 10, "availability": "available", "lon": 100.0, "lat": 20.0,
        "contact_name": "", "contact_phone": ""})
    assert response.status_code == 200
    assert "No grid of the city holds (100.000000, 20.000000)" in response.content.decode()
    assert RescueResource.objects.count() == before


def test_the_admin_names_a_teams_member_accounts_audited(staff, grid, grid_worker):
    from zhili.audit.models import AuditEntry

    response = staff.post("/admin/emergency/rescueresource/add/", {
        "code": "RR-MEMBERS", "name": "有队员的救援队", "kind": "professional_team", "grade": "",
        "capacity": 10, "availability": "available", "lon": grid.centre_lon,
        "lat": grid.centre_lat, "contact_name": "", "contact_phone": "",
        "members": [grid_worker.pk]})
    assert response.status_code == 302, response.content.decode()[:2000]
    team = RescueResource.objects.get(code="RR-MEMBERS")
    assert list(team.members.values_list("pk", flat=True)) == [grid_worker.pk]
    assert AuditEntry.objects.filter(action="rescue_resource.members",
                                     object_id=str(team.pk)).exists()
