"""`zhili city import`: the dry run finds everything --commit would refuse, and no
input ends in a traceback."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from zhili.geo.importing import import_plan
from zhili.geo.models import AreaNode
from zhili.geo.tests.test_import import feature, grid_halves, reasons  # noqa: F401


def run(tmp_path, text: str, *args) -> tuple[str, str]:
    path = tmp_path / "in.geojson"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("city", "import", str(path), "--level", "grid", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", ["坏\ud800名", "a\x00b", "两行\n名字"])
@pytest.mark.parametrize("commit", [False, True])
def test_a_name_the_database_cannot_hold_is_refused_on_both_runs(tmp_path, grid, name, commit):
    # json.dumps writes "\ud800" as an escape, as a file from elsewhere would.
    text = json.dumps({"type": "FeatureCollection",
                       "features": [feature(grid.code, grid.shape, name=name)]})
    with pytest.raises(CommandError, match="1 of 1 feature"):
        run(tmp_path, text, *(["--commit"] if commit else []))
    assert AreaNode.objects.get(code=grid.code).name == grid.name


def test_the_dry_run_names_the_feature_and_the_field(tmp_path, grid):
    text = json.dumps({"type": "FeatureCollection",
                       "features": [feature(grid.code, grid.shape, name="坏\ud800名")]})
    err = io.StringIO()
    path = tmp_path / "in.geojson"
    path.write_text(text)
    with pytest.raises(CommandError):
        call_command("city", "import", str(path), "--level", "grid", stderr=err)
    assert "feature #0" in err.getvalue() and "name:" in err.getvalue()


@pytest.mark.parametrize("commit", [False, True])
def test_deeply_nested_input_is_a_message_not_a_traceback(tmp_path, db, commit):
    with pytest.raises(CommandError, match="nests too deep"):
        run(tmp_path, "[" * 100_000 + "]" * 100_000, *(["--commit"] if commit else []))


def ring_of(grid, *, close: bool, points: int):
    minx, miny, maxx, maxy = grid.shape.bounds
    corners = [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy]][:points]
    return {"type": "Polygon", "coordinates": [corners + ([corners[0]] if close else [])]}


@pytest.mark.parametrize("geometry, words", [
    (lambda g: ring_of(g, close=False, points=3), "ring 0"),  # 3 positions, unclosed
    (lambda g: ring_of(g, close=False, points=4), "not closed"),
    (lambda g: ring_of(g, close=True, points=2), "at least 4 positions"),  # 3, closed
    (lambda g: {"type": "Polygon", "coordinates": [[[True, 1], [2, 1], [2, 2], [True, 1]]]},
     "numbers"),
    (lambda g: {"type": "MultiPolygon", "coordinates": [[[[1, 1], [2, 1], [1, 1]]]]},
     "polygon 0"),
])
def test_rings_must_be_closed_with_four_positions(grid, geometry, words):
    plan = import_plan(level="grid", features=[feature(grid.code, geometry(grid))])
    assert words in reasons(plan)[0]


def test_a_proper_ring_still_passes(grid):
    plan = import_plan(level="grid", features=[
        feature(grid.code, ring_of(grid, close=True, points=4), name=grid.name)])
    assert plan.ok or "ring" not in " ".join(reasons(plan).values())
