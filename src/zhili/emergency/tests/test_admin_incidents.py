"""Incidents in the admin: through the services (audited), scoped to the staff member's
area, bad input shown on the form with nothing written, never deleted."""

import pytest

from zhili.audit.models import AuditEntry
from zhili.emergency import incidents
from zhili.emergency.models import Incident, IncidentEvent

pytestmark = pytest.mark.django_db

ADD = "/admin/emergency/incident/add/"


@pytest.fixture
def staff(client, district_operator, settings):
    settings.LANGUAGE_CODE = "en"
    district_operator.is_staff = True
    district_operator.save(update_fields=["is_staff"])
    client.force_login(district_operator)
    return client


def by_hand(grid, **fields):
    values = dict(title="化工厂火灾", severity="较大", lon=grid.centre_lon, lat=grid.centre_lat)
    values.update(fields)
    return incidents.incident_open(actor=None, **values)


def test_adding_one_by_hand_goes_through_the_service_and_is_audited(staff, grid):
    response = staff.post(ADD, {"title": "仓库起火", "severity": "2", "lon": grid.centre_lon,
                                "lat": grid.centre_lat})
    assert response.status_code == 302, response.content[:800]
    incident = Incident.objects.get(title="仓库起火")
    assert incident.severity == 2 and incident.grid_id == grid.pk
    assert AuditEntry.objects.filter(action="incident.open", object_id=str(incident.pk)).exists()
    assert incident.events.filter(kind="opened").exists()


@pytest.mark.parametrize("post, needle", [
    ({"title": "", "severity": "2", "lon": "106.5", "lat": "29.5"}, "is required"),
    ({"title": "x", "severity": "", "lon": "106.5", "lat": "29.5"}, "must be I–IV"),
    ({"title": "x", "severity": "2", "lon": "100.0", "lat": "20.0"}, "No grid of the city holds"),
    ({"title": "x", "severity": "2", "lon": "abc", "lat": "29.5"}, "Enter a number"),
    ({"warning_number": "YJ-NOPE", "case_tracking_no": "C-NOPE"}, "not both"),
])
def test_bad_input_is_shown_on_the_form_and_nothing_is_written(staff, grid, post, needle):
    before, audits = Incident.objects.count(), AuditEntry.objects.count()
    response = staff.post(ADD, post)
    assert response.status_code == 200
    assert needle in response.content.decode()
    assert Incident.objects.count() == before and AuditEntry.objects.count() == audits


def test_a_note_and_then_closing_with_a_summary(staff, grid):
    incident = by_hand(grid)
    url = f"/admin/emergency/incident/{incident.pk}/change/"
    page = staff.get(url)
    assert page.status_code == 200 and incident.number in page.content.decode()
    empty = staff.post(url, {"note": "", "close_summary": ""})
    assert empty.status_code == 200 and "Write a situation note" in empty.content.decode()
    assert staff.post(url, {"note": "东侧已控制", "close_summary": ""}).status_code == 302
    assert IncidentEvent.objects.filter(incident=incident, kind="note", note="东侧已控制").exists()
    assert staff.post(url, {"note": "", "close_summary": "已扑灭"}).status_code == 302
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.summary == "已扑灭"
    assert AuditEntry.objects.filter(action="incident.close", object_id=str(incident.pk)).exists()
    # Closed: read-only, and an incident is never deleted.
    assert staff.post(url, {"note": "再记一笔"}).status_code == 403
    assert staff.post(f"/admin/emergency/incident/{incident.pk}/delete/",
                      {"post": "yes"}).status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_scoped_to_the_staff_members_area(client, grid, other_street_operator, street_operator,
                                          settings):
    settings.LANGUAGE_CODE = "en"
    incident = by_hand(grid)
    # A street operator may not manage incidents: no incidents admin at all.
    street_operator.is_staff = True
    street_operator.save(update_fields=["is_staff"])
    client.force_login(street_operator)
    assert client.get("/admin/emergency/incident/").status_code == 403
    assert client.get(f"/admin/emergency/incident/{incident.pk}/change/").status_code == 403


def test_another_areas_manager_does_not_see_it(client, grid, other_street, settings):
    from zhili.accounts.models import User
    from zhili.accounts.roles import Role
    from zhili.accounts.services import role_assign

    settings.LANGUAGE_CODE = "en"
    incident = by_hand(grid)
    # A manager of incidents on the next street (the demo city has one district).
    other = User.objects.create_user("other_area_op", password="x" * 12, is_staff=True)
    role_assign(user=other, role=Role.DISTRICT_OPERATOR, area=other_street)
    client.force_login(other)
    listing = client.get("/admin/emergency/incident/")
    assert listing.status_code == 200 and incident.number not in listing.content.decode()
    assert client.get(f"/admin/emergency/incident/{incident.pk}/change/").status_code == 302
