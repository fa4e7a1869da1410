"""Flood reads, scoped to the actor's area (the same 404 for missing and not yours).

Risk points and rain-gauge readings are the warning app's; they are read here
with the warning app's own scope (`warning.view_warning`) for people, and by
the model's area for the run's system work (a run only ever looks inside the
area its model is attached to).
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.core.exceptions import PermissionDenied

from zhili.core.errors import NotFound
from zhili.flood.access import RUN, VIEW  # noqa: F401  (the api reads them here)
from zhili.flood.models import DrainageModel, FloodedNode, FloodRun, ModelNode

WARNING_VIEW = "warning.view_warning"
LEVEL_COLOURS = {0: "grey", 1: "blue", 2: "yellow", 3: "orange", 4: "red"}


def viewer(actor):
    if actor is None or actor.scope(VIEW).empty:
        raise PermissionDenied
    return actor


def model_list(*, actor):
    return (DrainageModel.objects.restrict(actor, VIEW).select_related("area")
            .order_by("area_path", "name"))


def model_get(*, actor, model_id: int, permission: str = VIEW) -> DrainageModel:
    model = (DrainageModel.objects.restrict(actor, permission).select_related("area")
             .filter(pk=model_id).first())
    if model is None:
        raise NotFound()
    return model


def may_run(actor, model: DrainageModel) -> bool:
    return actor.scope(RUN).covers(model.area_path)


def run_list(*, actor, model: DrainageModel | None = None, limit: int = 50):
    runs = FloodRun.objects.restrict(actor, VIEW).select_related("model", "requested_by")
    if model is not None:
        runs = runs.filter(model=model)
    return runs.defer("inp", "report", "results", "rainfall")[:limit]


def run_get(*, actor, run_id: int) -> FloodRun:
    run = (FloodRun.objects.restrict(actor, VIEW).select_related("model", "requested_by")
           .filter(pk=run_id).first())
    if run is None:
        raise NotFound()
    return run


def flooded_nodes(*, run: FloodRun):
    return FloodedNode.objects.filter(run=run).select_related("node", "node__grid") \
        .order_by("-level", "-volume_m3")


def run_geojson(*, run: FloodRun) -> dict:
    """Every node of the model, flooded ones coloured by their level and sized by depth."""
    flooded = {f.node_id: f for f in flooded_nodes(run=run)}
    features = []
    for node in ModelNode.objects.filter(model_id=run.model_id, lon__isnull=False) \
            .order_by("name"):
        hit = flooded.get(node.pk)
        props = {"name": node.name, "kind": node.kind, "flooded": hit is not None}
        if hit:
            props.update(volume_m3=hit.volume_m3, hours=hit.hours, depth_m=hit.peak_depth_m,
                         level=hit.level, colour=LEVEL_COLOURS[hit.level],
                         peak_at=hit.peak_at.isoformat(), risk_points=hit.risk_points)
        features.append({"type": "Feature", "id": node.name,
                         "geometry": {"type": "Point", "coordinates": [node.lon, node.lat]},
                         "properties": props})
    return {"type": "FeatureCollection", "features": features}


def flooded_layer(*, actor) -> dict:
    """The flooded nodes of each model's latest finished run in the actor's area (the map
    layer): two queries whatever the number of models."""
    from django.db.models import OuterRef, Subquery

    viewer(actor)
    latest = (FloodRun.objects.filter(model=OuterRef("pk"), status=FloodRun.Status.DONE)
              .order_by("-finished_at", "-pk").values("pk")[:1])
    run_ids = [pk for pk in DrainageModel.objects.restrict(actor, VIEW).filter(active=True)
               .annotate(latest=Subquery(latest)).values_list("latest", flat=True)[:500] if pk]
    rows = (FloodedNode.objects.filter(run_id__in=run_ids, node__lon__isnull=False)
            .select_related("node", "run__model").order_by("-level", "-volume_m3")[:5000])
    features = [{
        "type": "Feature", "id": f"{f.run_id}:{f.node.name}",
        "geometry": {"type": "Point", "coordinates": [f.node.lon, f.node.lat]},
        "properties": {"name": f"{f.run.model.name} · {f.node.name}", "run": f.run_id,
                       "level": f.level, "colour": LEVEL_COLOURS[f.level],
                       "volume_m3": f.volume_m3, "hours": f.hours,
                       "first_at": f.first_at.isoformat(), "synthetic": f.run.model.synthetic},
    } for f in rows]
    return {"type": "FeatureCollection", "features": features}


def gauge_readings(*, actor, sensor_code: str, hours: float, now) -> list[tuple]:
    """(time, value) of a rain gauge in the actor's warning scope, oldest first."""
    from zhili.warning.models import Reading, Sensor

    sensor = (Sensor.objects.restrict(actor, WARNING_VIEW)
              .filter(code=sensor_code, sensor_type__startswith="rainfall").first())
    if sensor is None:
        raise NotFound()
    start = now - timedelta(hours=hours, minutes=30)
    return list(Reading.objects.filter(sensor=sensor, at__gte=start, at__lte=now)
                .order_by("at").values_list("at", "value")[:5000])


def gauges(*, actor, area_path: str) -> list[str]:
    """Codes of the rain gauges the actor sees in the area (for the run form)."""
    from zhili.warning.models import Sensor

    return list(Sensor.objects.restrict(actor, WARNING_VIEW)
                .filter(area_path__startswith=area_path, sensor_type__startswith="rainfall",
                        active=True).order_by("code").values_list("code", flat=True)[:200])


def risk_points_of(*, area_path: str, categories: list[str]) -> list:
    """The area's risk points of those categories (system reads: demo, runs)."""
    from zhili.warning.models import RiskPoint

    return list(RiskPoint.objects.filter(area_path__startswith=area_path,
                                         category__code__in=categories).order_by("code")[:1000])


def risk_points_near(*, area_path: str, categories: list[str], points: dict[str, tuple],
                     radius_m: float) -> dict[str, list[tuple[float, object]]]:
    """For each named (lon, lat): the area's risk points of those categories within
    radius_m, nearest first, as (metres, RiskPoint). One query for the area."""
    from zhili.warning.models import RiskPoint

    if not points:
        return {}
    lons = [p[0] for p in points.values()]
    lats = [p[1] for p in points.values()]
    pad_lat = radius_m / 111_320
    pad_lon = pad_lat / max(0.1, math.cos(math.radians(sum(lats) / len(lats))))
    candidates = list(RiskPoint.objects.filter(
        area_path__startswith=area_path, category__code__in=categories,
        lon__gte=min(lons) - pad_lon, lon__lte=max(lons) + pad_lon,
        lat__gte=min(lats) - pad_lat, lat__lte=max(lats) + pad_lat).order_by("code"))
    out = {}
    for name, (lon, lat) in points.items():
        near = sorted(((metres(lon, lat, rp.lon, rp.lat), rp) for rp in candidates),
                      key=lambda pair: pair[0])
        out[name] = [(round(d, 1), rp) for d, rp in near if d <= radius_m]
    return out


def metres(lon1, lat1, lon2, lat2) -> float:
    """Great-circle distance (haversine) in metres."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(min(1.0, a)))


def open_forecast_warnings(*, model: DrainageModel) -> dict[str, object]:
    """condition -> the open forecast warning this model raised (locked for update)."""
    from zhili.warning.models import Warning

    prefix = f"flood:{model.pk}:"
    return {w.condition: w for w in Warning.objects.select_for_update()
            .filter(condition__startswith=prefix, status__in=Warning.OPEN)}
