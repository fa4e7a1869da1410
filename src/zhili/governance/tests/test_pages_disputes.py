"""The dispute pages: the three-way permission test for each (anonymous → login, own area →
200, another area → 404 or not listed), record → session → settle through the pages, bad
input as a message with nothing written, masked party names, and a pinned query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from zhili.audit.models import AuditEntry
from zhili.governance import services
from zhili.governance.models import Case, Dispute, MediationSession, Status
from zhili.registry.models import Person

G = "/governance/disputes"


def persons_of(actor, n=2):
    return list(Person.objects.restrict(actor, "registry.view_person").order_by("id")[:n])


def as_user(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client


def assert_login_redirect(response):
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def dispute(categories, grid, grid_worker):
    """A neighbour dispute on worker1's grid between two of its residents."""
    a, b = persons_of(grid_worker)
    return services.dispute_record(
        actor=grid_worker, category="dispute-neighbour", description="楼上漏水到楼下",
        lon=grid.centre_lon, lat=grid.centre_lat,
        parties=[{"person_id": a.pk, "side": "applicant"},
                 {"person_id": b.pk, "side": "respondent"}])


# -- the three-way test, page by page ---------------------------------------------------------

def test_list_page(client, dispute, street_operator, other_street_operator, resident):
    assert_login_redirect(client.get(f"{G}/"))
    response = as_user(client, street_operator).get(f"{G}/")
    html = response.content.decode()
    assert response.status_code == 200 and dispute.case.tracking_no in html
    assert 'id="dispute-share"' in html and f"{G}/new/" in html
    response = as_user(client, other_street_operator).get(f"{G}/")
    assert response.status_code == 200 and dispute.case.tracking_no not in response.content.decode()
    assert as_user(client, resident).get(f"{G}/").status_code == 404


def test_detail_page(client, dispute, grid_worker, street_operator, other_street_operator,
                     resident):
    path = f"{G}/{dispute.pk}/"
    assert_login_redirect(client.get(path))
    response = as_user(client, street_operator).get(path)
    html = response.content.decode()
    assert response.status_code == 200 and dispute.case.tracking_no in html
    for party in dispute.parties.select_related("person"):
        # Masked: the name's first character and the identity number's last four only.
        assert party.person.name not in html and party.person.id_number not in html
        assert party.person.id_number[-4:] in html
    assert 'id="session"' in html and 'id="resolve"' in html
    assert "dispute_recorded" in html  # the case's timeline
    for user in (other_street_operator, resident):
        assert as_user(client, user).get(path).status_code == 404
    assert as_user(client, street_operator).get(f"{G}/999999999/").status_code == 404


def test_actions_outside_the_area(client, dispute, other_street_operator, other_grid_worker,
                                  now):
    held = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    for user in (other_street_operator, other_grid_worker):
        client = as_user(client, user)
        assert client.post(f"{G}/{dispute.pk}/session/", {
            "held_at": held, "level": "grid", "result": "agreed"}).status_code == 404
        assert client.post(f"{G}/{dispute.pk}/resolve/", {"level": "grid"}).status_code == 404
    assert_login_redirect(as_user(client, None).post(f"{G}/{dispute.pk}/resolve/",
                                                     {"level": "grid"}))
    assert not MediationSession.objects.filter(dispute=dispute).exists()
    dispute.refresh_from_db()
    assert dispute.resolved_at is None
    assert as_user(client, other_street_operator).post(
        f"{G}/{dispute.pk}/nonsense/", {}).status_code == 404


