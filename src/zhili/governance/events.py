"""The case timeline: the only place that writes `CaseEvent` rows.

Each service writes one event per transition, inside its transaction, so the
timeline and the case's state never disagree. The kinds are the words the
timeline shows; the audit log (who did or read what) is separate.
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.prepared import enabled as prepared_enabled
from zhili.core.prepared import fetch as prepared_fetch
from zhili.governance.models import Case, CaseEvent

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


def _event_rows(case, events: list[dict], at) -> list[CaseEvent]:
    rows = []
    for e in events:
        if e["kind"] not in KINDS:
            raise ValueError(f"unknown case event kind {e['kind']!r}")
        actor = e.get("actor")
        actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) \
            else None
        rows.append(CaseEvent(case=case, kind=e["kind"], actor=actor_obj, note=e.get("note", ""),
                              data=e.get("data") or {}, at=at))
    return rows


def events_add(*, case, events: list[dict], at=None) -> list[CaseEvent]:
    """Several events of one moment in one INSERT (intake writes two)."""
    created = CaseEvent.objects.bulk_create(_event_rows(case, events, at or timezone.now()))
    for event in created:
        case_event_recorded.send(sender=CaseEvent, case=case, event=event)
    return created


# The new case and its first two timeline events as one statement on PostgreSQL
# (a data-modifying CTE, prepared once per connection: core/prepared.py), where
# `save()` and `bulk_create()` cost intake two round trips and a third of its
# Python compiling them. The signals `save()` would send are sent, so the live
# map (cockpit/hooks.py) and everyone else hear of the case as before.
_CASE_FIELDS = [f for f in Case._meta.concrete_fields if not f.primary_key]
_EVENT_FIELDS = ("at", "actor_id", "kind", "note", "data")
_CASE_SQL: dict[int, str] = {}


def _case_sql(events: int) -> str:
    if events not in _CASE_SQL:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in _CASE_FIELDS)
        values = ", ".join("%s::jsonb" if f.get_internal_type() == "JSONField" else "%s"
                           for f in _CASE_FIELDS)
        rows = ", ".join(["(%s::int, %s::timestamptz, %s::bigint, %s, %s, %s::jsonb)"] * events)
        _CASE_SQL[events] = (
            f"WITH c AS (INSERT INTO {Case._meta.db_table} ({columns}) VALUES ({values}) "
            f"RETURNING id) INSERT INTO {CaseEvent._meta.db_table} "
            f"(case_id, {', '.join(_EVENT_FIELDS)}) "
            f"SELECT c.id, {', '.join('e.' + f for f in _EVENT_FIELDS)} FROM c, "
            f"(VALUES {rows}) AS e(n, {', '.join(_EVENT_FIELDS)}) ORDER BY e.n "
            "RETURNING id, case_id")
    return _CASE_SQL[events]


def case_insert(case: Case, *, events: list[dict], at) -> list[CaseEvent]:
    """INSERT the new `case` and its `events` (as `events_add` takes them) together."""
    if not prepared_enabled():
        case.save()
        return events_add(case=case, at=at, events=events)
    pre_save.send(sender=Case, instance=case, raw=False, using=connection.alias,
                  update_fields=None)
    params = [json.dumps(v, ensure_ascii=False) if f.get_internal_type() == "JSONField"
              else v for f in _CASE_FIELDS for v in [f.pre_save(case, True)]]
    rows = _event_rows(case, events, at)
    for n, event in enumerate(rows):
        params += [n, at, event.actor_id, event.kind, event.note,
                   json.dumps(event.data, ensure_ascii=False)]
    ids = sorted(prepared_fetch(f"zhili_case_{len(events)}", _case_sql(len(events)), params))
    case.pk = ids[0][1]
    case._state.adding, case._state.db = False, connection.alias
    post_save.send(sender=Case, instance=case, created=True, update_fields=None, raw=False,
                   using=connection.alias)
    for event, (pk, _case) in zip(rows, ids, strict=True):
        event.pk, event.case_id = pk, case.pk
        event._state.adding, event._state.db = False, connection.alias
        case_event_recorded.send(sender=CaseEvent, case=case, event=event)
    return rows


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
