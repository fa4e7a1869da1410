"""Rescue circles against brute force, one-way streets, disconnected parts, polygons."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from zhili.emergency import circles
from zhili.emergency.graph import RoadGraph


def graph_of(n, edges, spacing=0.01):
    """Nodes on a diagonal-free lattice of distinct points; edges (u, v, seconds) directed."""
    lon = 106.0 + (np.arange(n) % 7) * spacing
    lat = 29.0 + (np.arange(n) // 7) * spacing
    rows = np.array([e[0] for e in edges], dtype=np.int64)
    cols = np.array([e[1] for e in edges], dtype=np.int64)
    weights = np.array([e[2] for e in edges], dtype=np.float64)
    from zhili.emergency.graph import _csr

    drive = _csr(rows, cols, weights, n) if edges else sparse.csr_matrix((n, n))
    return RoadGraph(lon, lat, drive, drive.copy())


@st.composite
def networks(draw):
    n = draw(st.integers(2, 14))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                    st.floats(1, 900, allow_nan=False)), max_size=40))
    sources = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
    places = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=10))
    return n, edges, sources, places


@settings(max_examples=60, deadline=None)
@given(networks())
def test_best_time_and_resource_match_brute_force(case):
    n, edges, sources, places = case
    graph = graph_of(n, edges)
    result = circles.on_graph(graph, "drive", graph.lon[sources], graph.lat[sources],
                              graph.lon[places], graph.lat[places], access_kmh=30)
    # Brute force: a Dijkstra from every resource on its own, the best per place.
    each = np.array([dijkstra(graph.drive, directed=True, indices=s) for s in sources])
    best = each.min(axis=0)[places]
    np.testing.assert_allclose(result.seconds, best)
    for i, place in enumerate(places):
        if np.isinf(best[i]):
            assert result.resource[i] == circles.NONE
        else:  # the named resource really gives the best time
            assert each[result.resource[i], place] == pytest.approx(best[i])


def test_one_way_streets_are_driven_their_own_way():
    # 0 -> 1 -> 2, one way; a resource at 2 cannot drive back to 0, one at 0 reaches 2.
    graph = graph_of(3, [(0, 1, 60.0), (1, 2, 60.0)])
    at_end = circles.on_graph(graph, "drive", graph.lon[[2]], graph.lat[[2]],
                              graph.lon[[0]], graph.lat[[0]], 30)
    at_start = circles.on_graph(graph, "drive", graph.lon[[0]], graph.lat[[0]],
                                graph.lon[[2]], graph.lat[[2]], 30)
    assert np.isinf(at_end.seconds[0]) and at_end.resource[0] == circles.NONE
    assert at_start.seconds[0] == pytest.approx(120.0) and at_start.resource[0] == 0


def test_a_disconnected_part_is_unreachable():
    graph = graph_of(4, [(0, 1, 10.0), (1, 0, 10.0), (2, 3, 10.0), (3, 2, 10.0)])
    result = circles.on_graph(graph, "drive", graph.lon[[0]], graph.lat[[0]],
                              graph.lon[[1, 2, 3]], graph.lat[[1, 2, 3]], 30)
    assert result.seconds[0] == pytest.approx(10.0)
    assert np.isinf(result.seconds[1:]).all() and (result.resource[1:] == circles.NONE).all()


def test_no_resources_reach_nothing():
    graph = graph_of(2, [(0, 1, 5.0)])
    result = circles.on_graph(graph, "drive", [], [], graph.lon, graph.lat, 30)
    assert np.isinf(result.seconds).all()


def test_air_is_the_straight_line_from_the_nearest_base():
    result = circles.straight_line([106.0, 107.0], [29.0, 29.0], [106.9], [29.0], kmh=180)
    assert result.resource[0] == 1
    assert result.seconds[0] == pytest.approx(0.1 * 111_320 * np.cos(np.radians(29)) / 50,
                                              rel=0.01)


def test_polygons_cover_the_nodes_reached_and_not_the_far_ones():
    from zhili.emergency.roads import synthetic_network

    graph = synthetic_network((106.0, 29.0, 106.2, 29.2), 2500, seed=3)
    result = circles.on_graph(graph, "drive", [106.02], [29.02], graph.lon, graph.lat, 30)
    raster = circles.Raster.over((106.0, 29.0, 106.2, 29.2), circles.raster_cells(graph.nodes))
    polygon = circles.road_polygon(raster, graph, result.node_seconds, 300)
    import shapely

    reached = result.node_seconds <= 300
    assert reached.any() and (~reached).any()
    assert shapely.contains_xy(polygon.buffer(1e-9), graph.lon[reached], graph.lat[reached]).all()
    far = result.node_seconds > 1200
    assert not shapely.contains_xy(polygon, graph.lon[far], graph.lat[far]).any()
    air = circles.air_polygon(raster, np.array([106.1]), np.array([29.1]), 180, 60)
    assert air.contains(shapely.Point(106.1, 29.1)) and not air.contains(shapely.Point(106.0, 29.0))
