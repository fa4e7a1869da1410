"""Early-warning reads, scoped to the actor's area."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import F, Func, IntegerField, Min, OuterRef, Subquery

from zhili.geo.viewport import Viewport, cluster_cells, clustered_collection
from zhili.warning.models import LEVEL_COLOURS, RiskPoint, Warning, WarningEvent

VIEW = "warning.view_warning"
LAYER_LIMIT = 5000  # points in one answer; a wider view is clustered (geo/viewport.py)


def risk_points_geojson(*, actor, viewport: Viewport | None = None) -> dict:
    """The area's risk points with their most severe open warning (GeoJSON).

    Without a viewport: the first LAYER_LIMIT points (a report's map, an area of a
    few thousand). With one below POINTS_FROM_ZOOM: clusters counted in the
    database over every point of the area in the box (a city-wide view of 520,000
    points is one GROUP BY, a few hundred features); a cell of one point is that
    point. From POINTS_FROM_ZOOM up: the points in the box.
    """
    points = RiskPoint.objects.restrict(actor, VIEW)
    if actor.scope(VIEW).empty:
        raise PermissionDenied
    warnings = Warning.objects.restrict(actor, VIEW).filter(status__in=Warning.OPEN)
    if viewport is None:
        return _points_collection(points, _open_warnings(warnings))
    if not viewport.clusters:
        inside = viewport.within(points)
        return _points_collection(inside, _open_warnings(
            viewport.within(warnings, lon="risk_point__lon", lat="risk_point__lat")))
    cells = cluster_cells(points, viewport)
    # The (few) open warnings in the box: the most severe per cell, and per point
    # for the cells of one point (the last of each point's rows wins).
    worst: dict[tuple[int, int], int] = {}
    per_point: dict[int, tuple[int, str]] = {}
    for pk, lon, lat, level, number in (
            viewport.within(warnings, lon="risk_point__lon", lat="risk_point__lat")
            .order_by("risk_point_id", "level", "raised_at")
            .values_list("risk_point_id", "risk_point__lon", "risk_point__lat", "level", "number")):
        key = viewport.cell_of(lon, lat)
        worst[key] = max(level, worst.get(key, 0))
        per_point[pk] = (level, number)

    def properties(cell):
        level = worst.get((cell.x, cell.y), 0)
        return {"warning_level": level, "colour": LEVEL_COLOURS.get(level, "grey")}

    return clustered_collection(
        cells, points=lambda ids: _points_collection(points.filter(id__in=ids), per_point),
        properties=properties)


def _open_warnings(warnings) -> dict[int, tuple[int, str]]:
    """The most severe open warning per point (the last of each point's rows wins)."""
    return {pk: (level, number) for pk, level, number in
            warnings.order_by("risk_point_id", "level", "raised_at")
            .values_list("risk_point_id", "level", "number")}


def _points_collection(points, open_warnings) -> dict:
    """The first LAYER_LIMIT points by code; `truncated` says when there were more."""
    rows = list(points.order_by("code")
                .values_list("id", "code", "name", "lon", "lat", "risk_level", "category__name",
                             "category__name_en", "synthetic")[:LAYER_LIMIT + 1])
    features = []
    for pk, code, name, lon, lat, risk_level, category, category_en, synthetic in rows[:LAYER_LIMIT]:
        level, warning = open_warnings.get(pk, (0, None))
        features.append({
            "type": "Feature", "id": code,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"code": code, "name": name, "category": category,
                           "category_en": category_en, "risk_level": risk_level,
                           "warning_level": level, "warning": warning,
                           "colour": LEVEL_COLOURS.get(level, "grey"),
                           "synthetic": synthetic},
        })
    collection = {"type": "FeatureCollection", "features": features}
    if len(rows) > LAYER_LIMIT:
        collection["truncated"] = True
    return collection


def warning_list(*, actor, status: str = "open", level: int | None = None):
    """The area's warnings, newest first; `status` "open" (default) or "all"."""
    warnings = (Warning.objects.restrict(actor, VIEW)
                .select_related("risk_point__category", "risk_point__grid"))
    if status != "all":
        warnings = warnings.filter(status__in=Warning.OPEN)
    if level:
        warnings = warnings.filter(level=level)
    return warnings.order_by("-level", "-raised_at")


def warning_get(*, actor, number: str) -> Warning:
    """One warning in the actor's area; the same 404 for missing and not yours."""
    from zhili.core.errors import NotFound

    warning = (Warning.objects.restrict(actor, VIEW)
               .select_related("risk_point__category", "risk_point__grid", "sensor")
               .filter(number=number).first())
    if warning is None:
        raise NotFound()
    return warning


