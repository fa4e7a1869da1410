"""The incident timeline: the only place that writes `IncidentEvent` rows, one per
change, inside the change's transaction."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.emergency.models_incidents import IncidentEvent

KINDS = {
    "opened": _("Incident opened"),
    "assigned": _("Resource assigned"),
    "team_notified": _("Team notified"),
    "acknowledged": _("Team acknowledged"),
    "released": _("Resource released"),
    "task_added": _("Task given"),
    "task_done": _("Task done"),
    "note": _("Situation note"),
    "closed": _("Incident closed"),
}


def event_add(*, incident, kind: str, actor=None, note: str = "",
              data: dict | None = None) -> IncidentEvent:
    if kind not in KINDS:  # a programming error, not bad input
        raise ValueError(f"unknown incident event kind {kind!r}")
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return IncidentEvent.objects.create(incident=incident, kind=kind, actor=actor_obj,
                                        note=note or "", data=data or {}, at=timezone.now())
