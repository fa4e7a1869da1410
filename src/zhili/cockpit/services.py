"""The one map's writes: a worker's phone reports its position; one-click dispatch.

Dispatch goes through governance's own `case_assign` (it locks the case, checks
the version and the assignee, writes the timeline, notifies the worker); this
service only chooses the worker: the nearest free one by travel time on the
road network (`emergency.routing.travel_seconds`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.cockpit.apps import DISPATCH, REPORT_POSITION
from zhili.cockpit.live import publish
from zhili.cockpit.models import WorkerPosition
from zhili.cockpit.selectors import stale_after
from zhili.core.errors import ApplicationError, OutsideCity, PermissionDenied, invalid
from zhili.geo.selectors import ancestor_paths, locate_point
from zhili.governance.selectors import busy_assignees, case_get_for
from zhili.governance.services import case_assign

WORK_CASE = "governance.work_case"
# Open and not yet accepted by anyone (intake may have named the grid's worker, who
# has not taken it up): what "one click" hands out, or hands to someone nearer.
DISPATCHABLE = ("reported", "reopened")


def _coordinate(value, field: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise invalid(field, _("must be a number")) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise invalid(field, _("must lie between %(low)s and %(high)s") % {"low": low, "high": high})
    return number


def position_report(*, actor, lon, lat, accuracy_m=None, now=None) -> WorkerPosition:
    """The worker's own phone reports where they are (only for themselves)."""
    now = now or timezone.now()
    scope = actor.scope(REPORT_POSITION)
    if scope.empty:
        raise PermissionDenied(_("Only grid workers report their position."))
    lon = _coordinate(lon, "lon", -180, 180)
    lat = _coordinate(lat, "lat", -90, 90)
    if accuracy_m is not None:
        accuracy_m = _coordinate(accuracy_m, "accuracy_m", 0, 100_000)
    try:
        locate_point(lon=lon, lat=lat)
    except OutsideCity:
        raise invalid("lon", _("the position lies outside the city")) from None
    # Shown to the operators of the worker's own area, wherever they walk.
    area_path = min(scope.paths, key=len) if scope.paths else ""
    with transaction.atomic():
        position, _created = WorkerPosition.objects.update_or_create(
            worker=actor, defaults={"lon": lon, "lat": lat, "accuracy_m": accuracy_m, "at": now,
                                    "area_path": area_path})
        audit_record(actor=actor, action="worker.position", object_type="cockpit.workerposition",
                     object_id=actor.pk, area_path=area_path)
        publish("worker", actor.pk, area_path)
    return position


@dataclass(frozen=True)
class Dispatch:
    case: object
    worker: object
    travel_seconds: float
    candidates: int


class NoFreeWorker(ApplicationError):
    def __init__(self, detail: str):
        ApplicationError.__init__(self, detail=detail, code="conflict", status=409,
                                  title=_("No free grid worker"))


def free_workers(case, *, now) -> list[WorkerPosition]:
    """Workers of the case's grid (or above it) with a fresh position, not on site elsewhere."""
    cutoff = now - stale_after()
    near = list(WorkerPosition.objects.filter(area_path__in=ancestor_paths(case.area_path),
                                              at__gte=cutoff, worker__is_active=True)
                .select_related("worker"))
    busy = busy_assignees(user_ids=[p.worker_id for p in near])
    return [p for p in near if p.worker_id not in busy
            and p.worker.has_perm_in(WORK_CASE, case.area_path)]


def case_dispatch_nearest(*, actor, case_id: int, version=None, now=None) -> Dispatch:
    """Assign the case to the nearest free grid worker by travel time (drive)."""
    from zhili.emergency.routing import travel_seconds

    now = now or timezone.now()
    case = case_get_for(actor=actor, case_id=case_id)  # the same 404 for missing and not yours
    if not actor.has_perm_in(DISPATCH, case.area_path):
        raise PermissionDenied(_("Your roles do not allow dispatching this case."))
    if case.status not in DISPATCHABLE:
        raise ApplicationError(
            detail=_("Case %(no)s is %(status)s and already being handled: only a reported or "
                     "reopened case is dispatched from the map.")
            % {"no": case.tracking_no, "status": case.get_status_display()},
            code="invalid-transition", status=409, title=_("Not allowed in the current state"))
    candidates = free_workers(case, now=now)
    if not candidates:
        raise NoFreeWorker(_("No grid worker of this grid has reported a position in the last "
                             "%(minutes)d minutes and is free.")
                           % {"minutes": stale_after().total_seconds() // 60})
    seconds = travel_seconds([(p.lon, p.lat) for p in candidates], (case.lon, case.lat),
                             mode="drive")
    best = min(range(len(candidates)), key=lambda i: seconds[i])
    if not math.isfinite(float(seconds[best])):
        raise NoFreeWorker(_("No free grid worker can reach the case on the road network."))
    worker = candidates[best].worker
    with transaction.atomic():
        case = case_assign(actor=actor, case=case, version=version, assignee=worker, now=now)
        audit_record(actor=actor, action="case.dispatch_nearest", obj=case,
                     detail={"assignee": worker.get_username(),
                             "travel_seconds": round(float(seconds[best])),
                             "candidates": len(candidates)})
    return Dispatch(case=case, worker=worker, travel_seconds=float(seconds[best]),
                    candidates=len(candidates))
