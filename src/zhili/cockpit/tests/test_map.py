"""The one map's pages and layers: three-way permissions (no permission, in the area,
another area), the home page, the figures and the polling transport."""

from __future__ import annotations

import pytest

from zhili.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def features(response) -> list[dict]:
    assert response.status_code == 200, response.content[:300]
    return response.json()["features"]


def test_the_map_is_the_operators_home_page_and_a_workers_home_is_unchanged(
        client, street_operator, grid_worker):
    client.force_login(street_operator)
    home = client.get("/")
    assert home.status_code == 200 and b'id="cockpit-config"' in home.content
    assert b'data-nav="cockpit:map"' in home.content
    client.force_login(grid_worker)
    home = client.get("/")
    assert home.status_code == 200 and b"cockpit-config" not in home.content
    assert b'data-nav="cockpit:map"' not in home.content


def test_the_map_page_needs_the_permission(client, resident, grid_worker, street_operator):
    assert client.get("/cockpit/").status_code == 302  # to the login
    for user in (resident, grid_worker):
        client.force_login(user)
        assert client.get("/cockpit/").status_code == 403
    client.force_login(street_operator)
    page = client.get("/cockpit/")
    assert page.status_code == 200
    config = page.context["config"]
    assert {"cases", "workers", "risk-points"} <= {layer["name"] for layer in config["layers"]}
    assert config["transport"] == "poll"  # the test client is not ASGI
    assert config["dispatch"]


def test_live_cases_three_ways(client, report, grid, other_grid, resident, street_operator,
                               other_street_operator):
    mine, theirs = report(on=grid), report(on=other_grid)
    client.force_login(resident)
    assert client.get("/cockpit/layers/cases.geojson").status_code == 403
    client.force_login(street_operator)
    shown = {f["properties"]["tracking_no"]: f["properties"]
             for f in features(client.get("/cockpit/layers/cases.geojson"))}
    assert mine.tracking_no in shown and theirs.tracking_no not in shown
    props = shown[mine.tracking_no]
    assert props["status"] == "reported" and props["dispatchable"] and not props["overdue"]
    assert props["url"] == f"/governance/cases/{mine.pk}/"
    client.force_login(other_street_operator)
    shown = {f["id"] for f in features(client.get("/cockpit/layers/cases.geojson"))}
    assert theirs.tracking_no in shown and mine.tracking_no not in shown


def test_overdue_cases_are_marked(client, report, grid, street_operator):
    from datetime import timedelta

    from django.utils import timezone

    from zhili.governance.models import Case

    case = report(on=grid)
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(hours=1))
    client.force_login(street_operator)
    shown = {f["id"]: f["properties"] for f in features(client.get("/cockpit/layers/cases.geojson"))}
    assert shown[case.tracking_no]["overdue"] is True


def test_worker_positions_three_ways_stale_and_the_read_is_audited(
        client, at_work, grid, other_grid, grid_worker, other_grid_worker, resident,
        street_operator, other_street_operator):
    from datetime import timedelta

    from zhili.cockpit.models import WorkerPosition

    at_work(grid_worker, grid)
    at_work(other_grid_worker, other_grid)
    client.force_login(resident)
    assert client.get("/cockpit/layers/workers.geojson").status_code == 403
    client.force_login(street_operator)
    shown = {f["properties"]["worker"]: f["properties"]
             for f in features(client.get("/cockpit/layers/workers.geojson"))}
    assert grid_worker.pk in shown and other_grid_worker.pk not in shown
    assert shown[grid_worker.pk]["stale"] is False
    entry = AuditEntry.objects.filter(action="worker.positions_read").latest("id")
    assert entry.actor_id == street_operator.pk
    WorkerPosition.objects.filter(worker=grid_worker).update(
        at=WorkerPosition.objects.get(worker=grid_worker).at - timedelta(hours=1))
    shown = {f["properties"]["worker"]: f["properties"]
             for f in features(client.get("/cockpit/layers/workers.geojson"))}
    assert shown[grid_worker.pk]["stale"] is True
    client.force_login(other_street_operator)
    shown = {f["properties"]["worker"] for f in
             features(client.get("/cockpit/layers/workers.geojson"))}
    assert other_grid_worker.pk in shown and grid_worker.pk not in shown


def test_the_side_panel_counts_the_area(client, report, grid, other_grid, street_operator):
    client.force_login(street_operator)
    before = client.get("/cockpit/figures.json").json()
    report(on=grid)
    report(on=other_grid)
    after = client.get("/cockpit/figures.json").json()
    assert after["cases"]["open"] == before["cases"]["open"] + 1
    assert set(after["warnings"]) == {"1", "2", "3", "4", "total"}
    assert {"fresh", "stale"} == set(after["workers"])


def test_the_figures_need_the_map(client, resident):
    client.force_login(resident)
    assert client.get("/cockpit/figures.json").status_code == 403


def test_polling_hears_the_areas_events_only(client, report, grid, other_grid, street_operator,
                                              other_street_operator):
    client.force_login(street_operator)
    last = client.get("/cockpit/events").json()["last"]
    mine, theirs = report(on=grid), report(on=other_grid)
    # The poll also sends the recent events just before `last` (cockpit/live.py
    # LOOKBACK_IDS): the new ones are those after it.
    heard = client.get(f"/cockpit/events?after={last}").json()["events"]
    assert [(e["kind"], e["id"]) for e in heard if e["seq"] > last] == [("case", str(mine.pk))]
    client.force_login(other_street_operator)
    heard = client.get(f"/cockpit/events?after={last}").json()["events"]
    assert [(e["kind"], e["id"]) for e in heard if e["seq"] > last] == [("case", str(theirs.pk))]


@pytest.mark.parametrize("after", ["x", "-1", "9" * 30, "1.5"])
def test_a_bad_after_is_a_422(client, street_operator, after):
    client.force_login(street_operator)
    response = client.get("/cockpit/events", {"after": after})
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "after"


def test_a_rolled_back_change_leaves_no_event(report, grid):
    from django.db import transaction

    from zhili.cockpit.models import LiveEvent

    before = LiveEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        report(on=grid)
        raise RuntimeError
    assert LiveEvent.objects.count() == before


def test_old_events_are_pruned(report, grid):
    from datetime import timedelta

    from django.utils import timezone

    from zhili.cockpit.live import events_prune
    from zhili.cockpit.models import LiveEvent

    report(on=grid)
    LiveEvent.objects.update(at=timezone.now() - timedelta(days=1))
    report(on=grid)
    assert events_prune() >= 1
    assert LiveEvent.objects.count() == 1
