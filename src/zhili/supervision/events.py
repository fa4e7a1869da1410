"""The problem timeline: the only place that writes `ProblemEvent` rows."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.supervision.models import ProblemEvent

KINDS = {
    "raised": _("Raised"),
    "raised_by_rule": _("Raised by a KPI rule"),
    "rectifying": _("Rectification started"),
    "step": _("Rectification step recorded"),
    "evidence": _("Evidence added"),
    "submitted": _("Submitted for verification"),
    "returned": _("Returned: rectify again"),
    "verified": _("Verified"),
    "closed": _("Closed"),
}


def event_add(*, problem, kind: str, actor=None, note: str = "", data: dict | None = None,
              at=None) -> ProblemEvent:
    if kind not in KINDS:  # a programming error, not bad input
        raise ValueError(f"unknown problem event kind {kind!r}")
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return ProblemEvent.objects.create(problem=problem, kind=kind, actor=actor_obj,
                                       note=note or "", data=data or {}, at=at or timezone.now())


def event_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))
