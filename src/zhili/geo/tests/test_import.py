"""`zhili city import` / area_import: every bad feature reported, nothing written unless all pass."""

import io
import json

import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from shapely.geometry import box, mapping

from zhili.audit.models import AuditEntry
from zhili.core.errors import PermissionDenied, ValidationFailed
from zhili.geo import geojson, index
from zhili.geo.importing import import_plan
from zhili.geo.models import AreaNode, BoundaryVersion
from zhili.geo.services import area_import


@pytest.fixture(autouse=True)
def _english():
    """The problems are read in English here; the API and the command give them in the
    active language."""
    with translation.override("en"):
        yield


def feature(code, geometry, name="测试网格", **props):
    geom = geometry if isinstance(geometry, dict) else mapping(geometry)
    return {"type": "Feature", "geometry": geom,
            "properties": {"code": code, "name": name, **props}}


def reasons(plan):
    return {p.index: p.reason for p in plan.problems}


@pytest.fixture
def grid_halves(grid):
    """The demo grid cut in two along its centre's meridian: left half, right half."""
    shape = grid.shape
    minx, miny, maxx, maxy = shape.bounds
    cut = grid.centre_lon
    left = shapely.intersection(shape, box(minx - 1, miny - 1, cut, maxy + 1))
    right = shapely.intersection(shape, box(cut, miny - 1, maxx + 1, maxy + 1))
    return left, right


def test_each_kind_of_error_is_reported_by_index(grid, community):
    sibling = grid.shape
    bowtie = {"type": "Polygon", "coordinates": [[[106.50, 29.54], [106.51, 29.55],
                                                  [106.51, 29.54], [106.50, 29.55],
                                                  [106.50, 29.54]]]}
    inside = shapely.affinity.scale(sibling, 0.3, 0.3)
    features = [
        feature("500103001001091", bowtie),                       # 0 self-intersection
        {"type": "Feature", "geometry": mapping(inside), "properties": {"name": "x"}},  # 1
        feature("5001030010010", inside),                         # 2 wrong length
        feature("500103001099001", inside),                       # 3 no such community
        feature("500103001001092", inside),                       # 4 overlaps grid 001
        feature("500103001001092", inside),                       # 5 duplicate in file
        feature("500103001001093", box(100, 20, 100.01, 20.01)),  # 6 outside its parent
        feature("500103001001094", {"type": "Point", "coordinates": [106.5, 29.5]}),  # 7
        feature("500103001001095", box(190, 0, 191, 1)),          # 8 not lon/lat
        {"type": "Nope"},                                         # 9
        feature("500103001001096", inside, name=""),              # 10 no name
        feature("500103001001097", inside, parent_code="500103001002"),  # 11 wrong parent
    ]
    plan = import_plan(level="grid", features=features)
    found = reasons(plan)
    assert "Self-intersection" in found[0]
    assert found[1].startswith("code:")
    assert found[2].startswith("code:")
    assert found[3] == "parent: no community with code 500103001099"
    assert "overlaps the sibling 500103001001001" in found[4]
    assert found[5] == "code: duplicate of feature #4"
    assert "outside its parent" in found[6]
    assert "Polygon or MultiPolygon" in found[7]
    assert "WGS84" in found[8]
    assert found[9] == "not a GeoJSON Feature"
    assert found[10].startswith("name:")
    assert found[11].startswith("parent_code:")
    assert set(found) == set(range(12))


def test_a_code_of_another_level_is_a_duplicate(street):
    plan = import_plan(level="community",
                       features=[feature("500103001000", street.shape, name="社区")])
    assert "duplicate of the street" in reasons(plan)[0]


def test_file_siblings_overlapping_each_other(community, grid_halves):
    left, _ = grid_halves
    plan = import_plan(level="grid", features=[
        feature("500103001001001", left), feature("500103001001002", left)])
    assert "overlaps the sibling feature #0" in reasons(plan)[1]


def test_nothing_is_written_when_any_feature_is_bad(grid, grid_halves):
    left, right = grid_halves
    before = (AreaNode.objects.count(), BoundaryVersion.objects.get(pk=1).version,
              AuditEntry.objects.count())
    with pytest.raises(ValidationFailed) as caught:
        area_import(actor=None, level="grid", features=[
            feature(grid.code, left), feature("500103001001099", right),
            feature("500103001001098", box(0, 0, 1, 1))])
    assert [e.field for e in caught.value.errors] == ["features[2]"]
    after = (AreaNode.objects.count(), BoundaryVersion.objects.get(pk=1).version,
             AuditEntry.objects.count())
    assert after == before
    assert shapely.equals_exact(AreaNode.objects.get(pk=grid.pk).shape, grid.shape, 0)


