"""The locate index answers exactly what a brute-force scan over all grids answers."""

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from zhili.geo import index, selectors
from zhili.geo.index import GridRaster, brute_force
from zhili.geo.models import AreaNode, BoundaryVersion, Level


@pytest.fixture(scope="module")
def small_grids(django_db_setup, django_db_blocker):
    """The session city's grids in code order, and their raster index."""
    with django_db_blocker.unblock():
        rows = list(AreaNode.objects.filter(level=Level.GRID).order_by("code")
                    .values_list("geometry", flat=True))
    geoms = shapely.from_wkb([bytes(r) for r in rows])
    return geoms, GridRaster(geoms), shapely.total_bounds(geoms)


def test_small_city_has_grids(small_grids):
    geoms, raster, _ = small_grids
    assert len(geoms) >= 400
    assert raster.raster.size >= len(geoms) * 100  # fine enough that most cells are interior


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=40))
def test_random_points_match_brute_force(small_grids, unit_points):
    geoms, raster, (x0, y0, x1, y1) = small_grids
    # Points over the bbox grown by 5%, so some fall outside the city too.
    pts = np.array(unit_points) * 1.1 - 0.05
    x, y = x0 + pts[:, 0] * (x1 - x0), y0 + pts[:, 1] * (y1 - y0)
    assert raster.lookup(x, y).tolist() == brute_force(geoms, x, y).tolist()


def test_many_points_match_brute_force(small_grids):
    geoms, raster, (x0, y0, x1, y1) = small_grids
    rng = np.random.default_rng(7)
    x, y = rng.uniform(x0, x1, 3000), rng.uniform(y0, y1, 3000)
    assert (raster.lookup(x, y) == brute_force(geoms, x, y)).all()


def test_vertices_and_edge_points_go_to_the_lowest_code(small_grids):
    """Points on shared edges and corners: the lowest code among the grids touching them."""
    geoms, raster, _ = small_grids
    xy = shapely.get_coordinates(geoms[:60])
    mid = (xy[:-1] + xy[1:]) / 2
    pts = np.vstack([xy, mid])
    expected = brute_force(geoms, pts[:, 0], pts[:, 1])
    assert (raster.lookup(pts[:, 0], pts[:, 1]) == expected).all()
    assert (expected >= 0).mean() > 0.9


def test_shared_edge_and_overlap_rules():
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    overlap = box(1.5, 0.5, 3, 3)  # overlaps `right`: invalid data, still deterministic
    holed = Polygon([(3, 0), (5, 0), (5, 2), (3, 2)], [[(3.5, 0.5), (4.5, 0.5), (4.5, 1.5), (3.5, 1.5)]])
    enclave = box(3.5, 0.5, 4.5, 1.5)
    multi = MultiPolygon([box(6, 0, 7, 1), box(8, 0, 9, 1)])
    geoms = np.array([left, right, overlap, holed, enclave, multi], dtype=object)
    raster = GridRaster(geoms, target_cells=400)
    x = np.array([1.0, 0.5, 1.5, 1.75, 2.5, 4.0, 3.2, 3.5, 6.5, 8.5, 7.5, -1, np.nan, 1.0])
    y = np.array([0.5, 0.5, 0.25, 0.75, 2.5, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0, 0.5, 1.0])
    got = raster.lookup(x, y).tolist()
    assert got == brute_force(geoms, x, y).tolist()
    assert got[:11] == [0, 0, 1, 1, 2, 4, 3, 3, 5, 5, -1]
    assert got[11:13] == [-1, -1]  # outside the raster; NaN
    assert got[13] == 0  # the corner shared by left and right


def test_empty_index():
    raster = GridRaster(np.array([], dtype=object))
    assert raster.lookup([1.0], [2.0]).tolist() == [-1]


def test_an_empty_geometry_holds_nothing():
    geoms = np.array([Polygon(), box(0, 0, 1, 1)], dtype=object)
    raster = GridRaster(geoms, target_cells=100)
    assert raster.lookup([0.5, 2.0], [0.5, 2.0]).tolist() == [1, -1]


def test_index_agrees_with_the_database_scan(city):
    rng = np.random.default_rng(3)
    x = rng.uniform(city.min_lon, city.max_lon, 200)
    y = rng.uniform(city.min_lat, city.max_lat, 200)
    found = index.get_index().locate_many(x, y)
    for xi, yi, f in zip(x, y, found, strict=True):
        scanned = selectors.locate_by_scan(float(xi), float(yi))
        assert (f.grid.code if f else None) == (scanned.grid.code if scanned else None)


def test_located_carries_the_hierarchy(grid, community, street, district):
    found = index.get_index().locate(grid.centre_lon, grid.centre_lat)
    assert found.grid.code == grid.code
    assert (found.community.code, found.street.code, found.district.code) == (
        community.code, street.code, district.code)


def test_index_rebuilds_when_the_boundary_version_changes(db):
    from zhili.geo.services import boundary_version_bump

    first = index.get_index()
    assert index.get_index() is first
    boundary_version_bump()
    second = index.get_index()
    assert second is not first
    assert second.version == BoundaryVersion.objects.get(pk=1).version


def test_version_is_checked_at_most_once_per_interval(db, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(index, "CHECK_INTERVAL", 60.0)
    index.get_index()
    with django_assert_num_queries(0):
        for _ in range(5):
            index.get_index()
