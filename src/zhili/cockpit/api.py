"""/api/v1/cockpit: a worker's phone reports its position; one-click dispatch from the map."""

from __future__ import annotations

from ninja import Router

from zhili.cockpit import services, teams
from zhili.cockpit.schemas import (
    DispatchNearestIn,
    DispatchNearestOut,
    DispatchTeamIn,
    DispatchTeamOut,
    PositionIn,
    PositionOut,
)
from zhili.core.errors import NotFound
from zhili.core.schemas import ProblemOut

router = Router(tags=["cockpit"])


@router.post("/positions", response={200: PositionOut, 403: ProblemOut},
             summary="Report my own position (grid workers' phones)")
def position_post(request, payload: PositionIn):
    p = services.position_report(actor=request.user, lon=payload.lon, lat=payload.lat,
                                 accuracy_m=payload.accuracy_m)
    return {"worker": request.user.get_username(), "lon": p.lon, "lat": p.lat, "at": p.at}


@router.post("/cases/{int:case_id}/dispatch-nearest",
             response={200: DispatchNearestOut, 403: ProblemOut, 404: ProblemOut,
                       409: ProblemOut},
             summary="Dispatch the case to the nearest free grid worker by travel time")
def dispatch_nearest(request, case_id: int, payload: DispatchNearestIn):
    if not 1 <= case_id <= 2**63 - 1:
        raise NotFound()
    d = services.case_dispatch_nearest(actor=request.user, case_id=case_id,
                                       version=payload.version)
    return {"case": d.case.pk, "tracking_no": d.case.tracking_no, "status": d.case.status,
            "version": d.case.version, "assignee": d.worker.get_username(),
            "travel_seconds": round(d.travel_seconds, 1), "candidates": d.candidates}


def _team_out(d: teams.TeamDispatch) -> dict:
    a, r = d.assignment, d.assignment.resource
    return {"incident": d.incident.number, "opened": d.opened, "incident_lon": d.incident.lon,
            "incident_lat": d.incident.lat,
            "resource": {"code": r.code, "name": r.name, "kind": r.kind,
                         "rescue_class": r.rescue_class, "lon": r.lon, "lat": r.lat},
            "mode": a.mode, "eta_seconds": None if a.eta_seconds is None else round(a.eta_seconds, 1),
            "arrival_at": d.arrival_at, "candidates": d.candidates,
            "notified": getattr(a, "notified", 0), "notified_to": getattr(a, "notified_to", "")}


TEAM_ERRORS = {200: DispatchTeamOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut,
               422: ProblemOut}


@router.post("/warnings/{number}/dispatch-team", response=TEAM_ERRORS,
             summary="Dispatch the nearest available rescue team to a warning's risk point "
                     "(opening its incident if none is open)")
def warning_dispatch_team(request, number: str, payload: DispatchTeamIn):
    return _team_out(teams.warning_dispatch_team(actor=request.user, number=number,
                                                 rescue_class=payload.rescue_class))


@router.post("/incidents/{number}/dispatch-team", response=TEAM_ERRORS,
             summary="Dispatch the nearest available rescue team to an open incident")
def incident_dispatch_team(request, number: str, payload: DispatchTeamIn):
    return _team_out(teams.incident_dispatch_team(actor=request.user, number=number,
                                                  rescue_class=payload.rescue_class))
