"""A worker's phone posts its own position; one click dispatches a case to the nearest
free worker by travel time. Three ways each: without permission, in the area, elsewhere."""

from __future__ import annotations

import pytest

from zhili.audit.models import AuditEntry
from zhili.cockpit.models import WorkerPosition

pytestmark = pytest.mark.django_db


def centre(grid):
    c = grid.shape.representative_point()
    return c.x, c.y


def test_a_worker_posts_their_own_position(api, bearer, grid, grid_worker):
    lon, lat = centre(grid)
    r = api.post("/cockpit/positions", {"lon": lon, "lat": lat, "accuracy_m": 12},
                 headers=bearer(grid_worker))
    assert r.status_code == 200, r.content
    assert r.json()["worker"] == "worker1"
    position = WorkerPosition.objects.get(worker=grid_worker)
    assert (position.lon, position.lat) == (lon, lat)
    assert position.area_path == grid.path
    assert AuditEntry.objects.filter(action="worker.position", actor=grid_worker).exists()
    # A second post moves the same row.
    api.post("/cockpit/positions", {"lon": lon + 1e-5, "lat": lat}, headers=bearer(grid_worker))
    assert WorkerPosition.objects.filter(worker=grid_worker).count() == 1


def test_only_workers_post_positions(api, bearer, grid, street_operator, resident):
    lon, lat = centre(grid)
    for user in (street_operator, resident):
        r = api.post("/cockpit/positions", {"lon": lon, "lat": lat}, headers=bearer(user))
        assert r.status_code == 403 and r.json()["code"] == "permission-denied"
    assert api.post("/cockpit/positions", {"lon": lon, "lat": lat}).status_code == 401


@pytest.mark.parametrize("body,field", [
    ({"lon": 200, "lat": 29.5}, "lon"),
    ({"lon": 106.5, "lat": -91}, "lat"),
    ({"lon": 10.0, "lat": 10.0}, "lon"),  # outside the city
    ({"lon": 106.5, "lat": 29.5, "accuracy_m": -1}, "accuracy_m"),
    ({"lon": True, "lat": 29.5}, "lon"),
    ({"lat": 29.5}, "lon"),
])
def test_a_bad_position_is_a_422_and_changes_nothing(api, bearer, grid_worker, body, field):
    before = WorkerPosition.objects.filter(worker=grid_worker).first()
    r = api.post("/cockpit/positions", body, headers=bearer(grid_worker))
    assert r.status_code == 422, r.content
    assert any(field in e["field"] for e in r.json()["errors"])
    assert WorkerPosition.objects.filter(worker=grid_worker).first() == before


def dispatch(api, headers, case, version=None):
    return api.post(f"/cockpit/cases/{case.pk}/dispatch-nearest",
                    {"version": case.version if version is None else version}, headers=headers)


def test_one_click_dispatches_to_the_nearest_free_worker(api, bearer, report, grid, at_work,
                                                         grid_worker, street_operator):
    from zhili.accounts.models import RoleAssignment, User
    from zhili.accounts.roles import Role

    # A second worker on the same grid, further away.
    far = User.objects.create_user(username="worker-far", password="x" * 20)
    RoleAssignment.objects.create(user=far, role=Role.GRID_WORKER, area=grid, area_path=grid.path)
    case = report(on=grid)
    at_work(grid_worker, grid)
    at_work(far, grid, dx=0.002)
    r = dispatch(api, bearer(street_operator), case)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["assignee"] == "worker1" and body["candidates"] >= 2
    assert body["travel_seconds"] >= 0
    case.refresh_from_db()
    assert case.assignee_id == grid_worker.pk
    assert case.events.filter(kind="assigned").exists()
    entry = AuditEntry.objects.filter(action="case.dispatch_nearest").latest("id")
    assert entry.actor_id == street_operator.pk and entry.detail["assignee"] == "worker1"
    # A second click with the version the map showed: someone changed it meanwhile.
    again = dispatch(api, bearer(street_operator), case, version=case.version - 1)
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    # Accepted, it is no longer dispatched from the map.
    from zhili.governance.services import case_accept

    case_accept(actor=grid_worker, case=case, version=case.version)
    case.refresh_from_db()
    again = dispatch(api, bearer(street_operator), case)
    assert again.status_code == 409 and again.json()["code"] == "invalid-transition"


def test_a_busy_or_stale_worker_is_not_free(api, bearer, report, grid, at_work, grid_worker,
                                            street_operator):
    from datetime import timedelta

    from zhili.governance.models import Case

    case = report(on=grid)
    position = at_work(grid_worker, grid)
    WorkerPosition.objects.filter(pk=position.pk).update(at=position.at - timedelta(hours=2))
    r = dispatch(api, bearer(street_operator), case)
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    at_work(grid_worker, grid)
    other = report(on=grid)
    Case.objects.filter(pk=other.pk).update(assignee=grid_worker, status="on_site")
    r = dispatch(api, bearer(street_operator), case)
    assert r.status_code == 409
    assert not case.events.filter(kind="assigned", actor=street_operator).exists()


def test_dispatch_three_ways(api, bearer, report, grid, at_work, grid_worker, resident,
                             other_street_operator, street_operator):
    case = report(on=grid, actor=grid_worker)  # a patrol report: not the resident's
    at_work(grid_worker, grid)
    assert dispatch(api, bearer(resident), case).status_code == 404  # not theirs to see
    assert dispatch(api, bearer(other_street_operator), case).status_code == 404
    assert dispatch(api, bearer(grid_worker), case).status_code == 403  # sees it, may not
    assert dispatch(api, bearer(street_operator), case, version=case.version + 5).status_code == 409
    assert dispatch(api, bearer(street_operator), case).status_code == 200


@pytest.mark.parametrize("case_id", [0, 2**63, 10**30])
def test_dispatch_of_no_case_is_a_404(api, bearer, street_operator, case_id):
    r = api.post(f"/cockpit/cases/{case_id}/dispatch-nearest", {}, headers=bearer(street_operator))
    assert r.status_code == 404


def test_a_dispatch_is_heard_live(api, bearer, report, grid, at_work, grid_worker, street_operator):
    from zhili.cockpit.models import LiveEvent

    case = report(on=grid)
    at_work(grid_worker, grid)
    last = LiveEvent.objects.order_by("-id").first().id
    assert dispatch(api, bearer(street_operator), case).status_code == 200
    kinds = list(LiveEvent.objects.filter(id__gt=last).values_list("kind", "object_id"))
    assert ("case", str(case.pk)) in kinds
