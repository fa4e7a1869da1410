"""Grid populations: the generator's synthetic figures, the import's `population`
property, the export, and the admin's audited edit."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from zhili.audit.models import AuditEntry
from zhili.core.errors import PermissionDenied, ValidationFailed
from zhili.geo import generator, services
from zhili.geo.importing import import_plan
from zhili.geo.models import AreaNode
from zhili.geo.services import area_import
from zhili.geo.tests.test_import import feature, grid_halves, reasons  # noqa: F401


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_the_generator_gives_every_grid_a_positive_deterministic_population():
    def populations(seed):
        return [(n.code, n.population) for n in generator.generate("small", seed)
                if n.level == "grid"]

    first = populations(1)
    assert first == populations(1)
    assert [p for _, p in first] != [p for _, p in populations(2)]
    assert all(isinstance(p, int) and p >= 1 for _, p in first)
    total = sum(p for _, p in first)
    # ~516 a grid: Chongqing's ~32 million over ~62,000 grids, so 480 grids ~ 248,000.
    assert 0.85 * 480 * generator.GRID_POPULATION_MEAN < total < 1.15 * 480 * generator.GRID_POPULATION_MEAN
    assert all(n.population is None for n in generator.generate("small", 1) if n.level != "grid")


def test_the_populations_leave_the_boundaries_of_the_seed_as_they_were():
    """The figures come from a stream of their own: drawing them moves no boundary."""
    import numpy as np

    rng = np.random.default_rng(1)
    yuzhong = next(g for code, _, g in generator.load_districts() if code == "500103")
    first_street = generator.subdivide(yuzhong, 11, rng)[0]
    streets = [n for n in generator.generate("small", 1) if n.level == "street"]
    assert streets[0].geometry.equals_exact(first_street, 0)


def test_the_demo_city_carries_the_populations(grid):
    grids = AreaNode.objects.filter(level="grid")
    assert not grids.filter(population=None).exists()
    assert AreaNode.objects.filter(level="street", population__isnull=False).count() == 0
    assert grid.population >= 1


def test_an_imported_grid_gets_its_population_and_a_replacement_keeps_one_not_given(
        grid, grid_halves):  # noqa: F811
    left, right = grid_halves
    area_import(actor=None, level="grid", features=[
        feature(grid.code, left, name=grid.name),
        feature("500103001001099", right, name="新网格", population=0)])
    assert AreaNode.objects.get(code="500103001001099").population == 0
    assert AreaNode.objects.get(pk=grid.pk).population == grid.population  # not given: kept
    area_import(actor=None, level="grid", features=[
        feature(grid.code, left, name=grid.name, population=1234)])
    assert AreaNode.objects.get(pk=grid.pk).population == 1234


@pytest.mark.parametrize("value, shown", [
    (-1, "-1"), (12.5, "12.5"), ("300", "'300'"), (True, "true"), (2**31, str(2**31)),
    ([1], "[1]")])
def test_a_bad_population_is_refused_naming_the_feature_and_the_field(grid, value, shown):
    plan = import_plan(level="grid", features=[
        feature(grid.code, grid.shape, name=grid.name),
        feature(grid.code[:-3] + "099", grid.shape, name="x", population=value)])
    found = reasons(plan)
    assert list(found) == [1]
    assert found[1].startswith("population: expected a whole number from 0 to 2,147,483,647")
    assert found[1].endswith(f"got {shown}")
    assert str(plan.problems[0]).startswith(f"feature #1 ({grid.code[:-3]}099): population:")


def test_a_population_on_a_street_is_refused(street):
    found = reasons(import_plan(level="street", features=[
        feature(street.code, street.shape, name=street.name, population=10)]))
    assert found[0] == "population: only grids carry a population (this is a street)"


def test_a_bad_population_writes_nothing(tmp_path, grid):
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(grid.code, grid.shape, name="改名", population=5),
        feature("500103001001098", grid.shape, name="x", population="many")]}))
    before = AuditEntry.objects.count()
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 feature"):
        call_command("city", "import", str(path), "--level", "grid", "--commit", stderr=err)
    assert "feature #1: population: expected a whole number" in err.getvalue()
    assert "'many' (500103001001098)" in err.getvalue()
    fresh = AreaNode.objects.get(pk=grid.pk)
    assert (fresh.name, fresh.population) == (grid.name, grid.population)
    assert AuditEntry.objects.count() == before
    with pytest.raises(ValidationFailed) as caught:
        area_import(actor=None, level="grid", features=[
            feature("500103001001098", grid.shape, name="x", population=-3)])
    assert caught.value.errors[0].field == "features[0]"
    assert "population:" in caught.value.errors[0].message


def test_the_export_carries_the_population_and_imports_back(community):
    out = io.StringIO()
    call_command("city", "export", "--under", community.code, "--level", "grid", stdout=out)
    features = json.loads(out.getvalue())["features"]
    by_code = dict(AreaNode.objects.filter(parent=community).values_list("code", "population"))
    assert {f["properties"]["code"]: f["properties"]["population"] for f in features} == by_code
    plan = import_plan(level="grid", features=features)
    assert plan.ok and [c.population for c in plan.replaced] == [by_code[c.code]
                                                                  for c in plan.replaced]


def test_the_population_service_is_audited_and_scoped(grid, street_operator, city_admin):
    before = grid.population
    services.area_population_set(actor=city_admin, node=grid, population=42)
    assert AreaNode.objects.get(pk=grid.pk).population == 42
    entry = AuditEntry.objects.filter(action="area.population_set").latest("pk")
    assert (entry.detail["before"], entry.detail["after"]) == (before, 42)
    assert entry.area_path == grid.path
    with pytest.raises(ValidationFailed) as caught:
        services.area_population_set(actor=city_admin, node=grid, population=-1)
    assert caught.value.errors[0].field == "population"
    with pytest.raises(PermissionDenied):  # geo.change_area is the city administrators'
        services.area_population_set(actor=street_operator, node=grid, population=1)
    services.area_population_set(actor=city_admin, node=grid, population=None)
    assert AreaNode.objects.get(pk=grid.pk).population is None


def test_the_admin_edits_only_the_population_through_the_service(client, grid, city_admin):
    client.force_login(city_admin)
    url = f"/admin/geo/areanode/{grid.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"population": "777"})
    assert response.status_code == 302, response.content.decode()[:2000]
    fresh = AreaNode.objects.get(pk=grid.pk)
    assert fresh.population == 777 and fresh.name == grid.name
    assert AuditEntry.objects.filter(action="area.population_set", actor=city_admin).exists()