def warning_readings(*, warning: Warning, hours: int = 24, limit: int = 2000) -> list[tuple]:
    """(time, value) of the warning's sensor around the warning, oldest first."""
    from datetime import timedelta

    from zhili.warning.models import Reading

    if warning.sensor_id is None:
        return []
    end = warning.closed_at or warning.raised_at + timedelta(hours=hours)
    start = warning.raised_at - timedelta(hours=hours / 2)
    rows = (Reading.objects.filter(sensor_id=warning.sensor_id, at__gte=start, at__lte=end)
            .order_by("at").values_list("at", "value")[:limit])
    return list(rows)


def warning_case(*, warning: Warning):
    """The on-site case opened for this warning, if any."""
    from zhili.governance.models import Case

    return Case.objects.filter(intake_scope="warning", intake_key=f"warning:{warning.pk}").first()


def rule_lines(*, warning: Warning) -> list[tuple[int, float]]:
    """(level, raise threshold in the sensor's unit) of the rule on the warning's sensor."""
    from zhili.warning.rules import rule_for, rules_by_scope

    sensor = warning.sensor
    if sensor is None:
        return []
    rule = rule_for(rules_by_scope(), sensor.sensor_type, warning.risk_point.category_id,
                    warning.risk_point_id)
    if rule is None:
        return []
    return [(k + 1, float(v)) for k, v in enumerate(rule.raise_at) if v is not None]


def my_warnings(*, actor, open_only: bool = True) -> list[tuple[Warning, bool]]:
    """The warnings that reached this user (in-app, or as a linked responsible person),
    newest first, each with whether they acknowledged it."""
    from django.db.models import Q

    from zhili.notifications.models import Delivery
    from zhili.warning.models import ResponsiblePerson

    persons = ResponsiblePerson.objects.filter(user=actor).values("person_id")
    rows = (Delivery.objects.filter(Q(user=actor) | Q(person_id__in=persons),
                                    message__object_type="warning.warning")
            .values_list("message__object_id", "acknowledged_at"))
    acked: dict[int, bool] = {}
    for object_id, at in rows[:2000]:
        if str(object_id).isdigit():
            acked[int(object_id)] = acked.get(int(object_id), False) or at is not None
    warnings = (Warning.objects.filter(pk__in=list(acked))
                .select_related("risk_point__category").order_by("-raised_at"))
    if open_only:
        warnings = warnings.filter(status__in=Warning.OPEN)
    return [(w, acked[w.pk]) for w in warnings[:200]]


def person_open_warnings(*, person_id: int, exclude_warning: int | None = None) -> list:
    """Open warnings whose messages reached this registry person, with their delivery
    ids (the responder page lists them, each with its own link)."""
    from zhili.notifications.models import Delivery

    rows = (Delivery.objects.filter(person_id=person_id, message__object_type="warning.warning")
            .order_by("-id").values_list("id", "message__object_id", "acknowledged_at")[:200])
    first: dict[int, tuple[int, object]] = {}
    for delivery_id, object_id, at in rows:
        if str(object_id).isdigit() and int(object_id) != exclude_warning:
            first.setdefault(int(object_id), (delivery_id, at))
    warnings = (Warning.objects.filter(pk__in=list(first), status__in=Warning.OPEN)
                .select_related("risk_point").order_by("-level", "-raised_at"))
    return [(w, first[w.pk][0], first[w.pk][1]) for w in warnings]

# Roll-up reads for the supervision app's worker (zhili.warning.kpis): sums per area
# and day, not an actor's page, so not scoped (supervision scopes what it shows).

def warnings_for_rollup(*, area_path: str | None = None, start=None, end=None):
    """Warnings (own area `area_path`, all when None) raised in [start, end), each with
    `first_ack` (its first acknowledgement, or None) and `n_escalations`."""
    rows = Warning.objects.all()
    if area_path is not None:
        rows = rows.filter(area_path=area_path)
    if start is not None:
        rows = rows.filter(raised_at__gte=start)
    if end is not None:
        rows = rows.filter(raised_at__lt=end)
    events = WarningEvent.objects.filter(warning=OuterRef("pk")).order_by()
    first_ack = Subquery(events.filter(kind="acknowledged").values("warning")
                         .annotate(t=Min("at")).values("t")[:1])
    escalations = Subquery(events.filter(kind="escalated")
                           .annotate(n=Func(F("pk"), function="COUNT")).values("n"),
                           output_field=IntegerField())
    return rows.order_by().annotate(first_ack=first_ack, n_escalations=escalations)


def warning_changes(*, after_id: int, limit: int):
    """(event id, warning area path, raised_at) of warning events after `after_id`."""
    return list(WarningEvent.objects.filter(id__gt=after_id).order_by("id")
                .values_list("id", "warning__area_path", "warning__raised_at")[:limit])

def risk_point_positions():
    """(id, lon, lat, area_path) of every risk point, in id order, unscoped: for
    city-wide computations (emergency's rescue circles) that store their results
    under the same area_path and scope them when read."""
    return (RiskPoint.objects.order_by("id").values_list("id", "lon", "lat", "area_path")
            .iterator(chunk_size=20_000))
