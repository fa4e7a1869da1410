"""Geo's list and map endpoints cost the same queries however many nodes they show.

Geography is not added by a test (the demo city is the data), so "more rows"
is a wider page of the node list and an area with more children on the map.
"""

from __future__ import annotations

from zhili.core.tests.queries import assert_flat, items


def test_node_list(api, bearer, street_operator,
                   django_assert_max_num_queries, django_assert_num_queries):
    headers = bearer(street_operator)
    size = {"page_size": 5}
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: api.get("/geo/nodes", headers=headers, **size),
                grow=lambda: size.update(page_size=200), rows=items, most=5)


def test_children_map(api, bearer, district_operator, district, street,
                      django_assert_max_num_queries, django_assert_num_queries):
    headers = bearer(district_operator)
    shown = {"code": street.code}
    # A street's communities, then the district's streets (each fetched once first, so the
    # simplified outlines are cached for both and only the per-request reads are counted).
    api.get(f"/geo/nodes/{district.code}/children", headers=headers, zoom=12)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: api.get(f"/geo/nodes/{shown['code']}/children", headers=headers,
                                      zoom=12),
                grow=lambda: shown.update(code=district.code),
                rows=lambda r: len(r.json()["features"]), most=5)


def test_base_map_tile(client, resident, grid, tmp_path, monkeypatch,
                       django_assert_max_num_queries, django_assert_num_queries):
    """A base tile is rendered with the same queries however many roads and areas it holds
    (every fetch renders afresh: each gets an empty disk cache; the extents read once per
    boundary version are warmed first, as the first fetch warms everything)."""
    import itertools

    import shapely

    from zhili.geo import basemap, roads
    from zhili.geo.models import Road
    from zhili.geo.services import roads_replace

    fresh = itertools.count()
    monkeypatch.setattr(basemap, "cache_dir", lambda: tmp_path / str(next(fresh)))
    client.force_login(resident)
    z, x, y = 15, *basemap.tile_of(grid.centre_lon, grid.centre_lat, 15)
    url = f"/geo/base/{z}/{x}/{y}.json"

    def more_roads():
        kept = [roads.RoadLine(r.kind, r.name, r.name_en, shapely.from_wkb(bytes(r.geometry)))
                for r in Road.objects.all()]
        lon, lat = grid.centre_lon, grid.centre_lat
        extra = [roads.RoadLine("residential", f"测试{i}街", f"Test {i} Street",
                                shapely.LineString([(lon - 0.002, lat + i * 1e-4),
                                                    (lon + 0.002, lat + i * 1e-4)]))
                 for i in range(20)]
        roads_replace(lines=kept + extra, source="test")  # a new version: warm its extents
        basemap.render_tile(z, x + 1, y)  # (not a request: that would reset the query log)

    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get(url), grow=more_roads,
                rows=lambda r: len(r.json()["features"]), most=5)
