"""The coverage run: rescue circles for every risk point and grid, stored in tables.

`coverage_compute(reason=…)` is what the `long`-lane task calls. It reads the
available resources, the current road network, the risk points (warning's
selector) and the grids' centres; runs `circles` once per rescue class over
all places together; and writes one CoverageRun with its PointCoverage and
GridCoverage rows in one transaction, removing the previous run's rows. A run
that fails is marked failed with the error, and the previous results stay.
"""

from __future__ import annotations

import logging
import time
import traceback
from datetime import datetime

import numpy as np
import shapely
from django.db import transaction
from django.utils import timezone

from zhili.audit.services import audit_record
from zhili.emergency import circles, routing
from zhili.emergency.conf import CLASS_MODE, speed_kmh, targets_s
from zhili.emergency.models import CLASSES, CoverageRun, GridCoverage, PointCoverage, RescueResource

log = logging.getLogger(__name__)
BATCH = 5000


def street_path(path: str) -> str:
    parts = path.strip("/").split("/")
    return "/".join(parts[:3]) + "/"


def _places():
    from zhili.geo.models import AreaNode, Level
    from zhili.warning.selectors import risk_point_positions

    points = list(risk_point_positions())
    grids = list(AreaNode.objects.filter(level=Level.GRID).order_by("id")
                 .values_list("id", "centre_lon", "centre_lat", "path"))
    return points, grids


def _resources() -> dict[str, list[tuple[int, float, float]]]:
    by_class: dict[str, list] = {c: [] for c in CLASSES}
    rows = (RescueResource.objects.filter(availability=RescueResource.Availability.AVAILABLE)
            .order_by("-capacity", "id").values_list("id", "lon", "lat", "kind"))
    for pk, lon, lat, kind in rows:
        by_class[RescueResource.KIND_CLASS[kind]].append((pk, lon, lat))
    return by_class


def class_times(graph, by_class, lon, lat, *, with_polygons: bool = True, bbox=None):
    """{class: (seconds, resource ids)} and {class: polygon} for places (lon, lat)."""
    targets = targets_s()
    results, polygons = {}, {}
    raster = None
    if with_polygons and bbox is not None:
        raster = circles.Raster.over(bbox, circles.raster_cells(graph.nodes) if graph else 100)
    polygon_s = 0.0
    snapped = graph.snap(lon, lat) if graph is not None else None
    for cls in CLASSES:
        res = by_class[cls]
        ids = np.array([r[0] for r in res], dtype=np.int64)
        rlon = np.array([r[1] for r in res], dtype=np.float64)
        rlat = np.array([r[2] for r in res], dtype=np.float64)
        mode = CLASS_MODE[cls]
        if mode == "air" or graph is None:
            result = circles.straight_line(rlon, rlat, lon, lat, speed_kmh(mode))
        else:
            result = circles.on_graph(graph, mode, rlon, rlat, lon, lat, speed_kmh(mode),
                                      snapped=snapped)
        who = np.full(len(lon), -1, dtype=np.int64)
        if len(ids):
            who = np.where(result.resource >= 0, ids[np.maximum(result.resource, 0)], -1)
        results[cls] = (result.seconds, who)
        if raster is not None:
            started = time.perf_counter()
            if result.node_seconds is not None:
                polygon = circles.road_polygon(raster, graph, result.node_seconds, targets[cls])
            else:
                polygon = circles.air_polygon(raster, rlon, rlat, speed_kmh(mode), targets[cls])
            polygons[cls] = polygon
            polygon_s += time.perf_counter() - started
    return results, polygons, polygon_s


def coverage_compute(*, reason: str = "", requested_at: str | None = None) -> CoverageRun | None:
    """Recompute the rescue circles; None when a run started since the request (that
    run already sees the change)."""
    if requested_at:
        since = datetime.fromisoformat(requested_at)
        if CoverageRun.objects.filter(started_at__gte=since).exclude(
                status=CoverageRun.Status.FAILED).exists():
            return None
    routing.mark_stale()
    graph = routing.get_graph()
    from zhili.emergency.models import RoadNetwork

    network = RoadNetwork.objects.filter(pk=graph.version).first() if graph else None
    run = CoverageRun.objects.create(reason=reason[:64], network=network, targets=targets_s())
    try:
        _compute_into(run, graph)
    except Exception as exc:
        log.exception("coverage run %s failed", run.pk)
        CoverageRun.objects.filter(pk=run.pk).update(
            status=CoverageRun.Status.FAILED, finished_at=timezone.now(),
            error=f"{exc}\n{traceback.format_exc()[-4000:]}")
        raise
    return run


def _compute_into(run: CoverageRun, graph) -> None:
    points, grids = _places()
    by_class = _resources()
    n_points = len(points)
    places = points + grids
    lon = np.array([p[1] for p in places], dtype=np.float64)
    lat = np.array([p[2] for p in places], dtype=np.float64)
    if graph is not None:
        bbox = (float(graph.lon.min()), float(graph.lat.min()),
                float(graph.lon.max()), float(graph.lat.max()))
    elif len(places):
        bbox = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    else:
        bbox = None
    started = time.perf_counter()
    results, polygons, polygon_s = class_times(graph, by_class, lon, lat, bbox=bbox)
    routing_s = time.perf_counter() - started - polygon_s
    targets = targets_s()
    gap = np.zeros(len(places), dtype=bool)
    for cls in CLASSES:
        gap |= ~(results[cls][0] <= targets[cls])

    def value(cls, i):
        seconds, who = results[cls][0][i], results[cls][1][i]
        return (round(float(seconds), 1) if np.isfinite(seconds) else None,
                int(who) if who >= 0 else None)

    def times(i) -> dict:
        fields = {}
        for cls in CLASSES:
            fields[f"{cls}_s"], fields[f"{cls}_resource_id"] = value(cls, i)
        return fields

    with transaction.atomic():
        for start in range(0, n_points, BATCH):
            PointCoverage.objects.bulk_create([
                PointCoverage(run=run, risk_point_id=points[i][0], area_path=points[i][3],
                              street_path=street_path(points[i][3]), gap=bool(gap[i]), **times(i))
                for i in range(start, min(start + BATCH, n_points))])
        for start in range(0, len(grids), BATCH):
            GridCoverage.objects.bulk_create([
                GridCoverage(run=run, grid_id=grids[j][0], area_path=grids[j][3],
                             street_path=street_path(grids[j][3]),
                             gap=bool(gap[n_points + j]), **times(n_points + j))
                for j in range(start, min(start + BATCH, len(grids)))])
        run.status = CoverageRun.Status.DONE
        run.points = n_points
        run.resources = {cls: len(by_class[cls]) for cls in CLASSES}
        run.unreachable = {cls: int(np.isinf(results[cls][0][:n_points]).sum()) for cls in CLASSES}
        run.polygons = {cls: shapely.geometry.mapping(shapely.set_precision(p, 1e-5))
                        for cls, p in polygons.items() if p is not None}
        run.routing_s, run.polygons_s = round(routing_s, 3), round(polygon_s, 3)
        run.finished_at = timezone.now()
        run.save()
        PointCoverage.objects.filter(run_id__lt=run.pk).delete()
        GridCoverage.objects.filter(run_id__lt=run.pk).delete()
        audit_record(actor=None, action="rescue_circles.compute", obj=run,
                     detail={"points": n_points, "grids": len(grids), "reason": run.reason,
                             "unreachable": run.unreachable})
