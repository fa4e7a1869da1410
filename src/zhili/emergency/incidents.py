"""Incident writes: open (from a warning, a case or by hand), assign and release rescue
resources, give tasks, add notes, close. Each one audited transaction with its
timeline event (`incident_events`).

Assigning locks the resource row (SELECT … FOR UPDATE) and requires it available;
the partial unique constraint on active assignments backs that up, so a second
concurrent assign of the same resource fails with a Conflict, never twice busy.
The arrival time is `routing.travel_seconds` from the resource to the incident's
point by its class's mode (air flies, ground drives, responders walk).
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from zhili.core.scoping import scope_of
from zhili.emergency.conf import CLASS_MODE
from zhili.emergency.incident_events import event_add
from zhili.emergency.models import RescueResource
from zhili.emergency.models_incidents import Incident, IncidentAssignment, IncidentTask, Severity
from zhili.emergency.services import coverage_requested, grid_of
from zhili.emergency.team_notice import team_notify

MANAGE = "emergency.manage_incident"
SEVERITY_WORDS = {
    "i": 1, "1": 1, "especially major": 1, "特别重大": 1,
    "ii": 2, "2": 2, "major": 2, "重大": 2,
    "iii": 3, "3": 3, "large": 3, "较大": 3,
    "iv": 4, "4": 4, "general": 4, "一般": 4,
}


def severity_parse(value) -> int:
    """1..4 from a number, a Roman numeral, or the English or Chinese grade name."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4:
        return value
    if isinstance(value, str):
        found = SEVERITY_WORDS.get(value.strip().lower().removesuffix("级"))
        if found:
            return found
    raise ValidationFailed([FieldError("severity", _(
        "must be I–IV, 1–4, general/large/major/especially major or 一般/较大/重大/特别重大"))])


