"""Early-warning reads, scoped to the actor's area."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from zhili.warning.models import LEVEL_COLOURS, RiskPoint, Warning

VIEW = "warning.view_warning"
LAYER_LIMIT = 5000  # a city-wide view clusters on the client; the server caps the payload


def risk_points_geojson(*, actor) -> dict:
    points = RiskPoint.objects.restrict(actor, VIEW)
    if actor.scope(VIEW).empty:
        raise PermissionDenied
    open_levels = dict(Warning.objects.restrict(actor, VIEW).filter(status__in=Warning.OPEN)
                       .order_by("risk_point_id", "level").values_list("risk_point_id", "level"))
    rows = (points.order_by("code")
            .values_list("id", "code", "name", "lon", "lat", "risk_level", "category__name",
                         "category__name_en", "synthetic")[:LAYER_LIMIT])
    features = []
    for pk, code, name, lon, lat, risk_level, category, category_en, synthetic in rows:
        level = open_levels.get(pk, 0)
        features.append({
            "type": "Feature", "id": code,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"code": code, "name": name, "category": category,
                           "category_en": category_en, "risk_level": risk_level,
                           "warning_level": level, "colour": LEVEL_COLOURS.get(level, "grey"),
                           "synthetic": synthetic},
        })
    return {"type": "FeatureCollection", "features": features}


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


def risk_point_positions():
    """(id, lon, lat, area_path) of every risk point, in id order, unscoped: for
    city-wide computations (emergency's rescue circles) that store their results
    under the same area_path and scope them when read."""
    return (RiskPoint.objects.order_by("id").values_list("id", "lon", "lat", "area_path")
            .iterator(chunk_size=20_000))
