"""Emergency reads, scoped to the actor's area.

Resources: `emergency.view_resource`. Rescue circles and coverage:
`emergency.view_coverage`. A detail lookup answers the same NotFound for
missing and not yours. Contacts leave here masked; the full contact is the
audited `services.resource_contact_reveal`.
"""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from zhili.core.errors import NotFound, PermissionDenied
from zhili.core.scoping import scope_of
from zhili.emergency.models import (
    CLASSES,
    CoverageRun,
    GridCoverage,
    PointCoverage,
    RescueResource,
)

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


NO_RUN_NOTE = "no coverage run yet"
NO_POPULATION_NOTE = "not known: no grid of the area carries a population figure"


def _inside(cls: str, targets: dict) -> Q:
    return Q(**{f"{cls}_s__lte": targets[cls]})


def _every(targets: dict) -> Q:
    return Q(*(_inside(cls, targets) for cls in CLASSES))


def coverage_summary(area_path: str) -> dict:
    """Shares of the risk points and of the people under `area_path` inside each class's
    rescue circle.

    Not scoped (supervision calls it for an area it already checked):
    {"run": id or None, "computed_at", "points": n, "covered": inside every class's
    circle, "share": covered / points (None without points), "classes": {class:
    {"target_s", "covered", "unreachable", "share"}}, "population": see
    `_population` (None when no grid of the area has a figure), "population_note"}.
    Two aggregate queries after the run's: the risk points, the grids.
    """
    run = coverage_run()
    if run is None:
        return {"run": None, "computed_at": None, "points": 0, "covered": 0, "share": None,
                "classes": {}, "population": None, "population_note": NO_RUN_NOTE}
    targets = run.targets
    counts = (PointCoverage.objects.filter(run=run, area_path__startswith=area_path)
              .aggregate(**_aggregates(targets), covered=Count("id", filter=_every(targets))))
    people = (GridCoverage.objects.filter(run=run, area_path__startswith=area_path)
              .aggregate(**_population_aggregates(targets)))
    population = _population(people)
    points = counts["points"]
    return {"run": run.pk, "computed_at": run.finished_at.isoformat(), "points": points,
            "covered": counts["covered"],
            "share": round(counts["covered"] / points, 4) if points else None,
            "classes": _shares(counts, targets), "population": population,
            "population_note": _population_note(population, people)}


def _aggregates(targets: dict) -> dict:
    aggregates = {"points": Count("id")}
    for cls in CLASSES:
        aggregates[f"{cls}_in"] = Count("id", filter=_inside(cls, targets))
        aggregates[f"{cls}_none"] = Count("id", filter=Q(**{f"{cls}_s__isnull": True}))
    return aggregates


def _population_aggregates(targets: dict) -> dict:
    """Over GridCoverage rows: the grids, those without a figure, and the people (SUM
    skips the grids without one) in all, inside each class's circle and inside every one."""
    people = "grid__population"
    aggregates = {"grids": Count("id"),
                  "grids_unknown": Count("id", filter=Q(grid__population__isnull=True)),
                  "grids_synthetic": Count("id", filter=Q(grid__population__isnull=False,
                                                          grid__synthetic=True)),
                  "people": Sum(people), "people_in": Sum(people, filter=_every(targets))}
    for cls in CLASSES:
        aggregates[f"{cls}_people"] = Sum(people, filter=_inside(cls, targets))
    return aggregates


def _population(people: dict) -> dict | None:
    """{"total", "covered" (inside every class's circle), "share", "classes": {class:
    {"covered", "share"}}, "grids", "grids_without_figure", "synthetic"}; None when no
    grid has a figure. Grids without one are in neither the people nor the shares;
    synthetic: some figures are the generator's (on synthetic grids)."""
    if people["grids"] == people["grids_unknown"]:
        return None
    total = people["people"] or 0

    def share(n):
        return round(n / total, 4) if total else None

    covered = people["people_in"] or 0
    return {"total": total, "covered": covered, "share": share(covered),
            "classes": {cls: {"covered": people[f"{cls}_people"] or 0,
                              "share": share(people[f"{cls}_people"] or 0)} for cls in CLASSES},
            "grids": people["grids"], "grids_without_figure": people["grids_unknown"],
            "synthetic": bool(people["grids_synthetic"])}


def _population_note(population: dict | None, people: dict) -> str:
    if population is None:
        return NO_POPULATION_NOTE
    unknown = people["grids_unknown"]
    if unknown:
        return (f"{unknown} of {people['grids']} grids have no population figure and are "
                "left out")
    return ""


def _add(total: dict, row: dict) -> None:
    for key, value in row.items():
        if value is not None:
            total[key] = (total.get(key) or 0) + value
        else:
            total.setdefault(key, None)


def coverage_table(*, actor) -> dict:
    """Per district and street of the actor's area: risk points and people, and their
    shares inside each class's circle.
    {"run", "population", "population_note", "rows": [{"path", "level", "name", "points",
    "classes", "population", "population_note"}]} — population as in coverage_summary, the
    top one over the whole area. A street is listed when it holds risk points or people
    with a figure. Two grouped queries (risk points, grids) and one for the names."""
    scope = _scoped(actor, VIEW_COVERAGE)
    run = coverage_run()
    if run is None:
        return {"run": None, "population": None, "population_note": NO_RUN_NOTE, "rows": []}
    targets = run.targets
    per_street = {row.pop("street_path"): row for row in
                  PointCoverage.objects.filter(run=run).filter(scope.q("area_path"))
                  .values("street_path").annotate(**_aggregates(targets)).order_by()}
    people_per_street = {row.pop("street_path"): row for row in
                         GridCoverage.objects.filter(run=run).filter(scope.q("area_path"))
                         .values("street_path").annotate(**_population_aggregates(targets))
                         .order_by()}
    no_points = {key: 0 for key in _aggregates(targets)}
    no_people = {key: (0 if key.startswith("grids") else None)
                 for key in _population_aggregates(targets)}
    districts: dict[str, tuple[dict, dict]] = {}
    everyone: dict = dict(no_people)
    streets = []
    for path in sorted(set(per_street) | set(people_per_street)):
        district = "/".join(path.strip("/").split("/")[:2]) + "/"
        counts = per_street.get(path, no_points)
        people = people_per_street.get(path, no_people)
        d_counts, d_people = districts.setdefault(district, ({}, dict(no_people)))
        _add(d_counts, counts)
        _add(d_people, people)
        _add(everyone, people)
        if counts["points"] or people["grids"] != people["grids_unknown"]:
            streets.append((district, path, counts, people))
    names = _area_names([*districts, *(s[1] for s in streets)])

    def row(path, level, counts, people):
        population = _population(people)
        return {"path": path, "level": level, "name": names.get(path, path),
                "points": counts.get("points", 0),
                "classes": _shares({**no_points, **counts}, targets),
                "population": population,
                "population_note": _population_note(population, people)}

    rows = []
    for district, (counts, people) in districts.items():
        shown = [s for s in streets if s[0] == district]
        if not shown:
            continue  # no risk point, no population figure: nothing to say
        rows.append(row(district, "district", counts, people))
        rows.extend(row(path, "street", c, p) for _, path, c, p in shown)
    population = _population(everyone)
    return {"run": run, "population": population,
            "population_note": _population_note(population, everyone), "rows": rows}


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
