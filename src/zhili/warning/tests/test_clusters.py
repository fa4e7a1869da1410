"""The risk-point layer for a map's viewport: clusters counted in the database over
the viewer's whole area, the points themselves when zoomed in, bad boxes refused."""

from __future__ import annotations

from collections import Counter

import pytest

from zhili.core.tests.queries import assert_flat
from zhili.geo.tests import viewports
from zhili.geo.viewport import POINTS_FROM_ZOOM, Viewport
from zhili.warning.models import RiskPoint

pytestmark = pytest.mark.django_db
URL = "/warning/layers/points.geojson"


def box(rows, margin=0.01) -> str:
    return viewports.box(rows, margin)


def layer(client, bbox, zoom):
    return viewports.layer_get(client, URL, bbox, zoom)


def test_clusters_count_every_point_of_the_viewers_area(client, district_operator, street_operator,
                                                        district, street):
    everything = RiskPoint.objects.all()
    bbox = box(everything)
    client.force_login(district_operator)
    body = layer(client, bbox, 9)
    district_points = RiskPoint.objects.filter(grid__path__startswith=district.path).count()
    assert body["clustered"] and body["total"] == viewports.represented(body["features"]) == district_points
    assert any(f["properties"].get("cluster") for f in body["features"])
    assert len(body["features"]) < district_points  # clustered, not sent whole

    client.force_login(street_operator)
    mine = layer(client, bbox, 9)
    assert mine["total"] == RiskPoint.objects.filter(grid__path__startswith=street.path).count()
    assert 0 < mine["total"] < district_points


def test_the_database_cells_are_the_python_cells(client, district_operator, district):
    """The warnings' cells are found in Python, the points' in SQL: the same arithmetic."""
    client.force_login(district_operator)
    points = RiskPoint.objects.filter(grid__path__startswith=district.path)
    for zoom in (8, 11, 13):
        viewport = Viewport.from_query({"bbox": box(points), "zoom": str(zoom)})
        expected = Counter(viewport.cell_of(lon, lat) for lon, lat in points.values_list("lon", "lat"))
        body = layer(client, box(points), zoom)
        got = Counter()
        for f in body["features"]:
            lon, lat = f["geometry"]["coordinates"]
            if f["properties"].get("cluster"):
                x, y = (int(v) for v in f["id"].split(":")[1:])
                got[(x, y)] += f["properties"]["count"]
            else:
                got[viewport.cell_of(lon, lat)] += 1
        assert got == expected, zoom


def test_a_cluster_takes_its_most_severe_open_warning(client, district_operator, district):
    from zhili.warning.handling import warning_raise_by_operator

    points = RiskPoint.objects.filter(grid__path__startswith=district.path)
    client.force_login(district_operator)

    def cluster_of(point, zoom=9):
        viewport = Viewport.from_query({"bbox": box(points), "zoom": str(zoom)})
        x, y = viewport.cell_of(point.lon, point.lat)
        key = f"cell:{x}:{y}"
        features = layer(client, box(points), zoom)["features"]
        return next(f for f in features if f["id"] == key)["properties"]

    target = points.order_by("code").first()
    calm = cluster_of(target)
    assert calm["cluster"] and calm["count"] > 1
    warning_raise_by_operator(actor=district_operator, point_code=target.code, level="2", note="坡体出现裂缝")
    raised = cluster_of(target)
    assert raised["count"] == calm["count"]
    assert raised["warning_level"] >= 2 and raised["colour"] != "grey"


def test_zoomed_in_the_points_in_the_box_and_only_those(client, district_operator, district):
    points = RiskPoint.objects.filter(grid__path__startswith=district.path).order_by("code")
    target = points.first()
    client.force_login(district_operator)
    d = 0.002
    bbox = f"{target.lon - d},{target.lat - d},{target.lon + d},{target.lat + d}"
    body = layer(client, bbox, POINTS_FROM_ZOOM)
    assert "clustered" not in body
    codes = {f["properties"]["code"] for f in body["features"]}
    inside = {p.code for p in points if abs(p.lon - target.lon) < d and abs(p.lat - target.lat) < d}
    assert target.code in codes and codes == inside
    assert not any(f["properties"].get("cluster") for f in body["features"])


@pytest.mark.parametrize("query, field", [
    ({"bbox": "106,29,107"}, "bbox"),
    ({"bbox": "a,b,c,d", "zoom": "9"}, "bbox"),
    ({"bbox": "107,29,106,30", "zoom": "9"}, "bbox"),  # west past east
    ({"bbox": "106,29,107,nan", "zoom": "9"}, "bbox"),
    ({"bbox": "106,29,107,91", "zoom": "9"}, "bbox"),
    ({"bbox": "106,29,107,30"}, "zoom"),
    ({"bbox": "106,29,107,30", "zoom": "-1"}, "zoom"),
    ({"bbox": "106,29,107,30", "zoom": "23"}, "zoom"),
    ({"bbox": "106,29,107,30", "zoom": "１"}, "zoom"),  # a full-width digit
    ({"bbox": "-180,-85,180,85", "zoom": "13"}, "bbox"),  # the world, cell by cell
])
def test_a_bad_box_or_zoom_is_refused_naming_it(client, district_operator, query, field):
    client.force_login(district_operator)
    response = client.get(URL, query)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


def test_without_a_viewport_the_layer_is_the_list_it_was(client, street_operator, street):
    client.force_login(street_operator)
    body = client.get(URL).json()
    assert "clustered" not in body
    assert len(body["features"]) == RiskPoint.objects.filter(grid__path__startswith=street.path).count()


def test_the_clustered_layer_is_flat(client, district_operator, district, grid,
                                     django_assert_max_num_queries, django_assert_num_queries):
    """More points (and a new single) cost no more queries: one GROUP BY, the singles,
    the warnings."""
    from zhili.warning.services import risk_point_create

    points = RiskPoint.objects.filter(grid__path__startswith=district.path)
    bbox = box(points, margin=0.05)
    client.force_login(district_operator)

    def grow():
        for i in range(3):
            risk_point_create(actor=None, code=f"RP-FLAT-{i}", name="网格中心", category="landslide",
                              lon=grid.centre_lon + i * 0.00001, lat=grid.centre_lat)

    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get(URL, {"bbox": bbox, "zoom": "9"}), grow=grow,
                rows=lambda r: r.json()["total"], most=8)
