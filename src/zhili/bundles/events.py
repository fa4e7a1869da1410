"""The application timeline: the only place that writes bundles `Event` rows.

Each service writes its events inside its own transaction, so the timeline
and the application's state never disagree (as `governance/events.py` does
for cases). The kinds are `EventKind`, the words the timeline shows; the
audit log (who did or read what) is separate.
"""

from __future__ import annotations

from django.utils import timezone

from zhili.bundles.models import Event, EventKind


def event(*, application, kind: str, task=None, actor=None, detail: dict | None = None,
          at=None) -> Event:
    """One timeline row, not yet saved (for `events_add`)."""
    if kind not in EventKind.values:  # a programming error, not bad input
        raise ValueError(f"unknown bundles event kind {kind!r}")
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return Event(application=application, task=task, kind=kind, actor=actor_obj,
                 detail=detail or {}, at=at or timezone.now())


def event_add(**fields) -> Event:
    """Write one timeline row; the same keywords as `event`."""
    row = event(**fields)
    row.save(force_insert=True)
    return row


def events_add(rows: list[Event]) -> list[Event]:
    """Write several rows built with `event` in one INSERT."""
    return Event.objects.bulk_create(rows) if rows else []
