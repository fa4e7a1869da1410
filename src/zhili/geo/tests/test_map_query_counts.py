"""The one map's own calls to geo, pinned: the area it opens on (`/api/v1/geo/nodes/{code}`,
read with the page's session before the boundaries) and a raster tile of the local
archive (`/geo/tiles/{z}/{x}/{y}`). The boundaries and base tiles are pinned in
test_query_counts.py."""

from __future__ import annotations

import pytest
from django.test import override_settings

from zhili.core.tests.queries import assert_flat
from zhili.geo.tests.tiles_archives import mbtiles, pmtiles, png

pytestmark = pytest.mark.django_db


def test_the_area_the_map_opens_on(client, district_operator, district, street, community,
                                   django_assert_max_num_queries, django_assert_num_queries):
    """The same queries for an area with few children as for one with many."""
    client.force_login(district_operator)

    def children(code):
        return client.get(f"/api/v1/geo/nodes/{code}").json()["child_count"]

    small, big = sorted((street.code, district.code, community.code), key=children)[1:]
    assert children(small) < children(big)
    shown = {"code": small}
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get(f"/api/v1/geo/nodes/{shown['code']}"),
                grow=lambda: shown.update(code=big),
                rows=lambda r: r.json()["child_count"], most=6)


@pytest.mark.parametrize("build", [mbtiles, pmtiles], ids=["mbtiles", "pmtiles"])
def test_a_raster_tile_reads_no_table_of_its_own(client, resident, tmp_path, build,
                                                 django_assert_max_num_queries):
    """Only the session and the user: the tile itself comes from the archive file."""
    archive = build(tmp_path / f"t.{build.__name__}", {(0, 0, 0): png(10), (1, 1, 0): png(30)})
    client.force_login(resident)
    with override_settings(ZHILI_TILES_FILE=archive):
        client.get("/geo/tiles/0/0/0")
        for z, x, y in ((0, 0, 0), (1, 1, 0)):
            with django_assert_max_num_queries(2):
                assert client.get(f"/geo/tiles/{z}/{x}/{y}").status_code == 200
