"""/api/v1/geo: locate (public and batch), nodes, children GeoJSON; the three-way permission cases."""

import pytest

from zhili.geo.coords import wgs84_to_gcj02

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def centre(node):
    return {"lon": node.centre_lon, "lat": node.centre_lat}


# -- GET /locate (public) ----------------------------------------------------


def test_locate_names_the_whole_chain(api, grid, community, street, district):
    response = api.get("/geo/locate", **centre(grid))
    assert response.status_code == 200
    body = response.json()
    assert body["grid"]["code"] == grid.code
    assert body["community"]["code"] == community.code
    assert body["street"]["code"] == street.code
    assert body["district"] == {"code": district.code, "name": "渝中区",
                                "name_en": district.name_en}
    assert body["point"] == centre(grid)


def test_smoke_point_is_in_yuzhong(api):
    response = api.get("/geo/locate", lon="106.574", lat="29.557")
    assert response.status_code == 200
    assert response.json()["district"]["name"] == "渝中区"


def test_locate_converts_gcj02(api, grid):
    glon, glat = wgs84_to_gcj02(grid.centre_lon, grid.centre_lat)
    body = api.get("/geo/locate", lon=glon, lat=glat, crs="gcj02").json()
    assert body["grid"]["code"] == grid.code
    assert abs(body["point"]["lon"] - grid.centre_lon) < 1e-7
    assert abs(body["point"]["lat"] - grid.centre_lat) < 1e-7


@pytest.mark.parametrize("params, field", [
    ({"lon": "abc", "lat": "29.5"}, "lon"),
    ({"lon": "nan", "lat": "29.5"}, "lon"),
    ({"lon": "106.5", "lat": "inf"}, "lat"),
    ({"lon": "-Infinity", "lat": "29.5"}, "lon"),
    ({"lon": "181", "lat": "29.5"}, "lon"),
    ({"lon": "106.5", "lat": "-90.5"}, "lat"),
    ({"lat": "29.5"}, "lon"),
    ({"lon": "106.5", "lat": "29.5", "crs": "bd09"}, "crs"),
])
def test_bad_coordinates_are_422_naming_the_field(api, params, field):
    response = api.get("/geo/locate", **params)
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation-failed"
    assert field in [e["field"] for e in body["errors"]]


def test_outside_the_city_is_404_outside_city(api):
    response = api.get("/geo/locate", lon="0", lat="0")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "outside-city"
    assert response.json()["type"].endswith("/outside-city")


def test_locate_query_count(api, grid, django_assert_max_num_queries):
    api.get("/geo/locate", **centre(grid))  # builds the index
    with django_assert_max_num_queries(2):  # the boundary version check (+ session if any)
        assert api.get("/geo/locate", **centre(grid)).status_code == 200


# -- POST /locate (batch, login required) ----------------------------------


def test_batch_needs_a_login(api, grid):
    response = api.post("/geo/locate", {"points": [centre(grid)]})
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_batch_answers_each_point_in_order(api, bearer, grid_worker, grid, other_grid):
    points = [centre(grid), {"lon": 0, "lat": 0}, centre(other_grid)]
    response = api.post("/geo/locate", {"points": points}, headers=bearer(grid_worker))
    assert response.status_code == 200
    body = response.json()
    assert body["found"] == 2
    assert body["results"][0]["grid"]["code"] == grid.code
    assert body["results"][1] is None
    # Locating is public geography, so another area's point is answered too.
    assert body["results"][2]["grid"]["code"] == other_grid.code


def test_batch_converts_gcj02(api, bearer, grid_worker, grid):
    glon, glat = wgs84_to_gcj02(grid.centre_lon, grid.centre_lat)
    body = api.post("/geo/locate", {"crs": "gcj02", "points": [{"lon": glon, "lat": glat}]},
                    headers=bearer(grid_worker)).json()
    assert body["results"][0]["grid"]["code"] == grid.code


def test_batch_limit_is_10000(api, bearer, grid_worker, grid):
    headers = bearer(grid_worker)
    ok = api.post("/geo/locate", {"points": [centre(grid)] * 10_000}, headers=headers)
    assert ok.status_code == 200 and ok.json()["found"] == 10_000
    over = api.post("/geo/locate", {"points": [centre(grid)] * 10_001}, headers=headers)
    assert over.status_code == 422
    assert over["Content-Type"] == PROBLEM
    assert "points" in [e["field"] for e in over.json()["errors"]]


def test_batch_bad_point_names_it(api, bearer, grid_worker, grid):
    response = api.post("/geo/locate", {"points": [centre(grid), {"lon": 200, "lat": 0}]},
                        headers=bearer(grid_worker))
    assert response.status_code == 422
    assert "points.1.lon" in [e["field"] for e in response.json()["errors"]]


# -- nodes: three-way permission ----------------------------------------------


@pytest.mark.parametrize("path", ["/geo/nodes", "/geo/nodes/500103001001001",
                                  "/geo/nodes/500103001001/children"])
def test_nodes_need_a_login(api, path):
    response = api.get(path)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_worker_reads_own_grid_and_the_way_down(api, bearer, grid_worker, grid, community,
                                                street, district, city):
    headers = bearer(grid_worker)
    body = api.get(f"/geo/nodes/{grid.code}", headers=headers).json()
    assert body["code"] == grid.code and body["level"] == "grid"
    assert [a["code"] for a in body["ancestors"]] == [city.code, district.code, street.code,
                                                      community.code]
    assert body["parent_code"] == community.code
    # The ancestors are visible, each showing only the child on the way down.
    street_body = api.get(f"/geo/nodes/{street.code}", headers=headers).json()
    assert street_body["child_count"] == 1


