"""Importing the risk list: a dry run finds everything a commit would refuse."""

import json

import pytest
from django.core.management import CommandError, call_command

from zhili.warning.importing import risk_points_import
from zhili.warning.models import RiskPoint

pytestmark = pytest.mark.django_db


def csv_of(grid, *rows):
    header = "code,name,category,lon,lat,risk_level,description\n"
    return (header + "".join(rows)).encode()


def test_a_clean_csv_is_a_dry_run_until_committed(catalogue, grid):
    data = csv_of(grid, f"IMP-1,北坡,landslide,{grid.centre_lon},{grid.centre_lat},3,崖下有住户\n",
                  f"IMP-2,加油站,gas-network,{grid.centre_lon},{grid.centre_lat},,\n")
    report = risk_points_import(actor=None, data=data, fmt="csv")
    assert report.ok and (report.created, report.updated) == (2, 0)
    assert not RiskPoint.objects.filter(code__startswith="IMP-").exists()
    risk_points_import(actor=None, data=data, fmt="csv", commit=True)
    point = RiskPoint.objects.get(code="IMP-1")
    assert (point.grid_id, point.risk_level, point.category.code) == (grid.id, 3, "landslide")
    again = risk_points_import(actor=None, data=data, fmt="csv", commit=True)
    assert (again.created, again.updated) == (0, 2)


def test_every_bad_row_is_listed_and_nothing_is_written(catalogue, grid):
    lon, lat = grid.centre_lon, grid.centre_lat
    data = csv_of(grid,
                  f"IMP-3,,landslide,{lon},{lat},2,\n",                # no name
                  f"IMP-4,坡,no-such,{lon},{lat},2,\n",                 # unknown category
                  f"IMP-5,坡,landslide,east,{lat},2,\n",                # not a number
                  "IMP-6,坡,landslide,0,0,2,\n",                        # outside the city
                  f"IMP-7,坡,landslide,{lon},{lat},9,\n",               # bad level
                  f"IMP-8,坡,landslide,{lon},{lat},2,\n",
                  f"IMP-8,坡,landslide,{lon},{lat},2,\n",               # twice
                  f"IMP-9,坡,landslide,{lon},{lat},2,ok\n")             # fine
    report = risk_points_import(actor=None, data=data, fmt="csv", commit=True)
    assert [p.split(":")[0] for p in report.problems] == [
        "row 2", "row 3", "row 4", "row 5", "row 6", "row 8"]
    assert not RiskPoint.objects.filter(code__startswith="IMP-").exists()


def ring(grid, close=True, n=4):
    w, s, e, north = grid.min_lon, grid.min_lat, grid.max_lon, grid.max_lat
    cx, cy = grid.centre_lon, grid.centre_lat
    d = min(e - w, north - s) / 10
    points = [[cx - d, cy - d], [cx + d, cy - d], [cx + d, cy + d], [cx - d, cy + d]][:n - 1]
    return points + ([points[0]] if close else [[cx, cy + 2 * d]])


def feature(code, geometry, **props):
    return {"type": "Feature", "geometry": geometry,
            "properties": {"code": code, "name": "危岩带", "category": "dangerous-rock", **props}}


def test_geojson_polygons_are_checked_and_kept(catalogue, grid):
    good = feature("IMP-P1", {"type": "Polygon", "coordinates": [ring(grid)]})
    open_ring = feature("IMP-P2", {"type": "Polygon", "coordinates": [ring(grid, close=False)]})
    short = feature("IMP-P3", {"type": "Polygon", "coordinates": [ring(grid, n=3)[:3]]})
    surrogate = feature("IMP-P4", {"type": "Point", "coordinates": [grid.centre_lon, grid.centre_lat]},
                        name="坡\ud800")
    data = json.dumps({"type": "FeatureCollection",
                       "features": [good, open_ring, short, surrogate]}).encode()
    report = risk_points_import(actor=None, data=data, fmt="geojson")
    assert len(report.problems) == 3, report.problems
    assert "not closed" in report.problems[0] and "at least 4" in report.problems[1]
    assert "surrogate" in report.problems[2]
    ok = json.dumps({"type": "FeatureCollection", "features": [good]}).encode()
    risk_points_import(actor=None, data=ok, fmt="geojson", commit=True)
    assert RiskPoint.objects.get(code="IMP-P1").geometry["type"] == "Polygon"


@pytest.mark.parametrize("data", [b"[" * 5000 + b"]" * 5000, b"\xff\xfe", b'{"type": "Feature"}'])
def test_hostile_geojson_is_refused_with_a_reason(catalogue, data):
    report = risk_points_import(actor=None, data=data, fmt="geojson")
    assert not report.ok and report.problems


def test_the_command_is_a_dry_run_by_default(catalogue, grid, tmp_path, capsys):
    path = tmp_path / "points.csv"
    path.write_bytes(csv_of(grid, f"IMP-C1,坡,landslide,{grid.centre_lon},{grid.centre_lat},2,\n"))
    call_command("warning", "import", str(path))
    assert "dry run" in capsys.readouterr().out
    assert not RiskPoint.objects.filter(code="IMP-C1").exists()
    call_command("warning", "import", str(path), "--commit")
    assert RiskPoint.objects.filter(code="IMP-C1").exists()
    path.write_bytes(b"code,name\nX,Y\n")
    with pytest.raises(CommandError):
        call_command("warning", "import", str(path))
