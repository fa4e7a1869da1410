"""Importing the risk list from CSV or GeoJSON: checked in full, written only on commit.

Each row or feature is a risk point: `code`, `name`, `category` (a category
code), `risk_level` (1 low … 4 major, default 2), `description`, and where it
is: `lon`/`lat` columns (WGS84) in CSV, a Point or Polygon geometry in
GeoJSON (a polygon's point is its representative point). A dry run finds every
problem a commit would refuse, each with its row or feature number; a commit
writes all rows in one transaction or none. A code already on the list is
updated (and said so), a new code created.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.db import transaction

from zhili.core.importing import csv_rows, geojson_features

MAX_ROWS = 200_000
MAX_TEXT = {"code": 40, "name": 128, "description": 2000}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _clean_text(value, name: str, where: str, problems: list[str], required: bool = True) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        problems.append(f"{where}: {name} holds a NUL or an unpaired surrogate")
        return ""
    text = text.strip()
    if required and not text:
        problems.append(f"{where}: {name} is required")
    elif len(text) > MAX_TEXT[name]:
        problems.append(f"{where}: {name} is longer than {MAX_TEXT[name]} characters")
    return text


def _number(value, name: str, where: str, problems: list[str]) -> float | None:
    if isinstance(value, bool):
        problems.append(f"{where}: {name} must be a number")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems.append(f"{where}: {name} must be a number, not {str(value)[:30]!r}")
        return None
    if not math.isfinite(number):
        problems.append(f"{where}: {name} must be finite")
        return None
    return number


def _polygon(geometry: dict, where: str, problems: list[str]):
    """A valid shapely Polygon from GeoJSON, or None with the reason."""
    from shapely.geometry import Polygon

    rings = geometry.get("coordinates")
    if not isinstance(rings, list) or not rings or not all(isinstance(r, list) for r in rings):
        problems.append(f"{where}: Polygon coordinates must be a list of rings")
        return None
    for i, ring in enumerate(rings):
        if len(ring) < 4:
            problems.append(f"{where}: ring {i} has {len(ring)} positions; a closed ring needs at least 4")
            return None
        if not all(isinstance(p, list) and len(p) >= 2 and all(
                isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c)
                for c in p[:2]) for p in ring):
            problems.append(f"{where}: ring {i} has a position that is not [lon, lat]")
            return None
        if ring[0][:2] != ring[-1][:2]:
            problems.append(f"{where}: ring {i} is not closed (its last position must repeat the first)")
            return None
    polygon = Polygon(rings[0], rings[1:])
    if not polygon.is_valid:
        from shapely.validation import explain_validity

        problems.append(f"{where}: the polygon is not valid ({explain_validity(polygon)})")
        return None
    return polygon


def _rows_from(data: bytes, fmt: str, problems: list[str]) -> list[tuple[str, dict]]:
    if fmt == "csv":
        return csv_rows(data, required={"code", "name", "category", "lon", "lat"},
                        max_rows=MAX_ROWS, problems=problems)
    features = geojson_features(data, max_rows=MAX_ROWS, problems=problems)
    out = []
    for where, feature in features:
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict) or \
                not isinstance(feature.get("geometry"), dict):
            problems.append(f"{where}: a Feature needs properties and a geometry")
            continue
        row = dict(feature["properties"])
        geometry = feature["geometry"]
        if geometry.get("type") == "Point":
            coordinates = geometry.get("coordinates")
            if not isinstance(coordinates, list) or len(coordinates) < 2:
                problems.append(f"{where}: a Point needs [lon, lat]")
                continue
            row["lon"], row["lat"] = coordinates[0], coordinates[1]
        elif geometry.get("type") == "Polygon":
            polygon = _polygon(geometry, where, problems)
            if polygon is None:
                continue
            point = polygon.representative_point()
            row["lon"], row["lat"] = point.x, point.y
            row["geometry"] = {"type": "Polygon", "coordinates": geometry["coordinates"]}
        else:
            problems.append(f"{where}: geometry must be a Point or a Polygon")
            continue
        out.append((where, row))
    return out


def risk_points_import(*, actor, data: bytes, fmt: str, commit: bool = False) -> ImportReport:
    """Check every row; with `commit`, write them all in one transaction."""
    from zhili.geo.index import get_index
    from zhili.warning.models import RiskCategory, RiskPoint

    report = ImportReport()
    problems = report.problems
    rows = _rows_from(data, fmt, problems)
    categories = {c.code: c for c in RiskCategory.objects.all()}
    existing = set(RiskPoint.objects.filter(code__in=[str(r.get("code", "")).strip()[:40]
                                                      for _, r in rows])
                   .values_list("code", flat=True))
    seen: set[str] = set()
    index = get_index()
    for where, row in rows:
        before = len(problems)
        code = _clean_text(row.get("code"), "code", where, problems)
        name = _clean_text(row.get("name"), "name", where, problems)
        description = _clean_text(row.get("description"), "description", where, problems,
                                  required=False)
        category = categories.get(str(row.get("category", "")).strip())
        if category is None:
            problems.append(f"{where}: unknown category {str(row.get('category'))[:40]!r}")
        lon = _number(row.get("lon"), "lon", where, problems)
        lat = _number(row.get("lat"), "lat", where, problems)
        level = row.get("risk_level") or 2
        level_number = _number(level, "risk_level", where, problems)
        if level_number is not None and level_number not in (1, 2, 3, 4):
            problems.append(f"{where}: risk_level must be 1, 2, 3 or 4")
        if code and code in seen:
            problems.append(f"{where}: code {code!r} appears twice in the file")
        seen.add(code)
        if lon is not None and lat is not None and index.locate(lon, lat) is None:
            problems.append(f"{where}: ({lon}, {lat}) lies outside every grid of the city")
        if len(problems) == before:
            report.rows.append(dict(code=code, name=name, description=description,
                                    category=category, lon=lon, lat=lat,
                                    risk_level=int(level_number), geometry=row.get("geometry"),
                                    exists=code in existing))
    report.updated = sum(1 for r in report.rows if r["exists"])
    report.created = len(report.rows) - report.updated
    if not commit or not report.ok:
        return report
    from zhili.warning.services import risk_point_create, risk_point_update

    with transaction.atomic():
        for row in report.rows:
            fields = {k: row[k] for k in ("name", "description", "category", "lon", "lat",
                                          "risk_level", "geometry")}
            if row["exists"]:
                risk_point_update(actor=actor, code=row["code"], **fields)
            else:
                risk_point_create(actor=actor, code=row["code"], **fields)
    return report
