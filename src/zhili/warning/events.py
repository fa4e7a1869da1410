"""The warning timeline: the only place that writes `WarningEvent` rows."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.warning.models import WarningEvent

KINDS = {
    "raised": _("Raised"),
    "repeated": _("The condition came again"),
    "level_up": _("Level raised"),
    "level_down": _("Level lowered"),
    "cleared": _("The condition cleared"),
    "notified": _("Responsible persons notified"),
    "acknowledged": _("Acknowledged"),
    "escalated": _("Escalated: not acknowledged in time"),
    "handling": _("Handling on site"),
    "action_reported": _("Action taken, reported"),
    "case_opened": _("A case was opened for on-site handling"),
    "case_closed": _("The on-site case was closed"),
    "closed": _("Closed"),
    "cancelled": _("Cancelled"),
}


def event_add(*, warning, kind: str, level: int | None = None, actor=None, note: str = "",
              data: dict | None = None, at=None) -> WarningEvent:
    if kind not in KINDS:  # a programming error, not bad input
        raise ValueError(f"unknown warning event kind {kind!r}")
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return WarningEvent.objects.create(
        warning=warning, kind=kind, level=warning.level if level is None else level,
        actor=actor_obj, note=note or "", data=data or {}, at=at or timezone.now())
