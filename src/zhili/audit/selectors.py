"""Reads of the audit log, always through the reader's `audit.view` scope.

An entry belongs to the area in its `area_path`. Entries with no area (user
accounts, logins, system jobs) are visible only to readers whose scope is the
whole city. A reader without `audit.view` anywhere gets PermissionDenied
(403); a reader who has it gets NotFound (404) for an entry outside their
area, exactly as for a missing one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.models import AuditEntry
from zhili.core.errors import NotFound, PermissionDenied
from zhili.core.scoping import scope_of

PERMISSION = "audit.view"
FILTER_KEYS = ("actor", "action", "object_type", "object_id", "request_id",
               "date_from", "date_to", "purpose")


def _day_start(day: date | datetime) -> datetime:
    if isinstance(day, datetime):
        return day if timezone.is_aware(day) else timezone.make_aware(day)
    return timezone.make_aware(datetime.combine(day, time.min))


def entries_filtered(queryset: QuerySet, filters: Mapping[str, Any] | None) -> QuerySet:
    """Apply the search filters; empty values are ignored.

    actor: username exactly; action: prefix (`person.` finds every person
    action); object_type, object_id, request_id: exactly; date_from/date_to:
    calendar days in the server's time zone, both inclusive; purpose: text
    contained, any case.
    """
    f = {k: v for k, v in (filters or {}).items() if k in FILTER_KEYS and v not in (None, "")}
    if "actor" in f:
        queryset = queryset.filter(actor_label=f["actor"])
    if "action" in f:
        queryset = queryset.filter(action__startswith=f["action"])
    for key in ("object_type", "object_id", "request_id"):
        if key in f:
            queryset = queryset.filter(**{key: str(f[key])})
    if "date_from" in f:
        queryset = queryset.filter(at__gte=_day_start(f["date_from"]))
    if "date_to" in f:
        end = f["date_to"]
        if isinstance(end, datetime):
            queryset = queryset.filter(at__lte=_day_start(end))
        else:
            queryset = queryset.filter(at__lt=_day_start(end + timedelta(days=1)))
    if "purpose" in f:
        queryset = queryset.filter(purpose__icontains=f["purpose"])
    return queryset


def audit_readable(actor) -> Q:
    """The entries `actor` may read, as a filter; PermissionDenied if none at all."""
    scope = scope_of(actor, PERMISSION)
    if scope.empty:
        raise PermissionDenied(_("Reading the audit log needs the audit.view permission."))
    condition = scope.q("area_path")
    if not scope.everywhere and actor.covers_whole_city(PERMISSION):
        condition |= Q(area_path="")
    return condition


def entry_list(*, actor, filters: Mapping[str, Any] | None = None) -> QuerySet:
    """The entries `actor` may read that match `filters`, newest first."""
    queryset = AuditEntry.objects.filter(audit_readable(actor))
    return entries_filtered(queryset, filters).order_by("-id")


def entry_get_for(*, actor, entry_id: int) -> AuditEntry:
    entry = AuditEntry.objects.filter(audit_readable(actor), pk=entry_id).first()
    if entry is None:
        raise NotFound(_("No audit entry %(id)s in your area.") % {"id": entry_id})
    return entry


def may_verify(actor) -> bool:
    """Verifying walks every entry, so it is for readers of the whole log."""
    scope = scope_of(actor, PERMISSION)
    return not scope.empty and (scope.everywhere or actor.covers_whole_city(PERMISSION))
