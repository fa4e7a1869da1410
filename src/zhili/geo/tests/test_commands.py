"""`zhili city generate|locate`, and the generator's determinism."""

import io
import itertools

import numpy as np
import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError

from zhili.geo import generator
from zhili.geo.coords import wgs84_to_gcj02


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("city", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_generate_refuses_when_a_city_exists(city):
    with pytest.raises(CommandError, match="already loaded"):
        run("generate", "--preset", "small")


def test_same_seed_same_city():
    def snapshot(seed, limit=None):
        nodes = itertools.islice(generator.generate("small", seed), limit)
        return [(n.code, n.level, n.name, shapely.to_wkb(n.geometry)) for n in nodes]

    first = snapshot(1)
    assert first == snapshot(1)
    assert first[:20] != snapshot(2, 20)
    levels = [level for _, level, _, _ in first]
    assert levels.count("street") == 11 and levels.count("community") == 80
    assert levels.count("grid") == 480


def test_generated_children_tile_their_parent():
    nodes = list(generator.generate("small", 1))
    by_code = {n.code: n for n in nodes}
    for parent in [n for n in nodes if n.level in ("district", "street")][:4]:
        kids = [n.geometry for n in nodes if n.parent_code == parent.code]
        union = shapely.union_all(kids)
        assert shapely.symmetric_difference(union, parent.geometry).area < 1e-12
        assert sum(k.area for k in kids) == pytest.approx(parent.geometry.area, rel=1e-9)
    assert all(n.synthetic for n in nodes if n.level in ("street", "community", "grid"))
    assert not by_code["500103"].synthetic


def test_locate_prints_the_chain(grid):
    out = run("locate", str(grid.centre_lon), str(grid.centre_lat))
    assert "渝中区" in out and grid.code in out and grid.name in out



def test_locate_gcj02(grid):
    glon, glat = wgs84_to_gcj02(grid.centre_lon, grid.centre_lat)
    out = run("locate", repr(glon), repr(glat), "--crs", "gcj02")
    assert grid.code in out and "(WGS84)" in out


@pytest.mark.parametrize("args", [("0", "0"), ("nan", "29.5"), ("106.5", "95")])
def test_locate_failures_are_command_errors(db, args):
    with pytest.raises(CommandError):
        run("locate", *args)


def test_locate_by_scan_matches_the_index(city):
    from zhili.geo import index, selectors

    rng = np.random.default_rng(11)
    for x, y in zip(rng.uniform(city.min_lon, city.max_lon, 30),
                    rng.uniform(city.min_lat, city.max_lat, 30), strict=True):
        a, b = selectors.locate_by_scan(x, y), index.get_index().locate(x, y)
        assert (a and a.grid.code) == (b and b.grid.code)
