"""/api/v1/warning: the sensors' HTTP batch intake (the transport besides MQTT), and
the warnings: list, detail, raise by hand, cancel, acknowledge, report the action."""

from __future__ import annotations

import hmac

from ninja import Query, Router
from ninja.responses import Status
from ninja.security import APIKeyHeader

from zhili.core.errors import NotAuthenticated, PermissionDenied
from zhili.core.pagination import PageParams, paginate
from zhili.core.schemas import ProblemOut
from zhili.warning import selectors
from zhili.warning.handling import (
    MANAGE,
    warning_acknowledge,
    warning_action_report,
    warning_raise_by_operator,
)
from zhili.warning.ingest import RawReading, readings_ingest, sensors_by_code
from zhili.warning.schemas import (
    IngestOut,
    ReadingBatchIn,
    WarningAcknowledgedOut,
    WarningActionIn,
    WarningCancelIn,
    WarningOut,
    WarningPage,
    WarningRaiseIn,
)
from zhili.warning.services import sensor_key_hash, warning_cancel

router = Router(tags=["warning"])


class SensorKey(APIKeyHeader):
    """`X-Sensor-Key`: the key `sensor_register` gave the sensor (checked per batch
    against the sensor it names)."""

    param_name = "X-Sensor-Key"

    def authenticate(self, request, key):
        return key or None


@router.post("/readings", response={200: IngestOut, 401: ProblemOut, 422: ProblemOut},
             auth=SensorKey(), summary="A batch of one sensor's readings (idempotent on sensor and time)")
def readings_post(request, batch: ReadingBatchIn):
    sensor = sensors_by_code([batch.sensor]).get(batch.sensor)
    key = request.auth or ""
    # The same answer for an unknown sensor and a wrong key: no probing for codes.
    if sensor is None or not sensor.key_hash or \
            not hmac.compare_digest(sensor.key_hash, sensor_key_hash(key)):
        raise NotAuthenticated("The sensor and its key do not match.")
    report = readings_ingest(readings=[RawReading(batch.sensor, r.t, r.v) for r in batch.readings])
    return report.as_dict()


def _warning(request, number: str):
    if request.user.scope(selectors.VIEW).empty:
        raise PermissionDenied()
    return selectors.warning_get(actor=request.user, number=number)


@router.get("/warnings", response={200: WarningPage, 403: ProblemOut},
            summary="Warnings of my area, highest level first")
def warnings_list(request, page: Query[PageParams], status: str = "open", level: int | None = None):
    if request.user.scope(selectors.VIEW).empty:
        raise PermissionDenied()
    rows = selectors.warning_list(actor=request.user, status="all" if status == "all" else "open",
                                  level=level if level in (1, 2, 3, 4) else None)
    result = paginate(rows, page)
    result["items"] = [WarningOut.of(w) for w in result["items"]]
    return result


@router.post("/warnings", response={201: WarningOut, 403: ProblemOut, 422: ProblemOut},
             summary="Raise a warning by hand on a risk point of my area (or change its level)")
def warnings_raise(request, body: WarningRaiseIn):
    warning = warning_raise_by_operator(actor=request.user, point_code=body.point,
                                        level=body.level, note=body.note)
    return Status(201, WarningOut.of(warning))


@router.get("/warnings/{number}", response={200: WarningOut, 403: ProblemOut, 404: ProblemOut},
            summary="One warning of my area")
def warnings_get(request, number: str):
    return WarningOut.of(_warning(request, number))


@router.post("/warnings/{number}/cancel",
             response={200: WarningOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut,
                       422: ProblemOut},
             summary="Withdraw a warning raised in error (a public one gets a CAP Cancel)")
def warnings_cancel(request, number: str, body: WarningCancelIn):
    warning = _warning(request, number)
    if not request.user.scope(MANAGE).covers(warning.area_path):
        raise PermissionDenied()
    return WarningOut.of(warning_cancel(actor=request.user, warning=warning, reason=body.reason))


@router.post("/warnings/{number}/acknowledge",
             response={200: WarningAcknowledgedOut, 403: ProblemOut, 404: ProblemOut},
             summary="I (a recipient) have received this warning")
def warnings_acknowledge(request, number: str):
    warning = _warning(request, number)
    return {"number": number, "acknowledged": warning_acknowledge(actor=request.user,
                                                                  warning=warning)}


@router.post("/warnings/{number}/actions",
             response={200: WarningOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut,
                       422: ProblemOut},
             summary="Report the action taken on site (a recipient)")
def warnings_action(request, number: str, body: WarningActionIn):
    warning = _warning(request, number)
    if not any(w.pk == warning.pk for w, _acked in selectors.my_warnings(actor=request.user)):
        raise PermissionDenied("Only a recipient of the warning reports its action.")
    warning_acknowledge(actor=request.user, warning=warning)
    return WarningOut.of(warning_action_report(warning=warning, text=body.text,
                                               actor=request.user))