def test_new_page(client, categories, grid_worker, other_grid_worker, resident, grid):
    assert_login_redirect(client.get(f"{G}/new/"))
    response = as_user(client, grid_worker).get(f"{G}/new/")
    html = response.content.decode()
    assert response.status_code == 200 and 'value="dispute-neighbour"' in html
    assert 'value="garbage"' not in html  # dispute categories only
    assert f'data-lon="{grid.centre_lon:.7f}"' in html  # the pin starts at the worker's grid
    assert as_user(client, resident).get(f"{G}/new/").status_code == 404
    # The party search finds persons in scope only, masked.
    mine = persons_of(grid_worker, 1)[0]
    stranger = persons_of(other_grid_worker, 1)[0]
    client = as_user(client, grid_worker)
    html = client.get(f"{G}/new/", {"q": mine.id_number}).content.decode()
    assert f'name="side_{mine.pk}"' in html and mine.name not in html
    html = client.get(f"{G}/new/", {"q": stranger.id_number},
                      HTTP_HX_REQUEST="true").content.decode()
    assert f'name="side_{stranger.pk}"' not in html and "<html" not in html
    # Each search is an audited look-up; a part of a number finds nobody.
    assert AuditEntry.objects.filter(action="person.lookup", actor=grid_worker,
                                     purpose="parties of a dispute being recorded").count() == 2
    html = client.get(f"{G}/new/", {"q": mine.id_number[-6:]}).content.decode()
    assert f'name="side_{mine.pk}"' not in html


# -- the flow through the pages ---------------------------------------------------------------

