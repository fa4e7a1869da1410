"""The vector base map: what a tile holds at each zoom, its caching, GCJ-02, and the roads."""

from __future__ import annotations

import json

import pytest
import shapely
from django.test import override_settings

from zhili.audit.models import AuditEntry
from zhili.core.errors import PermissionDenied
from zhili.geo import basemap, roads
from zhili.geo.coords import wgs84_to_gcj02
from zhili.geo.models import Road
from zhili.geo.services import boundary_version_bump, roads_replace


def tile_at(node, z):
    return (z, *basemap.tile_of(node.centre_lon, node.centre_lat, z))


def layers(fc, layer):
    return [f for f in fc["features"] if f["properties"]["layer"] == layer]


def test_tile_bounds_and_tile_of_agree():
    for z in (0, 5, 12, 17):
        x, y = basemap.tile_of(106.57, 29.55, z)
        west, south, east, north = basemap.tile_bounds(z, x, y)
        assert west <= 106.57 < east and south < 29.55 <= north


def test_low_zoom_shows_districts_and_their_names_only(district):
    fc = basemap.render_tile(*tile_at(district, 9))
    assert {f["properties"]["level"] for f in layers(fc, "boundary")} == {"district"}
    assert not layers(fc, "road")
    assert [f["properties"]["name"] for f in layers(fc, "label")] == [district.name]


def test_street_zoom_has_roads_boundaries_and_street_names(district):
    fc = basemap.render_tile(*tile_at(district, 12))
    assert {f["properties"]["level"] for f in layers(fc, "boundary")} == {"district", "street"}
    assert {f["properties"]["kind"] for f in layers(fc, "road")} == {"primary", "secondary"}
    names = [f["properties"] for f in layers(fc, "label")]
    assert any(p.get("level") == "street" for p in names)
    # Clipped: nothing reaches further than the margin beyond the tile.
    west, south, east, north = basemap.tile_bounds(*tile_at(district, 12))
    dx, dy = ((east - west) * basemap.LINE_MARGIN / 256 * 1.01,
              (north - south) * basemap.LINE_MARGIN / 256 * 1.01)
    for f in layers(fc, "boundary") + layers(fc, "road"):
        for line in f["geometry"]["coordinates"]:
            for lon, lat in line:
                assert west - dx <= lon <= east + dx and south - dy <= lat <= north + dy


def test_road_names_show_when_zoomed_in_and_follow_the_road(grid):
    fc = basemap.render_tile(*tile_at(grid, 16))
    road_labels = [f for f in layers(fc, "label") if "kind" in f["properties"]]
    assert road_labels and all(len(f["properties"]["along"]) == 2 for f in road_labels)
    assert {f["properties"]["kind"] for f in layers(fc, "road")} >= {"residential"}


def test_an_empty_tile_far_away(db):
    assert basemap.render_tile(10, 0, 0)["features"] == []


@override_settings(ZHILI_TILE_URL="https://amap.example/{z}/{x}/{y}.png", ZHILI_TILE_CRS="gcj02")
def test_gcj02_tiles_shift_every_coordinate(district):
    z, x, y = tile_at(district, 9)
    plain, shifted = basemap.render_tile(z, x, y, "wgs84"), basemap.render_tile(z, x, y, "gcj02")
    [label] = layers(plain, "label")
    [moved] = layers(shifted, "label")
    expected = wgs84_to_gcj02(*label["geometry"]["coordinates"])
    assert moved["geometry"]["coordinates"] == pytest.approx(expected, abs=1e-4)
    assert basemap.display_crs() == "gcj02"


