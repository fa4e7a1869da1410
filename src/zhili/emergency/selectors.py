"""Emergency reads, scoped to the actor's area.

Resources: `emergency.view_resource`. Rescue circles and coverage:
`emergency.view_coverage`. A detail lookup answers the same NotFound for
missing and not yours. Contacts leave here masked; the full contact is the
audited `services.resource_contact_reveal`.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from zhili.core.errors import NotFound, PermissionDenied
from zhili.core.scoping import scope_of
from zhili.emergency.models import CLASSES, CoverageRun, PointCoverage, RescueResource

VIEW = "emergency.view_resource"
VIEW_COVERAGE = "emergency.view_coverage"
LAYER_LIMIT = 5000
GAP_LIMIT = 500


def mask_phone(value: str) -> str:
    digits = value.strip()
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "*" * len(digits)


def mask_name(value: str) -> str:
    return value[:1] + "*" * max(len(value) - 1, 1) if value else ""


def _scoped(actor, permission: str):
    scope = scope_of(actor, permission)
    if scope.empty:
        raise PermissionDenied(_("Your roles do not include the rescue resources."))
    return scope


def resource_list(*, actor, kind: str = "", availability: str = ""):
    _scoped(actor, VIEW)
    resources = RescueResource.objects.restrict(actor, VIEW).select_related("grid")
    if kind:
        resources = resources.filter(kind=kind)
    if availability:
        resources = resources.filter(availability=availability)
    return resources.order_by("code")


def resource_get(*, actor, code: str) -> RescueResource:
    resource = (RescueResource.objects.restrict(actor, VIEW).select_related("grid")
                .filter(code=code).first())
    if resource is None:
        raise NotFound(_("No rescue resource %(code)s.") % {"code": code[:40]})
    return resource


AVAILABILITY_COLOURS = {"available": "green", "busy": "orange", "off_duty": "grey"}


def resources_geojson(*, actor) -> dict:
    _scoped(actor, VIEW)
    rows = (RescueResource.objects.restrict(actor, VIEW).order_by("code")
            .values_list("code", "name", "kind", "grade", "capacity", "availability", "lon",
                         "lat", "synthetic")[:LAYER_LIMIT])
    kinds = dict(RescueResource.Kind.choices)
    features = [{
        "type": "Feature", "id": code,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"code": code, "name": name, "kind": kind, "kind_label": str(kinds[kind]),
                       "rescue_class": RescueResource.KIND_CLASS[kind], "grade": grade,
                       "capacity": capacity, "availability": availability,
                       "colour": AVAILABILITY_COLOURS[availability], "synthetic": synthetic},
    } for code, name, kind, grade, capacity, availability, lon, lat, synthetic in rows]
    return {"type": "FeatureCollection", "features": features}


# -- rescue circles -------------------------------------------------------------


def coverage_run() -> CoverageRun | None:
    """The newest finished run (not scoped: it holds no place-level data)."""
    return (CoverageRun.objects.filter(status=CoverageRun.Status.DONE).select_related("network")
            .order_by("-id").first())


def coverage_last_failure() -> CoverageRun | None:
    last = CoverageRun.objects.order_by("-id").first()
    return last if last and last.status == CoverageRun.Status.FAILED else None


def _shares(counts: dict, targets: dict) -> dict:
    total = counts["points"]
    return {cls: {"target_s": targets[cls], "covered": counts[f"{cls}_in"],
                  "unreachable": counts[f"{cls}_none"],
                  "share": round(counts[f"{cls}_in"] / total, 4) if total else None}
            for cls in CLASSES}


def coverage_summary(area_path: str) -> dict:
    """Shares of the risk points under `area_path` inside each class's rescue circle.

    Not scoped (supervision calls it for an area it already checked):
    {"run": id or None, "computed_at", "points": n, "covered": inside every class's
    circle, "share": covered / points (None without points), "classes": {class:
    {"target_s", "covered", "unreachable", "share"}}, "population": None,
    "population_note"}.
    """
    run = coverage_run()
    if run is None:
        return {"run": None, "computed_at": None, "points": 0, "covered": 0, "share": None,
                "classes": {}, "population": None, "population_note": "no coverage run yet"}
    targets = run.targets
    every = Q(**{f"{cls}_s__lte": targets[cls] for cls in CLASSES})
    counts = (PointCoverage.objects.filter(run=run, area_path__startswith=area_path)
              .aggregate(**_aggregates(targets), covered=Count("id", filter=every)))
    points = counts["points"]
    return {"run": run.pk, "computed_at": run.finished_at.isoformat(), "points": points,
            "covered": counts["covered"],
            "share": round(counts["covered"] / points, 4) if points else None,
            "classes": _shares(counts, targets), "population": None,
            "population_note": "not known: the grids carry no population figure"}


def _aggregates(targets: dict) -> dict:
    aggregates = {"points": Count("id")}
    for cls in CLASSES:
        aggregates[f"{cls}_in"] = Count("id", filter=Q(**{f"{cls}_s__lte": targets[cls]}))
        aggregates[f"{cls}_none"] = Count("id", filter=Q(**{f"{cls}_s__isnull": True}))
    return aggregates


def coverage_table(*, actor) -> dict:
    """Per district and street of the actor's area: risk points and the share inside
    each class's circle. {"run", "rows": [{"path", "level", "name", "points", "classes"}]}"""
    scope = _scoped(actor, VIEW_COVERAGE)
    run = coverage_run()
    if run is None:
        return {"run": None, "rows": []}
    targets = run.targets
    per_street = (PointCoverage.objects.filter(run=run).filter(scope.q("area_path"))
                  .values("street_path").annotate(**_aggregates(targets)).order_by("street_path"))
    districts: dict[str, dict] = {}
    streets = []
    for row in per_street:
        path = row.pop("street_path")
        district = "/".join(path.strip("/").split("/")[:2]) + "/"
        total = districts.setdefault(district, {k: 0 for k in row})
        for key, value in row.items():
            total[key] += value
        streets.append((district, path, row))
    names = _area_names([*districts, *(s[1] for s in streets)])
    rows = []
    for district, counts in districts.items():
        rows.append({"path": district, "level": "district", "name": names.get(district, district),
                     "points": counts["points"], "classes": _shares(counts, targets)})
        for parent, path, counts_s in streets:
            if parent == district:
                rows.append({"path": path, "level": "street", "name": names.get(path, path),
                             "points": counts_s["points"], "classes": _shares(counts_s, targets)})
    return {"run": run, "rows": rows}


