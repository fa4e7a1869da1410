"""The seed's risk list at city scale: `zhili warning seed --preset chongqing`.

520,000 risk points (风险点) on the generated city's 62,000 grids, one sensor
each, and 1,020,000 responsible persons (责任人): registry persons with a
phone, by tier. Everything is synthetic and marked so (risk points
`synthetic`, names start with 示例·, phones with 1009 — no Chinese network
issues numbers starting 100, identity numbers in region 500100 born 1930–1932,
which the registry demo never uses).

How the people are shared out: every point has its own owner (one person per
point); the rest are split between the grid, street, district and department
tiers (85/10/4/1 %). For a tier, the points are sorted by the tier's key
(grid path, street, district, category) and cut into as many contiguous runs
as the tier has persons: each person answers for one run, so every person is
responsible for at least one point and every point has one person per tier.

Points are drawn near random grids' centres (so the dense urban core gets
more of them) and then located with the geo index in bulk, like any imported
point; one drawn outside the city is drawn again.

Bulk and resumable: all of it is generated from the seed up front (the same
seed gives the same rows), then written in chunks, each chunk one transaction
with its audit row: COPY on PostgreSQL, bulk insert elsewhere. A rerun counts
what is there (persons by their identity-number prefix, points by code) and
continues with the next chunk, so nothing is added twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

TIERS = ("owner", "grid", "street", "district", "department")
TIER_SHARES = {"grid": 0.85, "street": 0.10, "district": 0.04, "department": 0.01}
REGION = "500100"
BORN_FROM = date(1930, 1, 1)
ID_PREFIX = "500100193"  # REGION + the first three digits of every seeded birth year
POINT_PREFIX = "SYN-RP-"
SENSOR_PREFIX = "SYN-S-"


@dataclass(frozen=True)
class Preset:
    points: int
    persons: int
    chunk: int  # points (or persons) per transaction


PRESETS = {
    "chongqing": Preset(points=520_000, persons=1_020_000, chunk=20_000),
    "small": Preset(points=400, persons=800, chunk=150),
}


@dataclass
class Plan:
    """Everything the seed writes, as arrays indexed by point or person number."""

    lon: np.ndarray
    lat: np.ndarray
    grid_id: np.ndarray         # per point
    path: list                  # per point, the grid's area path
    category: np.ndarray        # per point, an index into categories
    risk_level: np.ndarray
    categories: list            # (id, code, sensor type, unit)
    person_point: np.ndarray    # per person: the point whose grid is the person's home
    tier_person: dict           # tier -> per point, the person number answering for it


def person_id_number(k: int) -> str:
    from zhili.registry.identifiers import id_number_make

    return id_number_make(REGION, BORN_FROM + timedelta(days=k // 1000), k % 1000)


def _runs(keys: np.ndarray, n: int, first: int) -> np.ndarray:
    """Per point, the person (numbered from `first`) answering for it: the points
    sorted by key, cut into n contiguous runs."""
    order = np.argsort(keys, kind="stable")
    person = np.empty(len(keys), dtype=np.int64)
    person[order] = first + (np.arange(len(keys), dtype=np.int64) * n) // len(keys)
    return person


def tier_counts(points: int, persons: int) -> dict[str, int]:
    from zhili.geo.generator import apportion

    rest = persons - points
    if rest < len(TIER_SHARES):
        raise ValueError("a seed needs more persons than points (an owner each, and the tiers)")
    shares = np.array(list(TIER_SHARES.values()))
    counts = apportion(rest, shares, minimum=1)
    return {"owner": points, **{t: int(min(c, points)) for t, c in zip(TIER_SHARES, counts,
                                                                       strict=True)}}


def plan(preset: Preset, seed: int) -> Plan:
    """Draw and locate the points, pick categories, share out the persons."""
    from zhili.geo.index import get_index
    from zhili.geo.models import AreaNode, Level
    from zhili.warning.catalogue import SENSOR_TYPE_BY_CODE
    from zhili.warning.models import RiskCategory

    rng = np.random.default_rng(seed)
    grids = np.array(AreaNode.objects.filter(level=Level.GRID).order_by("code")
                     .values_list("centre_lon", "centre_lat", "min_lon", "max_lon"),
                     dtype=float)
    if not len(grids):
        raise ValueError("no grids: generate the city first (zhili city generate)")
    index = get_index()
    n = preset.points
    lon, lat = np.empty(n), np.empty(n)
    located: list = [None] * n
    todo = np.arange(n)
    while len(todo):
        g = rng.integers(0, len(grids), len(todo))
        spread = (grids[g, 3] - grids[g, 2]) / 4
        x = grids[g, 0] + rng.normal(0, 1, len(todo)) * spread
        y = grids[g, 1] + rng.normal(0, 1, len(todo)) * spread
        found = index.locate_many(x, y)
        missed = []
        for i, k in enumerate(todo):
            if found[i] is None or found[i].grid_id is None:
                missed.append(k)
            else:
                lon[k], lat[k], located[k] = x[i], y[i], found[i]
        todo = np.array(missed, dtype=np.int64)
    grid_id = np.array([p.grid_id for p in located], dtype=np.int64)
    path = [p.path for p in located]

    categories = []
    for cid, code, types in RiskCategory.objects.order_by("code").values_list("id", "code",
                                                                               "sensor_types"):
        kind = next((SENSOR_TYPE_BY_CODE[t] for t in types or [] if t in SENSOR_TYPE_BY_CODE),
                    None)
        if kind is not None:
            categories.append((cid, code, kind.code, kind.unit))
    if not categories:
        raise ValueError("no risk categories with a known sensor type: run `zhili warning catalogue`")
    category = rng.integers(0, len(categories), n)
    risk_level = rng.choice([1, 2, 3, 4], n, p=[0.4, 0.35, 0.18, 0.07])

    counts = tier_counts(n, preset.persons)
    # Paths are city/district/street/community/grid/, each a trimmed code.
    keys = {"grid": np.array(path), "street": np.array([x.split("/")[2] for x in path]),
            "district": np.array([x.split("/")[1] for x in path]), "department": category}
    tier_person = {"owner": np.arange(n, dtype=np.int64)}
    person_point = [np.arange(n, dtype=np.int64)]
    first = n
    for tier in TIER_SHARES:
        tier_person[tier] = _runs(keys[tier], counts[tier], first)
        # A person's home is the grid of the first point of their run.
        firsts = np.full(counts[tier], -1, dtype=np.int64)
        order = np.argsort(tier_person[tier], kind="stable")
        owners = tier_person[tier][order] - first
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        firsts[owners[starts]] = order[starts]
        person_point.append(firsts)
        first += counts[tier]
    return Plan(lon, lat, grid_id, path, category, risk_level, categories,
                np.concatenate(person_point), tier_person)


# ---------------------------------------------------------------- writing
def _copy(table: str, columns: list[str], rows) -> None:
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _write(model, columns: list[str], rows: list[tuple]) -> None:
    """COPY on PostgreSQL, bulk insert elsewhere (columns are attnames)."""
    if connection.vendor == "postgresql":
        _copy(model._meta.db_table, columns, rows)
        return
    fields = {f.attname: f for f in model._meta.concrete_fields}
    objs = []
    for row in rows:
        values = {}
        for name, value in zip(columns, row, strict=True):
            field = fields[name]
            if field.get_internal_type() == "JSONField" and isinstance(value, str):
                value = json.loads(value)
            values[name] = value
        objs.append(model(**values))
    model.objects.bulk_create(objs, batch_size=500)


def _name(k: int) -> str:
    from zhili.registry.demo import GIVEN, SURNAMES

    return f"示例·{SURNAMES[k % len(SURNAMES)]}{GIVEN[(k // 7) % len(GIVEN)]}{k % 1000:03d}"


def persons_write(p: Plan, start: int, stop: int, now) -> None:
    from zhili.registry.models import Person

    rows = []
    for k in range(start, stop):
        home = int(p.person_point[k])
        rows.append((person_id_number(k), _name(k), f"1009{k:07d}", "", "",
                     int(p.grid_id[home]), p.path[home], now, now))
    _write(Person, ["id_number", "name", "phone", "address", "household_no", "grid_id",
                    "area_path", "created_at", "updated_at"], rows)


def points_write(p: Plan, start: int, stop: int, person_ids: np.ndarray, now,
                 active: bool) -> None:
    from zhili.warning.models import ResponsiblePerson, RiskPoint, Sensor

    codes = [f"{POINT_PREFIX}{i:07d}" for i in range(start, stop)]
    rows = []
    for i, code in zip(range(start, stop), codes, strict=True):
        cid, ccode, _, _ = p.categories[p.category[i]]
        rows.append((code, f"示例·{ccode}风险点{i}", cid, int(p.risk_level[i]),
                     "合成数据 · synthetic seed risk point", float(p.lon[i]), float(p.lat[i]),
                     "null", int(p.grid_id[i]), "{}", True, now, now, p.path[i]))
    _write(RiskPoint, ["code", "name", "category_id", "risk_level", "description", "lon", "lat",
                       "geometry", "grid_id", "measures", "synthetic", "created_at", "updated_at",
                       "area_path"], rows)
    ids = dict(RiskPoint.objects.filter(code__gte=codes[0], code__lte=codes[-1])
               .values_list("code", "id"))
    point_ids = [ids[c] for c in codes]
    sensors = []
    for i, pid in zip(range(start, stop), point_ids, strict=True):
        _, _, kind, unit = p.categories[p.category[i]]
        sensors.append((f"{SENSOR_PREFIX}{i:07d}", pid, kind, unit, 60, "", active, now,
                        p.path[i]))
    _write(Sensor, ["code", "risk_point_id", "sensor_type", "unit", "interval_s", "key_hash",
                    "active", "created_at", "area_path"], sensors)
    responsible = []
    for i, pid in zip(range(start, stop), point_ids, strict=True):
        for tier in TIERS:
            responsible.append((pid, tier, int(person_ids[p.tier_person[tier][i]]), None, None))
    _write(ResponsiblePerson, ["risk_point_id", "tier", "person_id", "user_id", "department_id"],
           responsible)


def _person_ids(total: int) -> np.ndarray:
    """Person number -> registry id, decoded from the identity numbers written so far."""
    from zhili.registry.models import Person

    ids = np.full(total, -1, dtype=np.int64)
    for number, pk in Person.objects.filter(id_number__startswith=ID_PREFIX) \
            .values_list("id_number", "id").iterator(chunk_size=20_000):
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        k = (born - BORN_FROM).days * 1000 + int(number[14:17])
        if 0 <= k < total:
            ids[k] = pk
    return ids


def seeded_counts() -> dict[str, int]:
    from zhili.registry.models import Person
    from zhili.warning.models import RiskPoint

    return {"persons": Person.objects.filter(id_number__startswith=ID_PREFIX).count(),
            "points": RiskPoint.objects.filter(code__startswith=POINT_PREFIX).count()}


def risk_list_seed(*, preset: str, seed: int = 1, active: bool = False,
                   progress=None, log=None) -> dict[str, int]:
    """Seed the preset's risk list, continuing a run that stopped. Returns what was
    written in this run. `progress(n)` is called with rows written."""
    from zhili.audit.services import audit_record
    from zhili.warning.catalogue import catalogue_seed
    from zhili.warning.ingest import sensors_cache_clear

    size = PRESETS[preset]
    catalogue_seed()
    done = seeded_counts()
    if done["points"] >= size.points and done["persons"] >= size.persons:
        return {"persons": 0, "points": 0}
    if log:
        log(f"planning {size.points:,} risk points and {size.persons:,} persons (seed {seed})")
    p = plan(size, seed)
    now = timezone.now()
    written = {"persons": 0, "points": 0}
    if progress:
        progress(done["persons"] + done["points"])
    for start in range(done["persons"], size.persons, size.chunk * 2):
        stop = min(start + size.chunk * 2, size.persons)
        with transaction.atomic():
            persons_write(p, start, stop, now)
            audit_record(actor=None, action="warning.seed_persons", object_type="registry.person",
                         detail={"preset": preset, "seed": seed, "from": start, "to": stop,
                                 "synthetic": True})
        written["persons"] += stop - start
        if progress:
            progress(stop - start)
    person_ids = _person_ids(size.persons)
    if (person_ids < 0).any():
        raise ValueError("seeded persons are missing; was the registry changed between runs?")
    for start in range(done["points"], size.points, size.chunk):
        stop = min(start + size.chunk, size.points)
        with transaction.atomic():
            points_write(p, start, stop, person_ids, now, active)
            audit_record(actor=None, action="warning.seed_points", object_type="warning.riskpoint",
                         detail={"preset": preset, "seed": seed, "from": start, "to": stop,
                                 "synthetic": True})
        written["points"] += stop - start
        if progress:
            progress(stop - start)
    if connection.vendor == "postgresql":
        from zhili.registry.models import Person
        from zhili.warning.models import ResponsiblePerson, RiskPoint, Sensor

        with connection.cursor() as cursor:
            for model in (Person, RiskPoint, Sensor, ResponsiblePerson):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    sensors_cache_clear()
    return written