def _text(name: str, value, limit: int, *, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise ValidationFailed([FieldError(name, _("holds a NUL or an unpaired surrogate"))])
    if required and not text:
        raise ValidationFailed([FieldError(name, _("is required"))])
    if len(text) > limit:
        raise ValidationFailed([FieldError(name, _("is longer than %(n)d characters")
                                           % {"n": limit})])
    return text


def _coordinate(name: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value) or not low <= value <= high:
        raise ValidationFailed([FieldError(name, _("must be a number from %(low)d to %(high)d")
                                           % {"low": low, "high": high})])
    return float(value)


def _may_manage(actor, path: str) -> None:
    if actor is not None and not scope_of(actor, MANAGE).covers(path):
        raise PermissionDenied(_("You may not manage incidents there."))


def _number() -> str:
    return f"INC-{timezone.now():%Y%m%d}-{secrets.token_hex(3).upper()}"


def incident_open(*, actor, title: str = "", severity=None, lon=None, lat=None,
                  warning_number: str = "", case_tracking_no: str = "") -> Incident:
    """Open an incident from a warning (its risk point, its level as severity unless
    given), from a case (its point) or by hand (title, severity, lon, lat required)."""
    warning = case = None
    if warning_number and case_tracking_no:
        raise ValidationFailed([FieldError("warning", _("give a warning or a case, not both"))])
    if warning_number:
        from zhili.warning.selectors import warning_get

        warning = warning_get(actor=actor, number=_text("warning", warning_number, 24))
        point = warning.risk_point
        lon, lat = point.lon, point.lat
        title = title or f"{point.name}: {warning.get_level_display()}"
        severity = severity if severity not in (None, "") else 5 - max(warning.level, 1)
        source = Incident.Source.WARNING
    elif case_tracking_no:
        from zhili.governance.selectors import case_get_for

        case = case_get_for(actor=actor, tracking_no=_text("case", case_tracking_no, 24))
        lon, lat = case.lon, case.lat
        title = title or f"{case.tracking_no} {case.category.name}"
        severity = severity if severity not in (None, "") else 4
        source = Incident.Source.CASE
    else:
        source = Incident.Source.MANUAL
    title = _text("title", title, 200, required=True)
    severity = severity_parse(severity)
    lon, lat = _coordinate("lon", lon, -180, 180), _coordinate("lat", lat, -90, 90)
    grid = grid_of(lon, lat)
    _may_manage(actor, grid.path)
    with transaction.atomic():
        incident = Incident.objects.create(
            number=_number(), title=title, severity=severity, source=source, lon=lon, lat=lat,
            grid=grid, area_path=grid.path, warning=warning, case=case,
            opened_by=actor if getattr(actor, "is_authenticated", False) else None)
        event_add(incident=incident, kind="opened", actor=actor,
                  data={"source": source, "severity": severity,
                        "warning": warning.number if warning else None,
                        "case": case.tracking_no if case else None})
        audit_record(actor=actor, action="incident.open", obj=incident,
                     area_path=incident.area_path, detail={"source": source})
    return incident


def _locked_open(actor, incident: Incident) -> Incident:
    """The incident row locked, still open, and the actor's to manage."""
    _may_manage(actor, incident.area_path)
    fresh = Incident.objects.select_for_update().filter(pk=incident.pk).first()
    if fresh is None:
        raise NotFound()
    if fresh.status != Incident.Status.OPEN:
        raise Conflict(_("Incident %(n)s is closed.") % {"n": fresh.number})
    return fresh


def eta_seconds(resource: RescueResource, lon: float, lat: float) -> tuple[str, float | None]:
    """(mode, seconds) from the resource to the point; None when no road connects them."""
    from zhili.emergency.routing import travel_seconds

    mode = CLASS_MODE[resource.rescue_class]
    seconds = float(travel_seconds([(resource.lon, resource.lat)], (lon, lat), mode)[0])
    return mode, (seconds if math.isfinite(seconds) else None)


def _resource_status(actor, resource: RescueResource, availability: str, why: str) -> None:
    RescueResource.objects.filter(pk=resource.pk).update(availability=availability,
                                                         updated_at=timezone.now())
    audit_record(actor=actor, action="rescue_resource.update", obj=resource,
                 area_path=resource.area_path,
                 detail={"changed": ["availability"], "availability": availability, "by": why})
    coverage_requested("resource")  # a busy resource leaves its rescue circle


def incident_assign(*, actor, incident: Incident, resource_code: str,
                    eta: tuple[str, float | None] | None = None) -> IncidentAssignment:
    """Send an available resource of the actor's area: it becomes busy, its arrival time
    is computed (or `eta`, (mode, seconds), when the caller just timed it on the same
    network). Conflict if it is not available (already sent, busy or off duty). The
    team's members, or else its contact phone by SMS, are told in the same
    transaction (team_notice.py)."""
    code = _text("resource", resource_code, 40, required=True)
    try:
        with transaction.atomic():
            fresh = _locked_open(actor, incident)
            resource = (RescueResource.objects.restrict(actor, "emergency.view_resource")
                        .select_for_update().filter(code=code).first())
            if resource is None:
                raise NotFound(_("No rescue resource %(code)s.") % {"code": code})
            if resource.availability != RescueResource.Availability.AVAILABLE:
                raise Conflict(_("%(code)s is %(state)s, not available.")
                               % {"code": code, "state": resource.get_availability_display()})
            mode, seconds = eta if eta is not None else eta_seconds(resource, fresh.lon,
                                                                     fresh.lat)
            assignment = IncidentAssignment.objects.create(
                incident=fresh, resource=resource, mode=mode, eta_seconds=seconds,
                assigned_by=actor if getattr(actor, "is_authenticated", False) else None)
            _resource_status(actor, resource, RescueResource.Availability.BUSY, fresh.number)
            event_add(incident=fresh, kind="assigned", actor=actor,
                      data={"resource": code, "mode": mode, "eta_seconds": seconds})
            told = team_notify(incident=fresh, assignment=assignment)
            # Deliveries offered and to whom ("members", "contact"), for the caller's answer.
            assignment.notified, assignment.notified_to = told.deliveries, told.to
            if told.deliveries:  # no member account and no contact phone: nobody, no event
                event_add(incident=fresh, kind="team_notified", actor=actor,
                          data={"resource": code, "deliveries": told.deliveries,
                                "to": told.to})
            audit_record(actor=actor, action="incident.assign", obj=fresh,
                         area_path=fresh.area_path,
                         detail={"resource": code, "eta_s": seconds,
                                 "notified": told.deliveries, "notified_to": told.to})
    except IntegrityError:
        raise Conflict(_("%(code)s is already assigned.") % {"code": code}) from None
    return assignment


def _release(actor, incident: Incident, assignment: IncidentAssignment) -> None:
    assignment.released_at = timezone.now()
    assignment.save(update_fields=["released_at"])
    _resource_status(actor, assignment.resource, RescueResource.Availability.AVAILABLE,
                     incident.number)
    event_add(incident=incident, kind="released", actor=actor,
              data={"resource": assignment.resource.code})


def incident_release(*, actor, incident: Incident, resource_code: str) -> None:
    """Release a resource from the incident: it becomes available again."""
    code = _text("resource", resource_code, 40, required=True)
    with transaction.atomic():
        fresh = _locked_open(actor, incident)
        assignment = (IncidentAssignment.objects.select_related("resource")
                      .filter(incident=fresh, resource__code=code, released_at__isnull=True)
                      .first())
        if assignment is None:
            raise NotFound(_("%(code)s is not assigned to this incident.") % {"code": code})
        _release(actor, fresh, assignment)
        audit_record(actor=actor, action="incident.release", obj=fresh,
                     area_path=fresh.area_path, detail={"resource": code})


def _due(value) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = value if isinstance(value, datetime) else \
        parse_datetime(str(value)) if isinstance(value, str) else None
    if parsed is None:
        raise ValidationFailed([FieldError("due", _("must be a date and time (ISO 8601)"))])
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def incident_task_add(*, actor, incident: Incident, what: str, department: str = "",
                      resource_code: str = "", due=None) -> IncidentTask:
    """A task for a department (by code) or a rescue resource (by code), with a due time."""
    from zhili.accounts.models import Department

    what = _text("what", what, 300, required=True)
    due_at = _due(due)
    if bool(department) == bool(resource_code):
        raise ValidationFailed([FieldError("who", _("name a department or a resource"))])
    dept = res = None
    if department:
        dept = Department.objects.filter(code=_text("department", department, 40)).first()
        if dept is None:
            raise ValidationFailed([FieldError("department", _("no such department"))])
    else:
        res = (RescueResource.objects.restrict(actor, "emergency.view_resource")
               .filter(code=_text("resource", resource_code, 40)).first())
        if res is None:
            raise ValidationFailed([FieldError("resource", _("no such rescue resource"))])
    with transaction.atomic():
        fresh = _locked_open(actor, incident)
        task = IncidentTask.objects.create(incident=fresh, what=what, department=dept,
                                           resource=res, due_at=due_at)
        event_add(incident=fresh, kind="task_added", actor=actor, note=what,
                  data={"task": task.pk, "department": dept.code if dept else None,
                        "resource": res.code if res else None})
        audit_record(actor=actor, action="incident.task_add", obj=fresh,
                     area_path=fresh.area_path, detail={"task": task.pk})
    return task


def incident_task_done(*, actor, incident: Incident, task_id: int) -> IncidentTask:
    with transaction.atomic():
        fresh = _locked_open(actor, incident)
        task = IncidentTask.objects.filter(incident=fresh, pk=task_id).first()
        if task is None:
            raise NotFound()
        if task.status == IncidentTask.Status.DONE:
            raise Conflict(_("The task is already done."))
        task.status, task.done_at = IncidentTask.Status.DONE, timezone.now()
        task.save(update_fields=["status", "done_at"])
        event_add(incident=fresh, kind="task_done", actor=actor, note=task.what,
                  data={"task": task.pk})
        audit_record(actor=actor, action="incident.task_done", obj=fresh,
                     area_path=fresh.area_path, detail={"task": task.pk})
    return task


def incident_note(*, actor, incident: Incident, text: str) -> None:
    """A situation note (态势) on the timeline."""
    text = _text("text", text, 2000, required=True)
    with transaction.atomic():
        fresh = _locked_open(actor, incident)
        event_add(incident=fresh, kind="note", actor=actor, note=text)
        audit_record(actor=actor, action="incident.note", obj=fresh, area_path=fresh.area_path)


def incident_close(*, actor, incident: Incident, summary: str) -> Incident:
    """Close with a summary (required); every resource still assigned is released."""
    summary = _text("summary", summary, 4000, required=True)
    with transaction.atomic():
        fresh = _locked_open(actor, incident)
        active = list(IncidentAssignment.objects.select_related("resource")
                      .filter(incident=fresh, released_at__isnull=True))
        for assignment in active:
            _release(actor, fresh, assignment)
        fresh.status, fresh.summary, fresh.closed_at = (Incident.Status.CLOSED, summary,
                                                        timezone.now())
        fresh.save(update_fields=["status", "summary", "closed_at"])
        event_add(incident=fresh, kind="closed", actor=actor, note=summary,
                  data={"released": [a.resource.code for a in active]})
        audit_record(actor=actor, action="incident.close", obj=fresh, area_path=fresh.area_path,
                     detail={"released": len(active)})
    return fresh


__all__ = ["Severity", "incident_open", "incident_assign", "incident_release",
           "incident_task_add", "incident_task_done", "incident_note", "incident_close"]
