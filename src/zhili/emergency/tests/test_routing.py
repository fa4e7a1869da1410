import numpy as np
import pytest

from zhili.emergency import routing
from zhili.emergency.graph import RoadGraph, Segments


def line_graph(oneway=0):
    """Four nodes on a line 0.01° apart (about 960 m at 30°N), 36 km/h: ~96 s per piece."""
    lon = np.array([106.50, 106.51, 106.52, 106.53])
    lat = np.full(4, 30.0)
    seg = Segments(u=np.array([0, 1, 2]), v=np.array([1, 2, 3]),
                   length_m=np.full(3, 1000.0), drive_kmh=np.full(3, 36.0),
                   oneway=np.full(3, oneway), walk=np.ones(3, dtype=bool))
    return RoadGraph.from_segments(lon, lat, seg)


def test_times_towards_the_target_on_the_graph():
    graph = line_graph()
    seconds = routing.graph_seconds(graph, np.array([[106.50, 30.0], [106.52, 30.0]]),
                                    (106.53, 30.0), "drive")
    assert seconds == pytest.approx([300.0, 100.0])


def test_one_way_is_driven_only_its_way_but_walked_both():
    graph = line_graph(oneway=1)  # 0 -> 1 -> 2 -> 3 only
    origins = np.array([[106.53, 30.0], [106.50, 30.0]])
    drive = routing.graph_seconds(graph, origins, (106.50, 30.0), "drive")
    assert np.isinf(drive[0]) and drive[1] == pytest.approx(0.0)
    walk = routing.graph_seconds(graph, origins, (106.50, 30.0), "walk")
    assert walk[0] == pytest.approx(3 * 1000 / 5 * 3.6)


def test_saved_graph_loads_the_same(tmp_path):
    graph = line_graph(oneway=-1)
    graph.version = 7
    graph.save(tmp_path / "g.npz")
    loaded = RoadGraph.load(tmp_path / "g.npz")
    assert loaded.version == 7
    assert (loaded.drive != graph.drive).nnz == 0 and (loaded.walk != graph.walk).nnz == 0
    assert not list(tmp_path.glob(".roads-*"))


@pytest.mark.django_db
def test_without_a_network_the_straight_line_at_the_stated_speed():
    from zhili.emergency.models import CoverageRun, RoadNetwork

    CoverageRun.objects.all().delete()
    RoadNetwork.objects.all().delete()
    assert not routing.graph_available()
    seconds = routing.travel_seconds([(106.50, 30.0)], (106.51, 30.0), "drive")
    assert seconds[0] == pytest.approx(963.3 / 30 * 3.6, rel=0.01)
    with pytest.raises(ValueError):
        routing.travel_seconds([(106.5, 30.0)], (106.5, 30.0), "boat")
