"""Writes to the city's geography. Each is one transaction with its audit row."""

from __future__ import annotations

import time

import shapely
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from zhili.geo import generator, index, roads
from zhili.geo.importing import DEFAULT_TOLERANCE_M2, import_plan
from zhili.geo.models import LEVEL_ORDER, AreaNode, BoundaryVersion, Level, Road

BATCH = 2000


def boundary_version_bump() -> None:
    """Tell every process its spatial index is stale (checked on the next lookup)."""
    updated = BoundaryVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        # A new (or emptied and reloaded) database starts from the clock, not
        # from 1: a process whose index came from an earlier database under
        # version 1 must not take the new grids for its own.
        BoundaryVersion.objects.create(pk=1, version=time.time_ns() // 1_000_000)
    index.mark_stale()  # this process need not wait for the next periodic check


def node_from_geometry(*, code, level, name, name_en, parent_id, path, geometry, synthetic,
                       population=None):
    minx, miny, maxx, maxy = geometry.bounds
    centre = geometry.representative_point()
    return AreaNode(
        code=code, level=level, name=name, name_en=name_en, parent_id=parent_id, path=path,
        geometry=shapely.to_wkb(geometry), min_lon=minx, min_lat=miny, max_lon=maxx,
        max_lat=maxy, centre_lon=centre.x, centre_lat=centre.y, synthetic=synthetic,
        population=population,
    )


def city_generate(*, actor=None, preset: str, seed: int, progress=None) -> dict[str, int]:
    """Generate the demo city (see generator.py) into an empty database.

    `progress(n)` is called as communities are generated (generator.py).
    """
    if AreaNode.objects.exists():
        raise Conflict(_("A city is already loaded; generate into an empty database "
                         "(or delete the data directory of the demo)."))
    by_level: dict[str, list[generator.GeneratedNode]] = {lvl.value: [] for lvl in LEVEL_ORDER}
    for node in generator.generate(preset, seed, progress=progress):
        by_level[node.level].append(node)
    counts = {}
    with transaction.atomic():
        ids: dict[str, int] = {}
        for level in LEVEL_ORDER:
            batch = [
                node_from_geometry(
                    code=generator.full_code(n.code), level=n.level, name=n.name,
                    name_en=n.name_en, parent_id=ids.get(n.parent_code), path=n.path,
                    geometry=n.geometry, synthetic=n.synthetic, population=n.population,
                )
                for n in by_level[level.value]
            ]
            for start in range(0, len(batch), BATCH):
                AreaNode.objects.bulk_create(batch[start : start + BATCH])
            # bulk_create sets pks on SQLite and PostgreSQL; keyed by trimmed code.
            for n, row in zip(by_level[level.value], batch, strict=True):
                ids[n.code] = row.pk
            counts[level.value] = len(batch)
        boundary_version_bump()
        audit_record(actor=actor, action="city.generate", object_type="geo.areanode",
                     area_path=f"{generator.CITY_CODE}/",
                     detail={"preset": preset, "seed": seed, "counts": counts})
    return counts


def area_import(*, actor, level: str, features: list,
                tolerance_m2: float = DEFAULT_TOLERANCE_M2) -> dict[str, int]:
    """Create or replace (by code) nodes of one level from GeoJSON features, all or nothing.

    A replaced node keeps its children and its place in the tree; only its
    geometry and names change. See importing.py for the checks, which run
    inside the transaction so they judge the data the writes change.
    """
    with transaction.atomic():
        plan = import_plan(level=level, features=features, tolerance_m2=tolerance_m2)
        if not plan.ok:
            raise ValidationFailed(
                [FieldError(f"features[{p.index}]" if p.index >= 0 else "level",
                            f"{p.reason} ({p.code})" if p.code else p.reason)
                 for p in plan.problems],
                detail=_("%(n)d feature(s) are not valid; nothing written.") % {"n": len(plan.problems)})
        if actor is not None:
            scope = actor.scope("geo.change_area")
            if any(not scope.covers(c.parent.path) for c in plan.candidates):
                raise PermissionDenied(_("You may not change boundaries outside your area."))
        created = [
            node_from_geometry(code=c.code, level=level, name=c.name, name_en=c.name_en,
                               parent_id=c.parent.pk, path=f"{c.parent.path}{c.trimmed}/",
                               geometry=c.geometry, synthetic=c.synthetic,
                               population=c.population)
            for c in plan.new
        ]
        for start in range(0, len(created), BATCH):
            AreaNode.objects.bulk_create(created[start : start + BATCH])
        _update_rows([_replacement(c, level) for c in plan.replaced])
        counts = {"new": len(created), "replaced": len(plan.replaced)}
        boundary_version_bump()
        audit_record(actor=actor, action="area.import", object_type="geo.areanode",
                     area_path=_common_path([c.parent.path for c in plan.candidates]),
                     detail={"level": level, **counts,
                             "codes": [c.code for c in plan.candidates][:100]})
    return counts


REPLACED_FIELDS = ["name", "name_en", "geometry", "min_lon", "min_lat", "max_lon", "max_lat",
                   "centre_lon", "centre_lat", "synthetic", "population", "updated_at"]


def area_population_set(*, actor, node: AreaNode, population: int | None) -> AreaNode:
    """Set (or clear, with None) an area's population figure; audited with the old one.

    Needs `geo.change_area` over the node. Not a boundary change: the version stays.
    """
    from zhili.geo.importing import POPULATION_MAX

    if population is not None and (isinstance(population, bool) or not isinstance(population, int)
                                   or not 0 <= population <= POPULATION_MAX):
        raise ValidationFailed({"population": _("expected a whole number from 0 to %(max)s")
                                % {"max": f"{POPULATION_MAX:,}"}})
    if actor is not None and not actor.scope("geo.change_area").covers(node.path):
        raise PermissionDenied(_("You may not change areas outside your area."))
    with transaction.atomic():
        locked = AreaNode.objects.select_for_update().only("pk", "path", "population").get(pk=node.pk)
        before = locked.population
        AreaNode.objects.filter(pk=node.pk).update(population=population, updated_at=timezone.now())
        audit_record(actor=actor, action="area.population_set", object_type="geo.areanode",
                     object_id=node.pk, area_path=locked.path,
                     detail={"code": node.code, "before": before, "after": population})
    node.population = population
    return node


def _replacement(candidate, level: str) -> AreaNode:
    node = node_from_geometry(code=candidate.code, level=level, name=candidate.name,
                              name_en=candidate.name_en, parent_id=candidate.parent.pk,
                              path=candidate.existing.path, geometry=candidate.geometry,
                              synthetic=candidate.synthetic,
                              population=candidate.population
                              if candidate.population is not None
                              else candidate.existing.population)
    node.pk, node.updated_at = candidate.existing.pk, timezone.now()
    return node


def _update_rows(nodes: list[AreaNode]) -> None:
    """UPDATE each node's boundary fields with one executemany.

    `bulk_update` builds a CASE per field over the whole batch, which takes
    minutes for a city's 62,000 grids; one prepared UPDATE per row takes seconds.
    """
    if not nodes:
        return
    meta, quote = AreaNode._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in REPLACED_FIELDS]
    sql = (f"UPDATE {quote(meta.db_table)} SET "
           + ", ".join(f"{quote(f.column)} = %s" for f in fields)
           + f" WHERE {quote(meta.pk.column)} = %s")
    rows = [[f.get_db_prep_save(getattr(node, f.attname), connection) for f in fields] + [node.pk]
            for node in nodes]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])


