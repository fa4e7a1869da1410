"""Incident reads, scoped to the actor's area (`emergency.view_incident`); a detail
lookup answers the same NotFound for missing and not yours."""

from __future__ import annotations

import math

import numpy as np
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from zhili.core.errors import NotFound, PermissionDenied
from zhili.core.scoping import scope_of
from zhili.emergency.conf import CLASS_MODE
from zhili.emergency.graph import haversine_m
from zhili.emergency.models import CLASSES, RescueResource
from zhili.emergency.models_incidents import (
    SEVERITY_COLOURS,
    Incident,
    IncidentAssignment,
    IncidentEvent,
    IncidentTask,
)

VIEW = "emergency.view_incident"
LAYER_LIMIT = 2000
CANDIDATES = 25  # nearest by straight line per class, then timed on the roads


def _scoped(actor):
    scope = scope_of(actor, VIEW)
    if scope.empty:
        raise PermissionDenied(_("Your roles do not include the incidents."))
    return scope


def incident_list(*, actor, status: str = "open"):
    """The area's incidents, the most severe first; `status` "open", "closed" or "all"."""
    _scoped(actor)
    rows = (Incident.objects.restrict(actor, VIEW).select_related("grid")
            .annotate(active=Count("assignments",
                                   filter=Q(assignments__released_at__isnull=True))))
    if status in ("open", "closed"):
        rows = rows.filter(status=status)
    return rows.order_by("severity", "-opened_at", "id")


def incident_get(*, actor, number: str) -> Incident:
    _scoped(actor)
    incident = (Incident.objects.restrict(actor, VIEW)
                .select_related("grid", "warning", "case", "opened_by")
                .filter(number=str(number)[:24]).first())
    if incident is None:
        raise NotFound(_("No incident %(n)s.") % {"n": str(number)[:24]})
    return incident


def incident_assignments(*, incident: Incident, active_only: bool = False) -> list:
    rows = IncidentAssignment.objects.filter(incident=incident).select_related("resource")
    if active_only:
        rows = rows.filter(released_at__isnull=True)
    return list(rows)


def incident_tasks(*, incident: Incident) -> list:
    return list(IncidentTask.objects.filter(incident=incident)
                .select_related("department", "resource"))


def incident_timeline(*, incident: Incident) -> list:
    return list(IncidentEvent.objects.filter(incident=incident).select_related("actor"))


def incident_suggest(*, actor, incident: Incident, per_class: int = 3) -> dict:
    """Per rescue class, the available resources of the actor's area that arrive first:
    {class: [{"resource", "mode", "eta_seconds"}]} (None: the roads do not connect)."""
    from zhili.emergency.routing import travel_seconds

    resources = list(RescueResource.objects.restrict(actor, "emergency.view_resource")
                     .filter(availability=RescueResource.Availability.AVAILABLE)
                     .only("code", "name", "kind", "lon", "lat", "area_path"))
    by_class: dict[str, list] = {cls: [] for cls in CLASSES}
    for resource in resources:
        by_class[resource.rescue_class].append(resource)
    out = {}
    for cls, group in by_class.items():
        if not group:
            out[cls] = []
            continue
        lon = np.array([r.lon for r in group])
        lat = np.array([r.lat for r in group])
        near = np.argsort(haversine_m(lon, lat, incident.lon, incident.lat))[:CANDIDATES]
        mode = CLASS_MODE[cls]
        seconds = travel_seconds(np.column_stack([lon[near], lat[near]]),
                                 (incident.lon, incident.lat), mode)
        ranked = sorted(zip(seconds, near, strict=True), key=lambda p: (p[0], group[p[1]].code))
        out[cls] = [{"resource": group[i], "mode": mode,
                     "eta_seconds": float(s) if math.isfinite(s) else None}
                    for s, i in ranked[:per_class]]
    return out


def incidents_geojson(*, actor) -> dict:
    """Open incidents of the viewer's area as points, coloured by severity."""
    _scoped(actor)
    rows = (Incident.objects.restrict(actor, VIEW).filter(status=Incident.Status.OPEN)
            .order_by("severity", "-opened_at")
            .values_list("number", "title", "severity", "lon", "lat", "opened_at")[:LAYER_LIMIT])
    labels = dict(Incident._meta.get_field("severity").choices)
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": number,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"number": number, "title": title, "severity": severity,
                       "severity_label": str(labels[severity]),
                       "colour": SEVERITY_COLOURS[severity], "opened_at": opened_at.isoformat()},
    } for number, title, severity, lon, lat, opened_at in rows]}


def open_incident_counts(*, actor) -> dict[int, int]:
    """{severity 1..4: open incidents of the actor's area} (for the cockpit's tiles)."""
    _scoped(actor)
    counts = dict(Incident.objects.restrict(actor, VIEW).filter(status=Incident.Status.OPEN)
                  .values("severity").annotate(n=Count("id")).values_list("severity", "n"))
    return {severity: counts.get(severity, 0) for severity in (1, 2, 3, 4)}
