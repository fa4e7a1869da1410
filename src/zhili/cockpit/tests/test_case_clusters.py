"""The live-case layer for a map's viewport: the cases in the box; more of them than
CLUSTER_ABOVE below zoom 14, counted per screen cell in the database with how many
are overdue, so a city's whole open queue is counted, not its newest 2,000."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from zhili.cockpit import selectors
from zhili.core.tests.queries import assert_flat
from zhili.geo.tests import viewports
from zhili.governance.models import Case

pytestmark = pytest.mark.django_db
URL = "/cockpit/layers/cases.geojson"
OPEN = ("reported", "accepted", "dispatched", "on_site", "reopened")


def box(rows, margin=0.02) -> str:
    return viewports.box(rows, margin)


def layer(client, bbox, zoom):
    return viewports.layer_get(client, URL, bbox, zoom)


@pytest.fixture
def few_above(monkeypatch):
    """Clusters from 3 cases up, so the demo's open cases are enough to cluster."""
    monkeypatch.setattr(selectors, "CLUSTER_ABOVE", 3)


def test_many_open_cases_are_counted_in_cells_with_the_overdue(client, few_above, report, grid,
                                                               district, district_operator):
    for _ in range(4):
        report(on=grid)
    late = report(on=grid)
    Case.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    mine = Case.objects.filter(area_path__startswith=district.path, status__in=OPEN)
    client.force_login(district_operator)
    body = layer(client, box(mine), 9)
    assert body["clustered"] and body["total"] == viewports.represented(body["features"]) == mine.count()
    clusters = [f["properties"] for f in body["features"] if f["properties"].get("cluster")]
    assert clusters
    overdue = mine.filter(due_at__lt=timezone.now()).count()
    singles_overdue = sum(1 for f in body["features"]
                          if not f["properties"].get("cluster") and f["properties"]["overdue"])
    assert sum(c["overdue"] for c in clusters) + singles_overdue == overdue
    assert any(c["colour"] == "purple" for c in clusters if c["overdue"])


def test_a_few_open_cases_come_as_themselves(client, report, grid, street, street_operator):
    report(on=grid)
    mine = Case.objects.filter(area_path__startswith=street.path, status__in=OPEN)
    client.force_login(street_operator)
    body = layer(client, box(mine), 9)
    assert "clustered" not in body
    assert {f["properties"]["tracking_no"] for f in body["features"]} == \
        set(mine.values_list("tracking_no", flat=True))


def test_zoomed_in_only_the_cases_in_the_box(client, few_above, report, grid, district_operator):
    case = report(on=grid)
    d = 0.0005
    client.force_login(district_operator)
    body = layer(client, f"{case.lon - d},{case.lat - d},{case.lon + d},{case.lat + d}", 16)
    assert "clustered" not in body
    shown = {f["properties"]["tracking_no"] for f in body["features"]}
    inside = set(Case.objects.filter(status__in=OPEN, lon__gte=case.lon - d, lon__lt=case.lon + d,
                                     lat__gte=case.lat - d, lat__lt=case.lat + d)
                 .values_list("tracking_no", flat=True))
    assert case.tracking_no in shown and shown == inside


def test_a_bad_box_is_refused_naming_it(client, street_operator):
    client.force_login(street_operator)
    response = client.get(URL, {"bbox": "1,2,3", "zoom": "9"})
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["bbox"]


def test_the_clustered_case_layer_is_flat(client, few_above, report, grid, district,
                                          district_operator, django_assert_max_num_queries,
                                          django_assert_num_queries):
    for _ in range(4):
        report(on=grid)
    bbox = box(Case.objects.filter(area_path__startswith=district.path), margin=0.05)
    client.force_login(district_operator)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get(URL, {"bbox": bbox, "zoom": "9"}),
                grow=lambda: [report(on=grid) for _ in range(3)],
                rows=lambda r: r.json()["total"], most=12)
