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
import threading
import time
import traceback
from datetime import datetime, timedelta

import numpy as np
import shapely
from django.db import IntegrityError, transaction
from django.utils import timezone

from zhili.audit.services import audit_record
from zhili.emergency import circles, routing
from zhili.emergency.conf import CLASS_MODE, speed_kmh, targets_s
from zhili.emergency.models import CLASSES, CoverageRun, GridCoverage, PointCoverage, RescueResource

log = logging.getLogger(__name__)
BATCH = 5000
HEARTBEAT_EVERY = 10.0  # seconds between a running run's beats
STALE_AFTER = timedelta(seconds=90)  # no beat for this long: the run's process is gone
WAIT_POLL_S = 1.0  # a second recomputation asks this often whether the first finished
WAIT_LIMIT = timedelta(minutes=30)
RETRY_REASON = "retry"  # the recomputation queued for a run found without a heartbeat


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
    snapped = graph.snap_places(lon, lat) if graph is not None else None
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


class CoverageBusy(RuntimeError):
    """Another recomputation held the claim for longer than WAIT_LIMIT."""


def _superseded(since: datetime) -> bool:
    """A run started at or after `since` (running or done) already sees the change."""
    return CoverageRun.objects.filter(started_at__gte=since).exclude(
        status=CoverageRun.Status.FAILED).exists()


def _claim(reason: str) -> CoverageRun | None:
    """The one `running` run (a partial unique index), or None while another holds it."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return CoverageRun.objects.create(reason=reason[:64], targets=targets_s(),
                                              started_at=now, heartbeat_at=now)
    except IntegrityError:
        return None


class _Heartbeat:
    """Beats the run's `heartbeat_at` every HEARTBEAT_EVERY seconds from a thread of its own
    (its own connection), so a run busy in one long numpy call still beats, and a killed
    process stops beating."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"coverage-beat-{run_id}",
                                       daemon=True)

    def _beat(self) -> None:
        from django.db import connection

        try:
            while not self.stop.wait(HEARTBEAT_EVERY):
                try:
                    CoverageRun.objects.filter(pk=self.run_id, status=CoverageRun.Status.RUNNING
                                               ).update(heartbeat_at=timezone.now())
                except Exception:  # a busy database: the next beat tries again
                    log.warning("coverage run %s: heartbeat not written", self.run_id,
                                exc_info=True)
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=HEARTBEAT_EVERY + 5)


def coverage_compute(*, reason: str = "", requested_at: str | None = None) -> CoverageRun | None:
    """Recompute the rescue circles; None when a run started since the request (that
    run already sees the change).

    One run at a time: the claim is the INSERT of the one `running` row. A second
    recomputation waits for the first to finish, then asks again whether a run started
    since its request — so a burst of changes while one run computes becomes one more
    run, which reads the latest resources. A holder whose heartbeat stopped is failed
    rather than waited for."""
    since = datetime.fromisoformat(requested_at) if requested_at else None
    give_up = time.monotonic() + WAIT_LIMIT.total_seconds()
    while True:
        if since is not None and _superseded(since):
            return None
        run = _claim(reason)
        if run is not None:
            break
        coverage_runs_stale_fail()
        if time.monotonic() > give_up:
            raise CoverageBusy(f"another rescue-circle run held the claim for over "
                               f"{WAIT_LIMIT.total_seconds():.0f} s")
        time.sleep(WAIT_POLL_S)
    try:
        with _Heartbeat(run.pk):
            routing.mark_stale()
            graph = routing.get_graph()
            from zhili.emergency.models import RoadNetwork

            run.network = RoadNetwork.objects.filter(pk=graph.version).first() if graph else None
            CoverageRun.objects.filter(pk=run.pk).update(network=run.network)
            _compute_into(run, graph)
    except BaseException as exc:  # a stop (SIGTERM's SystemExit) too: never left running
        log.exception("coverage run %s failed", run.pk)
        CoverageRun.objects.filter(pk=run.pk, status=CoverageRun.Status.RUNNING).update(
            status=CoverageRun.Status.FAILED, finished_at=timezone.now(),
            error=f"{exc}\n{traceback.format_exc()[-4000:]}")
        raise
    return run


def coverage_runs_stale_fail(*, now: datetime | None = None) -> int:
    """Runs still `running` whose heartbeat stopped (their process was killed): failed,
    each with one recomputation queued in its place (once: a run that was itself such a
    retry is not retried again)."""
    from django.utils.translation import gettext as _

    from zhili.emergency.services import coverage_requested

    now = now or timezone.now()
    stale = list(CoverageRun.objects.filter(status=CoverageRun.Status.RUNNING,
                                            heartbeat_at__lt=now - STALE_AFTER)
                 .values_list("pk", "heartbeat_at", "reason"))
    failed = 0
    for pk, beat, reason in stale:
        with transaction.atomic():
            seconds = round((now - beat).total_seconds())
            if not CoverageRun.objects.filter(pk=pk, status=CoverageRun.Status.RUNNING).update(
                    status=CoverageRun.Status.FAILED, finished_at=timezone.now(),
                    error=_("no heartbeat for %(s)d s: the process computing it was stopped")
                    % {"s": seconds}):
                continue  # it finished, or another sweep was first
            failed += 1
            audit_record(actor=None, action="rescue_circles.stale_fail",
                         object_type="emergency.coveragerun", object_id=pk,
                         detail={"seconds_without_heartbeat": seconds, "reason": reason})
            if reason != RETRY_REASON:
                coverage_requested(RETRY_REASON)
    return failed


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
        if not CoverageRun.objects.select_for_update().filter(
                pk=run.pk, status=CoverageRun.Status.RUNNING).exists():
            raise RuntimeError("the run was failed by the sweep meanwhile: results not kept")
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