def _common_path(paths: list[str]) -> str:
    """The deepest path covering all of `paths` (where the audit row belongs)."""
    if not paths:
        return ""
    parts = [p.strip("/").split("/") for p in paths]
    common = []
    for segment in zip(*parts, strict=False):
        if len(set(segment)) != 1:
            break
        common.append(segment[0])
    return "/".join(common) + "/" if common else ""


def roads_replace(*, actor=None, lines: list[roads.RoadLine], source: str,
                  synthetic: bool = False) -> int:
    """Replace the base map's roads with `lines` (WGS84), all or nothing.

    The base map's tiles are versioned by the boundary version, so it is bumped.
    """
    if actor is not None and not actor.scope("geo.change_area").covers(f"{generator.CITY_CODE}/"):
        raise PermissionDenied(_("Only a city-wide administrator may replace the roads."))
    rows = []
    for line in lines:
        minx, miny, maxx, maxy = line.geometry.bounds
        rows.append(Road(kind=line.kind, name=line.name, name_en=line.name_en,
                         geometry=shapely.to_wkb(line.geometry), min_lon=minx, min_lat=miny,
                         max_lon=maxx, max_lat=maxy, synthetic=synthetic, source=source[:64]))
    with transaction.atomic():
        Road.objects.all().delete()
        for start in range(0, len(rows), BATCH):
            Road.objects.bulk_create(rows[start : start + BATCH])
        boundary_version_bump()
        audit_record(actor=actor, action="roads.replace", object_type="geo.road",
                     area_path=f"{generator.CITY_CODE}/",
                     detail={"source": source, "count": len(rows), "synthetic": synthetic})
    return len(rows)


def roads_generate(*, actor=None, seed: int = 1) -> int:
    """The demo's synthetic roads (roads.synthetic_roads) from the loaded city's areas."""
    centres = {level: list(AreaNode.objects.filter(level=level)
                           .values_list("centre_lon", "centre_lat"))
               for level in (Level.STREET, Level.COMMUNITY, Level.GRID)}
    city = AreaNode.objects.filter(level=Level.CITY).first()
    if city is None:
        raise Conflict(_("No city is loaded: generate or import the city first."))
    lines = roads.synthetic_roads(centres, city.shape, seed=seed)
    return roads_replace(actor=actor, lines=lines, source=roads.SOURCE_SYNTHETIC, synthetic=True)
