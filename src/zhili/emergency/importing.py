"""Importing rescue resources from CSV or GeoJSON: checked in full, written only on commit.

Each row or feature is a resource: `code`, `name`, `kind` (air_base,
fire_station, professional_team, responder_group), `capacity`, `grade`,
`availability` (default available), `contact_name`, `contact_phone`, and its
place: `lon`/`lat` columns (WGS84) in CSV, a Point in GeoJSON. A dry run lists
every row a commit would refuse, by row or feature number; a commit writes
every row in one transaction, or none, and queues one recomputation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from zhili.core.errors import ApplicationError
from zhili.core.importing import csv_rows, geojson_features

MAX_ROWS = 100_000
FIELDS = ("code", "name", "kind", "capacity", "grade", "availability", "contact_name",
          "contact_phone", "lon", "lat")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows(data: bytes, fmt: str, problems: list[str]) -> list[tuple[str, dict]]:
    if fmt == "csv":
        return csv_rows(data, required={"code", "name", "kind", "lon", "lat"},
                        max_rows=MAX_ROWS, problems=problems)
    features = geojson_features(data, max_rows=MAX_ROWS, problems=problems)
    rows = []
    for where, feature in features:
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        properties = feature.get("properties") if isinstance(feature, dict) else None
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(properties, dict) or not isinstance(geometry, dict) or \
                geometry.get("type") != "Point" or not isinstance(coordinates, list) or \
                len(coordinates) < 2:
            problems.append(f"{where}: a Feature needs properties and a Point [lon, lat]")
            continue
        rows.append((where, {**properties, "lon": coordinates[0], "lat": coordinates[1]}))
    return rows


def _typed(row: dict) -> dict:
    """CSV gives text: numbers are parsed here, so the service sees what an API call would."""
    out = {k: row.get(k) for k in FIELDS if row.get(k) not in (None, "")}
    for name in ("lon", "lat", "capacity"):
        value = out.get(name)
        if isinstance(value, str):
            try:
                out[name] = float(value) if name != "capacity" else int(value)
            except ValueError:
                pass  # left as text: the check names it
    out.setdefault("capacity", 0)
    out.setdefault("availability", "available")
    return out


def resources_import(*, actor, data: bytes, fmt: str, commit: bool = False) -> ImportReport:
    """Check every row; with `commit`, create or update them all in one transaction."""
    from zhili.emergency.models import RescueResource
    from zhili.emergency.services import (
        coverage_requested,
        grid_of,
        resource_clean,
        resource_create,
        resource_update,
    )

    report = ImportReport()
    rows = _rows(data, fmt, report.problems)
    codes = [str(r.get("code", "")).strip()[:40] for _, r in rows]
    existing = {r.code: r for r in RescueResource.objects.filter(code__in=codes)}
    seen: set[str] = set()
    for where, raw in rows:
        row = _typed(raw)
        try:
            row = resource_clean(row)
            for name in ("code", "name", "kind", "lon", "lat"):
                if name not in row:
                    raise ApplicationError(detail=f"{name} is required")
            grid_of(row["lon"], row["lat"])
        except ApplicationError as exc:
            detail = "; ".join(f"{e.field} {e.message}" for e in exc.errors) or exc.detail
            report.problems.append(f"{where}: {detail}")
            continue
        if row["code"] in seen:
            report.problems.append(f"{where}: code {row['code']!r} appears twice in the file")
            continue
        seen.add(row["code"])
        report.rows.append({**row, "exists": row["code"] in existing})
    report.updated = sum(1 for r in report.rows if r["exists"])
    report.created = len(report.rows) - report.updated
    if not commit or not report.ok:
        return report
    with transaction.atomic():
        for row in report.rows:
            fields = {k: v for k, v in row.items() if k not in ("code", "exists")}
            if row["exists"]:
                resource_update(actor=actor, resource=existing[row["code"]], recompute=False,
                                **fields)
            else:
                resource_create(actor=actor, code=row["code"], recompute=False, **fields)
        coverage_requested("import")
    return report