def test_endpoint_caches_on_disk_and_in_the_browser(client, resident, district, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    client.force_login(resident)
    z, x, y = tile_at(district, 11)
    response = client.get(f"/geo/base/{z}/{x}/{y}.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    assert "max-age=3600" in response["Cache-Control"]
    assert json.loads(response.content)["features"]
    etag = response["ETag"]
    assert list(tmp_path.glob(f"basemap/*/{z}/{x}/{y}.json"))
    assert client.get(f"/geo/base/{z}/{x}/{y}.json",
                      headers={"If-None-Match": etag}).status_code == 304
    boundary_version_bump()  # new boundaries: a new version, a new ETag
    assert client.get(f"/geo/base/{z}/{x}/{y}.json")["ETag"] != etag


def test_endpoint_refuses_bad_tiles_and_anonymous(client, resident, db):
    assert client.get("/geo/base/3/1/1.json").status_code == 302
    client.force_login(resident)
    for bad in ("20/0/0", "3/8/0", "3/0/8"):
        assert client.get(f"/geo/base/{bad}.json").status_code == 404


def test_page_config_names_the_synthetic_base(client, resident, db):
    client.force_login(resident)
    html = client.get("/governance/report/").content.decode()
    assert 'id="basemap-config"' in html and "geo/basemap.js" in html
    config = basemap.page_config()
    assert config["base"] == "/geo/base/{z}/{x}/{y}.json"
    assert config["crs"] == "wgs84" and config["tiles"] == ""
    from django.utils import translation

    with translation.override("en"):
        assert "synthetic" in basemap.page_config()["baseAttribution"]


def test_the_demo_has_synthetic_labelled_roads(db):
    assert Road.objects.filter(synthetic=True, kind="primary").exclude(name="").exists()
    assert set(Road.objects.values_list("kind", flat=True)) == {"primary", "secondary",
                                                                 "residential"}


def test_roads_from_osm_like_geojson_replace_the_roads(city_admin, db):
    features = [
        {"type": "Feature", "properties": {"highway": "trunk", "name": "长江滨江路",
                                           "name:en": "Changjiang Binjiang Road"},
         "geometry": {"type": "LineString", "coordinates": [[106.56, 29.55], [106.58, 29.56]]}},
        {"type": "Feature", "properties": {"highway": "footway"},
         "geometry": {"type": "LineString", "coordinates": [[106.56, 29.55], [106.57, 29.55]]}},
    ]
    lines = roads.from_geojson(features)
    assert [(r.kind, r.name_en) for r in lines] == [("primary", "Changjiang Binjiang Road")]
    assert roads_replace(actor=city_admin, lines=lines, source="osm") == 1
    assert Road.objects.get().source == "osm"
    assert AuditEntry.objects.filter(action="roads.replace").exists()


def test_bad_road_features_are_named(db):
    with pytest.raises(roads.RoadProblem, match=r"features\[0\].*LineString"):
        roads.from_geojson([{"type": "Feature", "properties": {"highway": "primary"},
                             "geometry": {"type": "Point", "coordinates": [106.5, 29.5]}}])
    with pytest.raises(roads.RoadProblem, match="WGS84"):
        roads.from_geojson([{"type": "Feature", "properties": {"highway": "primary"},
                             "geometry": {"type": "LineString",
                                          "coordinates": [[12000000, 3400000], [1, 1]]}}])


def test_only_a_city_wide_admin_replaces_roads(street_operator, db):
    line = roads.RoadLine("primary", "x", "x", shapely.LineString([(106.5, 29.5), (106.6, 29.6)]))
    with pytest.raises(PermissionDenied):
        roads_replace(actor=street_operator, lines=[line], source="osm")
    assert Road.objects.filter(source="osm").count() == 0


def test_roads_command_imports_a_file_and_names_a_bad_one(tmp_path, db):
    from django.core.management import CommandError, call_command

    good = tmp_path / "roads.geojson"
    good.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"highway": "primary", "name": "中山路"},
         "geometry": {"type": "LineString", "coordinates": [[106.56, 29.55], [106.57, 29.56]]}}]}))
    call_command("city", "roads", str(good))
    assert list(Road.objects.values_list("name", "source")) == [("中山路", "file:roads.geojson")]
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"highway": "primary"}, "geometry": None}]}))
    with pytest.raises(CommandError, match=r"features\[0\]"):
        call_command("city", "roads", str(bad))
    assert Road.objects.count() == 1  # nothing changed
