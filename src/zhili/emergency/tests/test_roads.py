"""Road networks: tiny PBF files written at run time, the command, a corrupt file."""

import numpy as np
import osmium
import pytest
from django.core.management import CommandError, call_command

from zhili.emergency import routing
from zhili.emergency.models import RoadNetwork
from zhili.emergency.roads import RoadsError, maxspeed_kmh, read_osm, way_rules

# Four junctions 0.01° apart along a parallel in the demo district, and one to the north.
LON0, LAT0 = 106.52, 29.55


def write_pbf(path, ways, nodes=5):
    writer = osmium.SimpleWriter(str(path), overwrite=True)
    for i in range(nodes):
        location = (LON0 + 0.01 * i, LAT0) if i < 4 else (LON0, LAT0 + 0.01)
        writer.add_node(osmium.osm.mutable.Node(id=i + 1, location=location, version=1))
    for n, (refs, tags) in enumerate(ways, start=100):
        writer.add_way(osmium.osm.mutable.Way(id=n, nodes=refs, tags=tags, version=1))
    writer.close()
    return path


def test_tags_give_speed_one_way_and_walking():
    assert way_rules({"highway": "residential"}) == (30.0, 0, True)
    assert way_rules({"highway": "primary", "maxspeed": "45"}) == (45.0, 0, True)
    assert way_rules({"highway": "motorway"}) == (100.0, 1, False)
    assert way_rules({"highway": "tertiary", "oneway": "-1"})[1] == -1
    assert way_rules({"highway": "secondary", "junction": "roundabout"})[1] == 1
    assert way_rules({"highway": "footway"}) == (0.0, 0, True)
    assert way_rules({"highway": "motorway", "oneway": "no"})[1] == 0
    assert way_rules({"highway": "proposed"}) is None and way_rules({"building": "yes"}) is None
    assert maxspeed_kmh("30 mph") == pytest.approx(48.28, rel=1e-3)
    assert maxspeed_kmh("CN:urban") is None and maxspeed_kmh("none") is None


def test_a_tiny_pbf_becomes_a_directed_graph(tmp_path):
    path = write_pbf(tmp_path / "tiny.osm.pbf", [
        ([1, 2, 3], {"highway": "residential", "oneway": "yes"}),
        ([3, 4], {"highway": "motorway"}),
        ([1, 5], {"highway": "footway"}),
        ([4, 5], {"building": "yes"}),  # not a road
    ])
    graph = read_osm(path)
    assert graph.nodes == 5
    assert graph.drive.nnz == 3  # 1->2, 2->3, 3->4: one way each, no footway
    assert graph.walk.nnz == 6  # 1-2, 2-3, 1-5 both ways; not the motorway
    origins = np.array([[LON0, LAT0], [LON0 + 0.03, LAT0]])
    drive = routing.graph_seconds(graph, origins, (LON0 + 0.03, LAT0), "drive")
    assert np.isfinite(drive[0]) and drive[1] == 0
    back = routing.graph_seconds(graph, origins, (LON0, LAT0), "drive")
    assert np.isinf(back[1])  # against the one-way street and the motorway


@pytest.mark.django_db
def test_the_command_installs_the_network_and_routing_uses_it(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    path = write_pbf(tmp_path / "tiny.osm.pbf", [([1, 2, 3, 4], {"highway": "primary"})])
    before = RoadNetwork.objects.count()
    call_command("emergency", "roads", "import", str(path))
    network = RoadNetwork.objects.order_by("-id").first()
    assert RoadNetwork.objects.count() == before + 1 and not network.synthetic
    assert (tmp_path / "roads" / network.file_name).is_file()
    routing.mark_stale()
    assert routing.graph_available()
    seconds = routing.travel_seconds([(LON0, LAT0)], (LON0 + 0.03, LAT0), "drive")
    assert 150 < seconds[0] < 250  # ~2.9 km at 60 km/h


@pytest.mark.django_db
def test_a_corrupt_pbf_is_refused_and_nothing_is_written(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    good = write_pbf(tmp_path / "good.osm.pbf", [([1, 2], {"highway": "primary"})]).read_bytes()
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(good[:60] + b"\x00garbage" * 20)
    before = RoadNetwork.objects.count()
    with pytest.raises(RoadsError):
        read_osm(bad)
    with pytest.raises(CommandError, match="nothing written"):
        call_command("emergency", "roads", "import", str(bad))
    assert RoadNetwork.objects.count() == before
    assert not (tmp_path / "roads").exists() or not list((tmp_path / "roads").iterdir())


def test_a_file_without_roads_is_refused(tmp_path):
    path = write_pbf(tmp_path / "none.osm.pbf", [([1, 2], {"waterway": "river"})])
    with pytest.raises(RoadsError, match="no roads"):
        read_osm(path)


@pytest.mark.django_db
def test_generate_makes_a_synthetic_network_over_the_city(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    call_command("emergency", "roads", "generate", "--nodes", "400", "--seed", "2")
    network = RoadNetwork.objects.order_by("-id").first()
    assert network.synthetic and 100 < network.nodes <= 400
    routing.mark_stale()
    graph = routing.get_graph()
    assert graph.synthetic and graph.version == network.pk
