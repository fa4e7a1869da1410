"""/api/v1/emergency/incidents: list, detail, open, suggest, assign, release, task,
note, close. Thin: the services raise the RFC 9457 errors."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema, Status
from pydantic import Field

from zhili.core.pagination import PageParams, paginate
from zhili.core.schemas import ERRORS, WRITE_ERRORS, Id, Number
from zhili.emergency import incidents as services
from zhili.emergency import selectors_incidents as selectors
from zhili.emergency.team_notice import notice_status

router = Router(tags=["emergency"])


class IncidentOut(Schema):
    number: str
    title: str
    severity: int = Field(description="1 (I, 特别重大) to 4 (IV, 一般)")
    severity_label: str
    status: str
    source: str
    lon: float
    lat: float
    grid: str
    area_path: str
    opened_at: datetime
    closed_at: datetime | None
    summary: str

    @staticmethod
    def resolve_severity_label(obj):
        return obj["severity_label"] if isinstance(obj, dict) else str(obj.get_severity_display())

    @staticmethod
    def resolve_grid(obj):
        return obj["grid"] if isinstance(obj, dict) else obj.grid.code


class IncidentPage(Schema):
    items: list[IncidentOut]
    count: int
    next: str | None = None
    previous: str | None = None


class IncidentAssignmentOut(Schema):
    resource: str
    name: str
    mode: str
    eta_seconds: float | None = Field(description="None: the road network does not connect")
    assigned_at: datetime
    released_at: datetime | None
    notice: dict | None = Field(None, description="the team's message: deliveries, sent, failed, "
                                                  "acknowledged, and contact (of them, the SMS "
                                                  "to the team's contact phone); None: nobody "
                                                  "was told")


class IncidentTaskOut(Schema):
    id: int
    what: str
    department: str | None
    resource: str | None
    due_at: datetime | None
    status: str


class IncidentEventOut(Schema):
    kind: str
    note: str
    data: dict
    at: datetime


class IncidentDetail(IncidentOut):
    warning: str | None
    case: str | None
    assignments: list[IncidentAssignmentOut]
    tasks: list[IncidentTaskOut]
    timeline: list[IncidentEventOut]


class IncidentSuggestionOut(Schema):
    rescue_class: str
    resource: str
    name: str
    mode: str
    eta_seconds: float | None


class IncidentOpenIn(Schema):
    title: str = Field("", max_length=200)
    severity: str | int | None = Field(None, description="I–IV, 1–4, general … or 一般 …")
    lon: Number | None = None
    lat: Number | None = None
    warning: str = Field("", max_length=24, description="open from this warning number")
    case: str = Field("", max_length=24, description="open from this case tracking number")


class IncidentResourceIn(Schema):
    resource: str = Field(min_length=1, max_length=40)


class IncidentTaskIn(Schema):
    what: str = Field(min_length=1, max_length=300)
    department: str = Field("", max_length=40)
    resource: str = Field("", max_length=40)
    due: datetime | None = None


class IncidentNoteIn(Schema):
    text: str = Field(min_length=1, max_length=2000)


class IncidentCloseIn(Schema):
    summary: str = Field(min_length=1, max_length=4000)


def detail(actor, number: str) -> dict:
    incident = selectors.incident_get(actor=actor, number=number)
    out = IncidentOut.from_orm(incident).dict()
    out["warning"] = incident.warning.number if incident.warning else None
    out["case"] = incident.case.tracking_no if incident.case else None
    assignments = selectors.incident_assignments(incident=incident)
    notices = notice_status(assignments)
    out["assignments"] = [
        {"resource": a.resource.code, "name": a.resource.name, "mode": a.mode,
         "eta_seconds": a.eta_seconds, "assigned_at": a.assigned_at,
         "released_at": a.released_at, "notice": notices.get(a.pk)}
        for a in assignments]
    out["tasks"] = [
        {"id": t.pk, "what": t.what, "department": t.department.code if t.department else None,
         "resource": t.resource.code if t.resource else None, "due_at": t.due_at,
         "status": t.status} for t in selectors.incident_tasks(incident=incident)]
    out["timeline"] = [{"kind": e.kind, "note": e.note, "data": e.data, "at": e.at}
                       for e in selectors.incident_timeline(incident=incident)]
    return out


@router.get("", response={200: IncidentPage, **ERRORS},
            summary="Incidents of your area, the most severe first")
def incident_list(request, page: Query[PageParams], status: str = "open"):
    return paginate(selectors.incident_list(actor=request.user, status=status), page)


@router.post("", response={201: IncidentDetail, **WRITE_ERRORS},
             summary="Open an incident: from a warning, from a case, or by hand")
def incident_open(request, payload: IncidentOpenIn):
    data = payload.dict()
    incident = services.incident_open(
        actor=request.user, title=data["title"], severity=data["severity"], lon=data["lon"],
        lat=data["lat"], warning_number=data["warning"], case_tracking_no=data["case"])
    return Status(201, detail(request.user, incident.number))


@router.get("/{number}", response={200: IncidentDetail, **ERRORS},
            summary="One incident with its resources (ETA), tasks and timeline")
def incident_detail(request, number: str):
    return detail(request.user, number)


@router.get("/{number}/suggest", response={200: list[IncidentSuggestionOut], **ERRORS},
            summary="The nearest available resources per rescue class, by arrival time")
def incident_suggest(request, number: str):
    incident = selectors.incident_get(actor=request.user, number=number)
    found = selectors.incident_suggest(actor=request.user, incident=incident)
    return [{"rescue_class": cls, "resource": s["resource"].code, "name": s["resource"].name,
             "mode": s["mode"], "eta_seconds": s["eta_seconds"]}
            for cls, rows in found.items() for s in rows]


@router.post("/{number}/assign", response={200: IncidentDetail, **WRITE_ERRORS},
             summary="Send an available resource (it becomes busy; its ETA is computed)")
def incident_assign(request, number: str, payload: IncidentResourceIn):
    incident = selectors.incident_get(actor=request.user, number=number)
    services.incident_assign(actor=request.user, incident=incident,
                             resource_code=payload.resource)
    return detail(request.user, number)


@router.post("/{number}/release", response={200: IncidentDetail, **WRITE_ERRORS},
             summary="Release a resource (it becomes available)")
def incident_release(request, number: str, payload: IncidentResourceIn):
    incident = selectors.incident_get(actor=request.user, number=number)
    services.incident_release(actor=request.user, incident=incident,
                              resource_code=payload.resource)
    return detail(request.user, number)


@router.post("/{number}/tasks", response={200: IncidentDetail, **WRITE_ERRORS},
             summary="Give a task to a department or a rescue resource")
def incident_task(request, number: str, payload: IncidentTaskIn):
    incident = selectors.incident_get(actor=request.user, number=number)
    services.incident_task_add(actor=request.user, incident=incident, what=payload.what,
                               department=payload.department, resource_code=payload.resource,
                               due=payload.due)
    return detail(request.user, number)


@router.post("/{number}/tasks/{task_id}/done", response={200: IncidentDetail, **WRITE_ERRORS},
             summary="Mark a task done")
def incident_task_done(request, number: str, task_id: Id):
    incident = selectors.incident_get(actor=request.user, number=number)
    services.incident_task_done(actor=request.user, incident=incident, task_id=task_id)
    return detail(request.user, number)


@router.post("/{number}/notes", response={200: IncidentDetail, **WRITE_ERRORS},
             summary="Add a situation note to the timeline")
def incident_note(request, number: str, payload: IncidentNoteIn):
    incident = selectors.incident_get(actor=request.user, number=number)
    services.incident_note(actor=request.user, incident=incident, text=payload.text)
    return detail(request.user, number)


@router.post("/{number}/close", response={200: IncidentDetail, **WRITE_ERRORS},
             summary="Close with a summary (required); every resource is released")
def incident_close(request, number: str, payload: IncidentCloseIn):
    incident = selectors.incident_get(actor=request.user, number=number)
    services.incident_close(actor=request.user, incident=incident, summary=payload.summary)
    return detail(request.user, number)