def test_record_session_settle(client, categories, grid, street_operator):
    a, b = persons_of(street_operator)
    client = as_user(client, street_operator)
    # A search keeps what was typed and the parties chosen so far.
    response = client.post(f"{G}/new/", {"do": "search", "q": b.id_number,
                                         "description": "工资拖欠", f"side_{a.pk}": "applicant"})
    html = response.content.decode()
    assert response.status_code == 200 and "工资拖欠" in html
    assert f'name="side_{a.pk}"' in html and f'name="side_{b.pk}"' in html
    assert not Case.objects.filter(description="工资拖欠").exists()
    response = client.post(f"{G}/new/", {
        "category": "dispute-labour", "description": "工资拖欠", "lon": grid.centre_lon,
        "lat": grid.centre_lat, "crs": "wgs84", f"side_{a.pk}": "applicant",
        f"side_{b.pk}": "respondent", "do": "record"})
    dispute = Dispute.objects.get(case__description="工资拖欠")
    assert response.status_code == 302 and response["Location"] == f"{G}/{dispute.pk}/"
    assert dispute.dispute_type == "labour" and dispute.parties.count() == 2

    held = (timezone.localtime() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"{G}/{dispute.pk}/session/", {
        "held_at": held, "level": "street", "result": "partial", "notes": "第一次调解"},
        follow=True)
    assert response.status_code == 200 and "第一次调解" in response.content.decode()
    assert dispute.sessions.get().result == "partial"

    response = client.post(f"{G}/{dispute.pk}/resolve/", {
        "level": "street", "agreement": "分两期支付"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200 and "分两期支付" in html and 'id="session"' not in html
    dispute.refresh_from_db()
    assert dispute.resolution_level == "street" and dispute.case.status == Status.RESOLVED
    kinds = list(dispute.case.events.values_list("kind", flat=True))
    assert kinds == ["dispute_recorded", "mediation", "dispute_resolved", "resolved"]
    # The list counts it among those settled at street level or below.
    response = client.get(f"{G}/", {"resolved": "yes", "level": "street", "type": "labour"})
    assert dispute.case.tracking_no in response.content.decode()
    share = response.context["share"]
    assert share["resolved"] == share["low"] >= 1 and share["share"] == 100.0
    response = client.get(f"{G}/", {"resolved": "no"})
    assert dispute.case.tracking_no not in response.content.decode()


def test_bad_input(client, dispute, grid, grid_worker, other_grid_worker):
    a, _b = persons_of(grid_worker)
    stranger = persons_of(other_grid_worker, 1)[0]
    client = as_user(client, grid_worker)
    before = Case.objects.count()
    base = {"category": "dispute-neighbour", "description": "吵架", "lon": grid.centre_lon,
            "lat": grid.centre_lat, "do": "record"}
    for change, field in [
        ({}, "parties"),
        ({f"side_{a.pk}": "judge"}, "parties"),
        ({f"side_{stranger.pk}": "applicant"}, "parties"),
        ({f"side_{a.pk}": "applicant", "category": "garbage"}, "category"),
        ({f"side_{a.pk}": "applicant", "lon": "", "lat": ""}, "lon"),
        ({f"side_{a.pk}": "applicant", "lon": "0", "lat": "0"}, "lon"),
        ({f"side_{a.pk}": "applicant", "description": "x" * 2001}, "description"),
        ({"side_abc": "applicant"}, "parties"),
    ]:
        response = client.post(f"{G}/new/", {**base, **change})
        assert response.status_code == 422, change
        assert field in response.context["errors"], (change, response.context["errors"])
        assert 'class="field-errors"' in response.content.decode()
    assert Case.objects.count() == before

    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    for action, data in [
        ("session", {"held_at": future, "level": "grid", "result": "agreed"}),
        ("session", {"held_at": "yesterday", "level": "grid", "result": "agreed"}),
        ("session", {"held_at": "2026-13-45T99:99", "level": "grid", "result": "agreed"}),
        ("session", {"held_at": "2020-01-01T10:00", "level": "moon", "result": "agreed"}),
        ("session", {"held_at": "2020-01-01T10:00", "level": "grid", "result": "maybe"}),
        ("resolve", {"level": "heaven"}),
    ]:
        response = client.post(f"{G}/{dispute.pk}/{action}/", data)
        # Refused beside the field, its form open, nothing written.
        assert response.status_code == 422, data
        assert set(response.context["errors"]) & {"held_at", "level", "result"}, data
        assert 'class="field-errors"' in response.content.decode()
    assert not dispute.sessions.exists()
    dispute.refresh_from_db()
    assert dispute.resolved_at is None
    # Settling twice: the second is refused, the first stands.
    client.post(f"{G}/{dispute.pk}/resolve/", {"level": "grid", "agreement": "和解"})
    response = client.post(f"{G}/{dispute.pk}/resolve/", {"level": "court"}, follow=True)
    # The settle form is gone, so the refusal is a banner, in words (no field name).
    assert messages_of(response) and all("dispute:" not in m for m in messages_of(response))
    dispute.refresh_from_db()
    assert dispute.resolution_level == "grid"
    response = client.get(f"{G}/", {"area": "99x"})
    assert response.status_code == 200 and 'class="error"' in response.content.decode()


# -- query counts --------------------------------------------------------------------------------

def test_list_query_count(client, categories, grid, grid_worker, street_operator,
                          django_assert_max_num_queries):
    a, b = persons_of(grid_worker)
    for n in range(4):
        services.dispute_record(
            actor=grid_worker, category="dispute-neighbour", description=f"纠纷 {n}",
            lon=grid.centre_lon, lat=grid.centre_lat,
            parties=[{"person_id": a.pk, "side": "applicant"},
                     {"person_id": b.pk, "side": "respondent"}])
    client = as_user(client, street_operator)
    client.get(f"{G}/")  # warm caches (translations)
    # session, user, role assignments, then the share, the count and the page: fixed
    with django_assert_max_num_queries(7):
        response = client.get(f"{G}/", {"resolved": "no", "type": "neighbour"})
    assert response.status_code == 200


def test_detail_query_count(client, dispute, street_operator, django_assert_max_num_queries):
    held = timezone.now() - timedelta(hours=1)
    for n in range(3):
        services.mediation_record(actor=street_operator, dispute=dispute, held_at=held,
                                  level="street", result="adjourned", notes=f"第{n}次")
    client = as_user(client, street_operator)
    client.get(f"{G}/{dispute.pk}/")  # warm caches
    # the dispute, its parties, sessions, timeline events and photos: not one per row
    with django_assert_max_num_queries(9):
        response = client.get(f"{G}/{dispute.pk}/")
    assert response.status_code == 200 and response.content.decode().count("第") >= 3
