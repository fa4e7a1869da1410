"""One-click dispatch of the nearest free rescue team (救援队伍) from a warning or an incident.

A team is a rescue resource of the road classes — fire and rescue stations and
professional teams (ground, driving) and community responder groups (walking) —
that is *available*, in the dispatcher's area. The nearest is by travel time
on the road network (`emergency.routing.travel_seconds`: one Dijkstra from the
place over the reversed graph per class, so every team of the area is timed,
not a straight-line shortlist). The assignment is emergency's own
`incident_assign` (it locks the resource, requires it available, makes it busy,
writes the timeline and queues the rescue-circle recomputation); from a warning
the incident is the warning's open one, or one opened from it by `incident_open`,
in the same transaction. A team taken by someone else between the timing and the
lock is skipped for the next nearest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core.errors import ApplicationError, Conflict, PermissionDenied, invalid
from zhili.core.scoping import scope_of
from zhili.emergency.conf import CLASS_MODE
from zhili.emergency.models import RescueResource

TEAM_CLASSES = ("ground", "responders")
MANAGE = "emergency.manage_incident"
VIEW_RESOURCE = "emergency.view_resource"
TRIES = 5  # next-nearest teams tried when the nearest was taken meanwhile


class NoFreeTeam(ApplicationError):
    def __init__(self, detail: str):
        ApplicationError.__init__(self, detail=detail, code="conflict", status=409,
                                  title=_("No free rescue team"))


@dataclass(frozen=True)
class TeamDispatch:
    incident: object
    opened: bool  # the incident was opened from the warning by this dispatch
    assignment: object
    candidates: int  # available teams of the area that were timed

    @property
    def arrival_at(self) -> datetime | None:
        seconds = self.assignment.eta_seconds
        return None if seconds is None else self.assignment.assigned_at + timedelta(
            seconds=seconds)


def team_classes(value) -> tuple[str, ...]:
    """Both team classes, or the one named ("ground", "responders")."""
    if value in (None, ""):
        return TEAM_CLASSES
    if value not in TEAM_CLASSES:
        raise invalid("class", _("must be one of %(values)s") % {"values": ", ".join(TEAM_CLASSES)})
    return (value,)


def teams_ranked(*, actor, lon: float, lat: float, classes=TEAM_CLASSES) -> list[tuple]:
    """(seconds, code, resource, mode) of every available team of the actor's area that
    the roads connect to the place, the nearest first (ties by code)."""
    from zhili.emergency.routing import travel_seconds

    kinds = [k for k, c in RescueResource.KIND_CLASS.items() if c in classes]
    teams = list(RescueResource.objects.restrict(actor, VIEW_RESOURCE)
                 .filter(availability=RescueResource.Availability.AVAILABLE, kind__in=kinds)
                 .only("code", "name", "kind", "lon", "lat", "area_path"))
    ranked = []
    for cls in classes:
        group = [t for t in teams if t.rescue_class == cls]
        if not group:
            continue
        mode = CLASS_MODE[cls]
        seconds = travel_seconds([(t.lon, t.lat) for t in group], (lon, lat), mode)
        ranked += [(float(s), t.code, t, mode) for s, t in zip(seconds, group, strict=True)
                   if math.isfinite(s)]
    ranked.sort(key=lambda r: (r[0], r[1]))
    return ranked


def _may_dispatch(actor, path: str) -> None:
    if not scope_of(actor, MANAGE).covers(path):
        raise PermissionDenied(_("Your roles do not allow dispatching rescue teams there."))


def _refuse_if_sent(incident, classes, *, lock: bool = True) -> None:
    """Inside the transaction, the incident row locked: one click sends one team of a
    class. A team of the classes asked for already on its way is a 409 (another one is
    the incident page's own assign, or this button once that team is released)."""
    from zhili.emergency.models_incidents import Incident, IncidentAssignment

    if lock:
        Incident.objects.select_for_update().filter(pk=incident.pk).first()
    kinds = [k for k, c in RescueResource.KIND_CLASS.items() if c in classes]
    sent = (IncidentAssignment.objects.filter(incident=incident, released_at__isnull=True,
                                              resource__kind__in=kinds)
            .select_related("resource").first())
    if sent is not None:
        raise Conflict(_("A rescue team is already dispatched to incident %(n)s: %(team)s. "
                         "Release it on the incident's page to send another.")
                       % {"n": incident.number, "team": sent.resource.name})


def _assign_nearest(*, actor, incident, ranked: list, opened: bool, source: str,
                    classes) -> TeamDispatch:
    """Inside the caller's transaction: the nearest team still free, audited."""
    from zhili.emergency.incidents import incident_assign

    if not opened:
        _refuse_if_sent(incident, classes)

    for seconds, code, _team, mode in ranked[:TRIES]:
        try:
            assignment = incident_assign(actor=actor, incident=incident, resource_code=code,
                                         eta=(mode, seconds))
        except Conflict:  # taken (or closed) since it was timed: the next nearest
            continue
        audit_record(actor=actor, action="incident.dispatch_nearest_team", obj=incident,
                     area_path=incident.area_path,
                     detail={"resource": code, "mode": mode, "eta_s": round(seconds, 1),
                             "candidates": len(ranked), "from": source, "opened": opened,
                             "notified": getattr(assignment, "notified", 0),
                             "notified_to": getattr(assignment, "notified_to", "")})
        return TeamDispatch(incident=incident, opened=opened, assignment=assignment,
                            candidates=len(ranked))
    raise NoFreeTeam(_("The nearest free rescue teams were all taken meanwhile: try again."))


def _none_free() -> NoFreeTeam:
    return NoFreeTeam(_("No available rescue team of your area can reach this place on the "
                        "road network."))


def incident_dispatch_team(*, actor, number: str, rescue_class=None) -> TeamDispatch:
    """Send the nearest available team to an open incident of the actor's area."""
    from zhili.emergency.models_incidents import Incident
    from zhili.emergency.selectors_incidents import incident_get

    classes = team_classes(rescue_class)
    incident = incident_get(actor=actor, number=number)  # the same 404 for not yours
    _may_dispatch(actor, incident.area_path)
    if incident.status != Incident.Status.OPEN:
        raise Conflict(_("Incident %(n)s is closed.") % {"n": incident.number})
    _refuse_if_sent(incident, classes, lock=False)  # said first: a team is on its way
    ranked = teams_ranked(actor=actor, lon=incident.lon, lat=incident.lat, classes=classes)
    if not ranked:
        raise _none_free()
    with transaction.atomic():
        return _assign_nearest(actor=actor, incident=incident, ranked=ranked, opened=False,
                               source="incident", classes=classes)


def warning_dispatch_team(*, actor, number: str, rescue_class=None) -> TeamDispatch:
    """Send the nearest available team to an open warning's risk point: to the warning's
    open incident, or to one opened from the warning in the same transaction."""
    from zhili.emergency.incidents import incident_open
    from zhili.emergency.models_incidents import Incident
    from zhili.warning.models import Warning
    from zhili.warning.selectors import warning_get

    classes = team_classes(rescue_class)
    warning = warning_get(actor=actor, number=str(number)[:24])  # 404 for not yours
    point = warning.risk_point
    _may_dispatch(actor, point.grid.path)
    if warning.status not in Warning.OPEN:
        raise ApplicationError(
            detail=_("Warning %(n)s is %(status)s: only an open warning is dispatched to.")
            % {"n": warning.number, "status": warning.get_status_display()},
            code="invalid-transition", status=409, title=_("Not allowed in the current state"))
    current = (Incident.objects.filter(warning=warning, status=Incident.Status.OPEN)
               .order_by("-opened_at", "-id").first())
    if current is not None:
        _refuse_if_sent(current, classes, lock=False)  # said first: a team is on its way
    ranked = teams_ranked(actor=actor, lon=point.lon, lat=point.lat, classes=classes)
    if not ranked:
        raise _none_free()  # before anything is opened: a refusal changes nothing
    with transaction.atomic():
        # Two dispatchers clicking one warning open one incident: the warning row is the lock.
        Warning.objects.select_for_update().filter(pk=warning.pk).first()
        incident = (Incident.objects.filter(warning=warning, status=Incident.Status.OPEN)
                    .order_by("-opened_at", "-id").first())
        opened = incident is None
        if opened:
            incident = incident_open(actor=actor, warning_number=warning.number)
        return _assign_nearest(actor=actor, incident=incident, ranked=ranked, opened=opened,
                               source="warning", classes=classes)