def _area_names(paths) -> dict[str, str]:
    from django.utils.translation import get_language

    from zhili.geo.models import AreaNode

    field = "name_en" if (get_language() or "").startswith("en") else "name"
    return {path: name or fallback for path, name, fallback in
            AreaNode.objects.filter(path__in=list(paths)).values_list("path", field, "name")}


def gap_list(*, actor, limit: int = GAP_LIMIT):
    """Risk points of the actor's area outside at least one class's circle, the worst
    first by ground time (unreachable first)."""
    scope = _scoped(actor, VIEW_COVERAGE)
    run = coverage_run()
    if run is None:
        return []
    from django.db.models import F

    return list(PointCoverage.objects.filter(run=run, gap=True).filter(scope.q("area_path"))
                .select_related("risk_point", "air_resource", "ground_resource",
                                "responders_resource")
                .order_by(F("ground_s").desc(nulls_first=True), "risk_point_id")[:limit])


def circles_geojson(*, actor) -> dict:
    """The current run's circle polygons, one feature per class, clipped to the box of
    the actor's area."""
    import shapely
    from shapely.geometry import mapping, shape

    scope = _scoped(actor, VIEW_COVERAGE)
    run = coverage_run()
    features = []
    if run is None:
        return {"type": "FeatureCollection", "features": features}
    box = None if scope.everywhere else _scope_box(scope.paths)
    for cls in CLASSES:
        geometry = run.polygons.get(cls)
        if not geometry:
            continue
        if box is not None:
            clipped = shapely.clip_by_rect(shape(geometry), *box)
            if clipped.is_empty:
                continue
            geometry = mapping(clipped)
        features.append({"type": "Feature", "id": cls, "geometry": geometry,
                         "properties": {"rescue_class": cls, "target_s": run.targets[cls],
                                        "run": run.pk}})
    return {"type": "FeatureCollection", "features": features}


def _scope_box(paths) -> tuple[float, float, float, float] | None:
    from django.db.models import Max, Min

    from zhili.geo.models import AreaNode

    box = AreaNode.objects.filter(path__in=list(paths)).aggregate(
        a=Min("min_lon"), b=Min("min_lat"), c=Max("max_lon"), d=Max("max_lat"))
    return (box["a"], box["b"], box["c"], box["d"]) if box["a"] is not None else (0, 0, 0, 0)
