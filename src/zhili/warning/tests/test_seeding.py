"""The synthetic risk list in bulk: counts, tiers, located points, resumable."""

import pytest
from django.core.management import call_command

from zhili.warning import seeding


@pytest.fixture
def tiny(monkeypatch, catalogue):
    monkeypatch.setitem(seeding.PRESETS, "tiny", seeding.Preset(points=60, persons=130, chunk=25))
    return seeding.PRESETS["tiny"]


def test_the_seed_writes_points_sensors_and_persons_by_tier(tiny):
    from zhili.registry.models import Person
    from zhili.warning.models import ResponsiblePerson, RiskPoint, Sensor

    written = seeding.risk_list_seed(preset="tiny", seed=3)
    assert written == {"points": 60, "persons": 130}
    points = RiskPoint.objects.filter(code__startswith=seeding.POINT_PREFIX)
    assert points.count() == 60 and not points.filter(synthetic=False).exists()
    assert Sensor.objects.filter(code__startswith=seeding.SENSOR_PREFIX, active=False).count() == 60
    rows = ResponsiblePerson.objects.filter(risk_point__in=points)
    assert rows.count() == 60 * len(seeding.TIERS)
    # Every seeded person answers for at least one point; every point has each tier once.
    persons = Person.objects.filter(id_number__startswith=seeding.ID_PREFIX)
    assert persons.count() == 130
    assert rows.values("person_id").distinct().count() == 130
    assert not persons.filter(phone="").exists()
    assert all(p.name.startswith("示例·") for p in persons[:20])
    # Located like an import: the point's grid holds it, and the area path is the grid's.
    from zhili.geo.index import get_index

    for point in points[:20]:
        found = get_index().locate(point.lon, point.lat)
        assert found.grid_id == point.grid_id and found.path == point.area_path


def test_a_rerun_continues_and_adds_nothing_twice(tiny, monkeypatch):
    from zhili.warning.models import ResponsiblePerson, RiskPoint

    real = seeding.points_write
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(seeding, "points_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        seeding.risk_list_seed(preset="tiny", seed=3)
    assert seeding.seeded_counts() == {"persons": 130, "points": 25}
    monkeypatch.setattr(seeding, "points_write", real)
    assert seeding.risk_list_seed(preset="tiny", seed=3) == {"persons": 0, "points": 35}
    assert seeding.risk_list_seed(preset="tiny", seed=3) == {"persons": 0, "points": 0}
    assert RiskPoint.objects.filter(code__startswith=seeding.POINT_PREFIX).count() == 60
    assert ResponsiblePerson.objects.filter(risk_point__code__startswith="SYN-").count() == 300


def test_the_command_seeds_the_small_preset(catalogue, capsys):
    call_command("warning", "seed", "--preset", "small", "--active")
    out = capsys.readouterr().out
    assert "400 risk points" in out and "800 responsible persons" in out
    from zhili.warning.models import Sensor

    assert Sensor.objects.filter(code__startswith="SYN-S-", active=True).count() == 400
