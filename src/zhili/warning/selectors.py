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
    rows = (points.select_related("category").order_by("code")
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
