"""The case timeline: the only place that writes `CaseEvent` rows.

Each service writes one event per transition, inside its transaction, so the
timeline and the case's state never disagree. The kinds are the words the
timeline shows; the audit log (who did or read what) is separate.
"""

from __future__ import annotations

from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.governance.models import CaseEvent

# Sent for each event, inside the transaction that writes it: (case, event). Higher
# apps hook it (a warning shows that its on-site case closed) without governance
# naming them.
case_event_recorded = Signal()

KINDS = {
    "reported": _("Reported"),
    "duplicate_linked": _("Linked as a probable duplicate"),
    "duplicate_confirmed": _("Duplicate confirmed"),
    "duplicate_split": _("Not a duplicate: handled on its own"),
    "assigned": _("Assigned"),
    "accepted": _("Accepted"),
    "arrived": _("On site"),
    "dispatched": _("Dispatched to departments"),
    "task_accepted": _("Department accepted its task"),
    "task_completed": _("Department completed its task"),
    "task_returned": _("Department returned its task"),
    "resolved": _("Resolved"),
    "verified": _("Verified"),
    "closed": _("Closed"),
    "reopened": _("Reopened"),
    "rejected": _("Rejected"),
    "escalated": _("Escalated"),
    "rated": _("Rated by the reporter"),
    "dispute_recorded": _("Dispute recorded"),
    "mediation": _("Mediation session"),
    "dispute_resolved": _("Dispute resolved"),
}


def event_add(*, case, kind: str, actor=None, note: str = "", data: dict | None = None,
              at=None) -> CaseEvent:
    if kind not in KINDS:  # a programming error, not bad input
        raise ValueError(f"unknown case event kind {kind!r}")
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    event = CaseEvent.objects.create(case=case, kind=kind, actor=actor_obj, note=note or "",
                                     data=data or {}, at=at or timezone.now())
    case_event_recorded.send(sender=CaseEvent, case=case, event=event)
    return event


def events_add(*, case, events: list[dict], at=None) -> list[CaseEvent]:
    """Several events of one moment in one INSERT (intake writes two)."""
    rows = []
    for e in events:
        if e["kind"] not in KINDS:
            raise ValueError(f"unknown case event kind {e['kind']!r}")
        actor = e.get("actor")
        actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) \
            else None
        rows.append(CaseEvent(case=case, kind=e["kind"], actor=actor_obj, note=e.get("note", ""),
                              data=e.get("data") or {}, at=at or timezone.now()))
    created = CaseEvent.objects.bulk_create(rows)
    for event in created:
        case_event_recorded.send(sender=CaseEvent, case=case, event=event)
    return created


def event_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


# What the reporter's own page shows of the timeline: each step they may know of, and
# only the texts written for them (True). Escalation reasons, instructions to
# departments and departments' own notes are the staff's; department task steps
# are not shown at all (the reporter sees "Dispatched to departments", then the result).
PUBLIC = {
    "reported": True, "duplicate_linked": False, "duplicate_confirmed": False,
    "duplicate_split": False, "assigned": False, "accepted": False, "arrived": False,
    "dispatched": False, "resolved": True, "verified": False, "closed": True,
    "reopened": True, "rejected": True, "escalated": False, "rated": True,
    "dispute_recorded": False, "mediation": False, "dispute_resolved": True,
}


def events_public(events) -> list:
    """The events a reporter sees, notes blanked where they were not written for them."""
    shown = []
    for event in events:
        if event.kind not in PUBLIC:
            continue
        if not PUBLIC[event.kind]:
            event.note = ""
        shown.append(event)
    return shown