def test_commit_splits_a_grid(grid, community, grid_halves):
    left, right = grid_halves
    version = BoundaryVersion.objects.get(pk=1).version
    counts = area_import(actor=None, level="grid", features=[
        feature(grid.code, left, name=grid.name), feature("500103001001099", right, name="新网格")])
    assert counts == {"new": 1, "replaced": 1}
    added = AreaNode.objects.get(code="500103001001099")
    assert added.parent_id == community.pk and added.path == community.path + "500103001001099/"
    assert not added.synthetic
    assert BoundaryVersion.objects.get(pk=1).version == version + 1
    entry = AuditEntry.objects.filter(action="area.import").latest("pk")
    assert entry.detail["new"] == 1 and entry.detail["replaced"] == 1
    # The locate index follows the new boundaries at once in this process.
    point = right.representative_point()
    assert index.get_index().locate(point.x, point.y).grid.code == "500103001001099"


def test_replacement_keeps_children(street):
    children = set(street.children.values_list("pk", flat=True))
    counts = area_import(actor=None, level="street", features=[
        feature(street.code, street.shape, name="新街道", name_en="New Street")])
    assert counts == {"new": 0, "replaced": 1}
    street.refresh_from_db()
    assert street.name == "新街道" and street.name_en == "New Street"
    assert set(street.children.values_list("pk", flat=True)) == children


def test_import_needs_the_change_permission(grid_worker, street):
    with pytest.raises(PermissionDenied):
        area_import(actor=grid_worker, level="street",
                    features=[feature(street.code, street.shape, name="x")])


def test_export_round_trips(tmp_path, community):
    target = tmp_path / "grids.geojson"
    call_command("city", "export", "--under", community.code, "--level", "grid",
                 "-o", str(target), stderr=io.StringIO())
    data = json.loads(target.read_text("utf-8"))
    assert data["type"] == "FeatureCollection"
    codes = [f["properties"]["code"] for f in data["features"]]
    assert codes == sorted(community.children.values_list("code", flat=True))
    first = data["features"][0]
    assert first["properties"]["parent_code"] == community.code
    exported = shapely.geometry.shape(first["geometry"])  # same vertices, RFC 7946 winding
    assert shapely.equals_exact(shapely.normalize(exported),
                                shapely.normalize(AreaNode.objects.get(code=codes[0]).shape), 0)
    plan = import_plan(level="grid", features=data["features"])
    assert plan.ok and len(plan.replaced) == len(codes) and not plan.new


def test_export_is_rfc7946(community):
    out = io.StringIO()
    call_command("city", "export", "--under", community.code, stdout=out)
    data = json.loads(out.getvalue())
    assert {f["properties"]["level"] for f in data["features"]} == {"community", "grid"}
    for f in data["features"]:
        ring = shapely.geometry.shape(f["geometry"])
        polys = [ring] if ring.geom_type == "Polygon" else list(ring.geoms)
        assert all(p.exterior.is_ccw for p in polys)  # right-hand rule


def test_import_command_dry_run_and_commit(tmp_path, grid, grid_halves):
    left, right = grid_halves
    path = tmp_path / "split.geojson"
    path.write_text(json.dumps(geojson.feature_collection([
        feature(grid.code, left, name=grid.name), feature("500103001001099", right, name="新")])))
    out = io.StringIO()
    call_command("city", "import", str(path), "--level", "grid", stdout=out)
    assert "1 new, 1 replaced" in out.getvalue() and "Dry run" in out.getvalue()
    assert not AreaNode.objects.filter(code="500103001001099").exists()
    out = io.StringIO()
    call_command("city", "import", str(path), "--level", "grid", "--commit", stdout=out)
    assert "Written: 1 new, 1 replaced" in out.getvalue()
    assert AreaNode.objects.filter(code="500103001001099").exists()


def test_import_command_lists_every_problem(tmp_path, grid):
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(geojson.feature_collection([
        feature("1", grid.shape), feature("500103001001098", box(0, 0, 1, 1))])))
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 of 2 feature"):
        call_command("city", "import", str(path), "--level", "grid", stderr=err)
    assert "feature #0" in err.getvalue() and "feature #1" in err.getvalue()


@pytest.mark.parametrize("content, message", [
    ("not json", "is not JSON"),
    ('{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
])
def test_import_command_rejects_non_geojson(tmp_path, db, content, message):
    path = tmp_path / "x.geojson"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("city", "import", str(path), "--level", "grid")


def test_import_command_missing_file(db):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("city", "import", "/nonexistent/x.geojson", "--level", "grid")


def test_import_command_commit_refuses_bad_files_whole(tmp_path, grid, grid_halves):
    left, _ = grid_halves
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps(geojson.feature_collection([
        feature(grid.code, left, name=grid.name), feature("500103001001098", box(0, 0, 1, 1))])))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 feature"):
        call_command("city", "import", str(path), "--level", "grid", "--commit", stderr=err)
    assert "feature #1: extends outside its parent" in err.getvalue()
    assert shapely.equals_exact(AreaNode.objects.get(pk=grid.pk).shape, grid.shape, 0)