def test_worker_gets_404_for_another_streets_grid(api, bearer, grid_worker, other_grid,
                                                  other_street):
    headers = bearer(grid_worker)
    for code in (other_grid.code, other_street.code):
        response = api.get(f"/geo/nodes/{code}", headers=headers)
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
        assert response.json()["code"] == "not-found"
    assert api.get(f"/geo/nodes/{other_street.code}/children",
                   headers=headers).status_code == 404
    missing = api.get("/geo/nodes/500103999999999", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not-found"


def test_resident_without_geo_permission_sees_nothing(api, bearer, resident, grid):
    headers = bearer(resident)
    assert api.get(f"/geo/nodes/{grid.code}", headers=headers).status_code == 404
    assert api.get("/geo/nodes", headers=headers).json()["count"] == 0


def test_node_list_is_scoped(api, bearer, grid_worker, street_operator, grid, other_grid):
    worker = api.get("/geo/nodes", headers=bearer(grid_worker), page_size=500).json()
    codes = {n["code"] for n in worker["items"]}
    assert grid.code in codes and other_grid.code not in codes
    assert worker["count"] == 5  # city, district, street, community, grid
    grids = api.get("/geo/nodes", headers=bearer(street_operator), level="grid",
                    page_size=500).json()
    assert grids["count"] > 1
    assert all(n["code"].startswith("500103001") for n in grids["items"])


def test_node_list_filters(api, bearer, city_admin, street, other_street):
    headers = bearer(city_admin)
    by_parent = api.get("/geo/nodes", headers=headers, parent="500103").json()
    assert {n["code"] for n in by_parent["items"]} >= {street.code, other_street.code}
    assert all(n["level"] == "street" for n in by_parent["items"])
    by_name = api.get("/geo/nodes", headers=headers, q="渝中区").json()
    assert [n["code"] for n in by_name["items"]] == ["500103000000"]
    by_code = api.get("/geo/nodes", headers=headers, q="500103001001", level="grid").json()
    assert by_code["count"] >= 1
    bad = api.get("/geo/nodes", headers=headers, level="planet")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "level"
    assert api.get("/geo/nodes", headers=headers, page_size=501).status_code == 422


def test_node_list_query_count(api, bearer, street_operator, django_assert_max_num_queries):
    headers = bearer(street_operator)
    with django_assert_max_num_queries(5):  # token, assignments, count, page (+ token touch)
        response = api.get("/geo/nodes", headers=headers, page_size=200)
    assert response.status_code == 200 and len(response.json()["items"]) > 50


# -- children GeoJSON --------------------------------------------------------


def test_children_are_geojson(api, bearer, street_operator, street):
    response = api.get(f"/geo/nodes/{street.code}/children", headers=bearer(street_operator),
                       zoom=14)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["zoom"] == 14
    assert len(body["features"]) == street.children.count()
    feature = body["features"][0]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert set(feature["properties"]) == {"code", "name", "name_en", "level", "synthetic",
                                          "child_count"}
    assert feature["properties"]["level"] == "community"
    assert feature["properties"]["synthetic"] is True
    assert feature["properties"]["child_count"] > 0
    ring = feature["geometry"]["coordinates"][0]
    ring = ring[0] if feature["geometry"]["type"] == "MultiPolygon" else ring
    assert ring[0] == ring[-1]
    assert all(len(str(c).split(".")[-1]) <= 6 for c in ring[0])  # rounded


def test_children_are_simplified_more_when_zoomed_out(api, bearer, city_admin, district):
    headers = bearer(city_admin)

    def vertices(zoom):
        body = api.get(f"/geo/nodes/{district.code}/children", headers=headers, zoom=zoom).json()
        return sum(len(str(f["geometry"]["coordinates"])) for f in body["features"])

    assert vertices(9) < vertices(18)


def test_children_filtered_to_the_way_down(api, bearer, grid_worker, district, street):
    body = api.get(f"/geo/nodes/{district.code}/children", headers=bearer(grid_worker)).json()
    assert [f["properties"]["code"] for f in body["features"]] == [street.code]
    assert body["features"][0]["properties"]["child_count"] == 1


def test_children_of_a_grid_are_empty(api, bearer, grid_worker, grid):
    body = api.get(f"/geo/nodes/{grid.code}/children", headers=bearer(grid_worker)).json()
    assert body["features"] == []


def test_children_zoom_is_validated(api, bearer, grid_worker, grid):
    response = api.get(f"/geo/nodes/{grid.code}/children", headers=bearer(grid_worker), zoom=30)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "zoom"


def test_children_query_count(api, bearer, street_operator, street,
                              django_assert_max_num_queries):
    headers = bearer(street_operator)
    url = f"/geo/nodes/{street.code}/children"
    with django_assert_max_num_queries(7):  # token, assignments, node, version, children, counts
        api.get(url, headers=headers, zoom=13)
    with django_assert_max_num_queries(5):  # cached geometry: no children queries
        assert api.get(url, headers=headers, zoom=13).status_code == 200


def test_node_code_is_validated(api, bearer, grid_worker):
    response = api.get("/geo/nodes/50x", headers=bearer(grid_worker))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "code"


def test_short_codes_are_accepted(api, bearer, city_admin):
    body = api.get("/geo/nodes/500103", headers=bearer(city_admin)).json()
    assert body["code"] == "500103000000" and body["level"] == "district"
