"""Writes to the city's geography. Each is one transaction with its audit row."""

from __future__ import annotations

import shapely
from django.db import transaction
from django.db.models import F

from zhili.audit.services import audit_record
from zhili.core.errors import Conflict
from zhili.geo import generator
from zhili.geo.models import LEVEL_ORDER, AreaNode, BoundaryVersion

BATCH = 2000


def boundary_version_bump() -> None:
    """Tell every process its spatial index is stale (checked on the next lookup)."""
    updated = BoundaryVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        BoundaryVersion.objects.create(pk=1, version=1)


def node_from_geometry(*, code, level, name, name_en, parent_id, path, geometry, synthetic):
    minx, miny, maxx, maxy = geometry.bounds
    centre = geometry.representative_point()
    return AreaNode(
        code=code, level=level, name=name, name_en=name_en, parent_id=parent_id, path=path,
        geometry=shapely.to_wkb(geometry), min_lon=minx, min_lat=miny, max_lon=maxx,
        max_lat=maxy, centre_lon=centre.x, centre_lat=centre.y, synthetic=synthetic,
    )


def city_generate(*, actor=None, preset: str, seed: int, progress=None) -> dict[str, int]:
    """Generate the demo city (see generator.py) into an empty database."""
    if AreaNode.objects.exists():
        raise Conflict("A city is already loaded; generate into an empty database "
                       "(or delete the data directory of the demo).")
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
                    geometry=n.geometry, synthetic=n.synthetic,
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
