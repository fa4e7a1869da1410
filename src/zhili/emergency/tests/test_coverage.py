"""The coverage run over the demo city, its pages, API and layers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from zhili.emergency import selectors
from zhili.emergency.coverage import coverage_compute
from zhili.emergency.models import CoverageRun, GridCoverage, PointCoverage, RescueResource
from zhili.emergency.tasks import coverage_recompute

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(db):
    return coverage_compute(reason="test")


def test_every_risk_point_and_grid_gets_each_class_best_time(run):
    from zhili.geo.models import AreaNode
    from zhili.warning.models import RiskPoint

    assert run.status == "done" and run.network is not None and run.network.synthetic
    assert PointCoverage.objects.filter(run=run).count() == RiskPoint.objects.count() == run.points
    assert GridCoverage.objects.filter(run=run).count() == AreaNode.objects.filter(level="grid").count()
    row = PointCoverage.objects.filter(run=run).exclude(ground_s=None).first()
    resource = RescueResource.objects.get(pk=row.ground_resource_id)
    assert resource.rescue_class == "ground" and resource.availability == "available"
    assert set(run.polygons) <= {"air", "ground", "responders"} and "air" in run.polygons
    assert not CoverageRun.objects.filter(pk__lt=run.pk, status="done").exists() or \
        not PointCoverage.objects.filter(run_id__lt=run.pk).exists()


def test_with_no_ground_resource_free_every_point_is_a_ground_gap(run):
    RescueResource.objects.filter(kind__in=["fire_station", "professional_team"]).update(
        availability="busy")
    again = coverage_compute(reason="test")
    assert again.unreachable["ground"] == again.points
    gaps = PointCoverage.objects.filter(run=again, gap=True)
    assert gaps.count() == again.points and not gaps.exclude(ground_s=None).exists()
    summary = selectors.coverage_summary("50/")
    assert summary["classes"]["ground"]["share"] == 0.0
    assert summary["population"]["classes"]["ground"]["share"] == 0.0


def test_a_recompute_requested_before_the_last_run_is_skipped(run):
    earlier = (timezone.now() - timedelta(minutes=5)).isoformat()
    assert coverage_recompute.call(reason="x", requested_at=earlier) is None
    later = (timezone.now() + timedelta(seconds=1)).isoformat()
    assert coverage_recompute.call(reason="x", requested_at=later) is not None


def test_summary_shares_per_class(run, district):
    summary = selectors.coverage_summary(district.path)
    assert summary["run"] == run.pk and summary["points"] == run.points
    for cls in ("air", "ground", "responders"):
        share = summary["classes"][cls]
        assert 0 <= share["covered"] <= summary["points"] and share["target_s"] > 0


def test_coverage_page_three_ways(client, settings, run, district_operator, street_operator,
                                  grid_worker, street, other_street):
    settings.LANGUAGE_CODE = "en"
    client.force_login(district_operator)
    page = client.get("/emergency/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Rescue circles" in text and "Gaps" in text and "of residents" in text
    client.force_login(street_operator)
    table = selectors.coverage_table(actor=street_operator)
    assert {r["path"] for r in table["rows"] if r["level"] == "street"} <= {street.path}
    assert all(g.area_path.startswith(street.path)
               for g in selectors.gap_list(actor=street_operator))
    client.force_login(grid_worker)
    assert client.get("/emergency/").status_code == 403
    assert client.get("/emergency/layers/circles.geojson").status_code == 403
    assert client.get("/api/v1/emergency/coverage").status_code == 403


def test_coverage_page_in_chinese(client, run, district_operator):
    client.force_login(district_operator)
    page = client.get("/emergency/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200


def test_api_coverage_gaps_and_circles_layer(client, run, district_operator,
                                              django_assert_max_num_queries):
    client.force_login(district_operator)
    body = client.get("/api/v1/emergency/coverage").json()
    assert body["run"] == run.pk and body["population"]["total"] > 0
    assert body["rows"][0]["level"] == "district"
    gaps = client.get("/api/v1/emergency/coverage/gaps")
    assert gaps.status_code == 200
    client.get("/emergency/layers/circles.geojson")
    with django_assert_max_num_queries(6):
        layer = client.get("/emergency/layers/circles.geojson").json()
    assert {f["id"] for f in layer["features"]} <= {"air", "ground", "responders"}
    assert layer["features"]


def test_the_summary_counts_points_inside_every_circle_and_supervision_reads_it(
        run, district, settings):
    from datetime import date

    from zhili.emergency.models import PointCoverage
    from zhili.supervision.selectors import kpi_value

    rows = PointCoverage.objects.filter(run=run, area_path__startswith=district.path)
    targets = run.targets
    inside = sum(all(getattr(p, f"{c}_s") is not None and getattr(p, f"{c}_s") <= targets[c]
                     for c in ("air", "ground", "responders")) for p in rows)
    summary = selectors.coverage_summary(district.path)
    assert summary["covered"] == inside
    assert summary["share"] == (round(inside / summary["points"], 4) if summary["points"] else None)
    settings.LANGUAGE_CODE = "en"
    v = kpi_value("supervision.rescue_coverage", district.path, "month", date(2026, 1, 1))
    assert (v.value, v.reason) == (summary["share"], "") or summary["share"] is None
