"""/api/v1/cockpit: a worker's phone reports its position; one-click dispatch from the map."""

from __future__ import annotations

from ninja import Router

from zhili.cockpit import services
from zhili.cockpit.schemas import DispatchNearestIn, DispatchNearestOut, PositionIn, PositionOut
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
