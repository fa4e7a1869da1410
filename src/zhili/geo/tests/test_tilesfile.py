"""ZHILI_TILES_FILE: Zhili serves a local MBTiles or PMTiles archive, and `check` refuses a bad one."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from zhili.geo import tilesfile
from zhili.geo.tests.tiles_archives import mbtiles, pmtiles, png

TILES = {(0, 0, 0): png(10), (1, 0, 0): png(20), (1, 1, 0): png(30), (1, 0, 1): png(40)}


@pytest.fixture(params=["mbtiles", "pmtiles"])
def archive_path(request, tmp_path):
    build = mbtiles if request.param == "mbtiles" else pmtiles
    return build(tmp_path / f"t.{request.param}", TILES)


def test_tiles_are_served_with_their_type_and_cache_headers(client, resident, archive_path):
    client.force_login(resident)
    with override_settings(ZHILI_TILES_FILE=archive_path):
        for (z, x, y), data in TILES.items():  # (1, 0, 1) vs (1, 0, 0): the TMS flip is right
            response = client.get(f"/geo/tiles/{z}/{x}/{y}")
            assert response.status_code == 200 and response.content == data
            assert response["Content-Type"] == "image/png"
            assert "max-age" in response["Cache-Control"]
        etag = client.get("/geo/tiles/1/1/0")["ETag"]
        assert client.get("/geo/tiles/1/1/0", headers={"If-None-Match": etag}).status_code == 304
        assert client.get("/geo/tiles/1/1/1").status_code == 404  # not in the archive
        assert client.get("/geo/tiles/1/2/0").status_code == 404  # not a tile at all
        assert all(e.id != "zhili.E201" for e in run_checks())


def test_the_page_uses_the_archive_with_its_attribution(client, resident, tmp_path):
    path = mbtiles(tmp_path / "a.mbtiles", TILES, attribution="Local survey")
    client.force_login(resident)
    with override_settings(ZHILI_TILES_FILE=path, ZHILI_TILE_URL=""):
        html = client.get("/governance/report/").content.decode()
    assert '"tiles": "/geo/tiles/{z}/{x}/{y}"' in html and "Local survey" in html
    assert '"tilesMaxZoom": 1' in html


def test_no_archive_is_404(client, resident):
    client.force_login(resident)
    assert client.get("/geo/tiles/0/0/0").status_code == 404


def test_anonymous_is_sent_to_login(client, db, archive_path):
    with override_settings(ZHILI_TILES_FILE=archive_path):
        assert client.get("/geo/tiles/0/0/0").status_code == 302


def _errors(path):
    with override_settings(ZHILI_TILES_FILE=str(path)):
        return [e for e in run_checks() if e.id == "zhili.E201"]


def test_check_names_a_missing_corrupt_or_vector_archive(tmp_path, db):
    assert "No such file" in _errors(tmp_path / "missing.mbtiles")[0].msg
    junk = tmp_path / "junk.pmtiles"
    junk.write_bytes(b"not tiles at all")
    assert "neither MBTiles" in _errors(junk)[0].msg
    broken = tmp_path / "broken.pmtiles"
    broken.write_bytes(b"PMTiles\x03" + b"\x00" * 10)
    assert "not a readable PMTiles" in _errors(broken)[0].msg
    vector = mbtiles(tmp_path / "v.mbtiles", {(0, 0, 0): b"\x1a\x00"}, fmt="pbf")
    assert "vector tiles" in _errors(vector)[0].msg
    good = mbtiles(tmp_path / "g.mbtiles", TILES)
    assert _errors(good) == []


def test_a_replaced_archive_is_reopened(tmp_path, client, resident):
    path = tmp_path / "r.mbtiles"
    mbtiles(path, {(0, 0, 0): png(1)})
    client.force_login(resident)
    with override_settings(ZHILI_TILES_FILE=str(path)):
        assert client.get("/geo/tiles/0/0/0").content == png(1)
        path.unlink()
        mbtiles(path, {(0, 0, 0): png(2), (3, 1, 1): png(3)})
        assert client.get("/geo/tiles/0/0/0").content == png(2)
        assert tilesfile.archive().info.max_zoom == 3
