"""Release and overdue flags: the bundles writes the task queue runs.

Kept apart from `services` so `tasks` (thin wrappers) imports this and
`services` imports `tasks` to enqueue, with no cycle between them. Both are
idempotent: a rerun after a crash changes nothing that was already done.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from zhili.audit.services import audit_record
from zhili.bundles import graph
from zhili.bundles.events import event, events_add
from zhili.bundles.models import (
    DONE_STATUSES,
    Application,
    ApplicationStatus,
    EventKind,
    Task,
    TaskStatus,
)


def working_days_after(start: datetime, days: int) -> datetime:
    """`start` plus `days` working days (Monday to Friday; public holidays are not modelled)."""
    at, left = start, days
    while left > 0:
        at += timedelta(days=1)
        if at.weekday() < 5:
            left -= 1
    return at


# --- release -------------------------------------------------------------------------------

def application_release(*, application_id: int) -> int:
    """Make ready every blocked task whose dependencies are approved; idempotent.

    Called inside each decision's transaction, and again from the task queue and
    the sweep, so a crash between approval and release loses nothing.
    Returns how many tasks changed.
    """
    with transaction.atomic():
        application = Application.objects.select_for_update().filter(pk=application_id).first()
        if application is None:
            return 0
        tasks = list(Task.objects.filter(application=application)
                     .select_related("matter", "department")
                     .prefetch_related("matter__depends_on"))
        by_code = {t.matter.code: t for t in tasks}
        deps = {code: {d.code for d in t.matter.depends_on.all() if d.code in by_code}
                for code, t in by_code.items()}
        done = {c for c, t in by_code.items() if t.status == TaskStatus.APPROVED}
        failed = {c for c, t in by_code.items() if t.status in (TaskStatus.REJECTED, TaskStatus.CANCELLED)}
        started = {c for c, t in by_code.items() if t.status != TaskStatus.BLOCKED}
        now = timezone.now()
        changed, events = [], []
        behind = graph.blocked_by_failure(deps, failed)
        for code in sorted(behind - started):
            t = by_code[code]
            t.status, t.decided_at = TaskStatus.CANCELLED, now
            t.reason = "依赖的事项未办结 (a matter it depends on was rejected)"
            changed.append(t)
            events.append(event(application=application, task=t, kind=EventKind.CANCELLED, at=now,
                                detail={"because": sorted(deps[code] & (failed | behind))}))
        for code in sorted(graph.ready_set(deps, done, started)):
            t = by_code[code]
            t.status, t.ready_at = TaskStatus.READY, now
            t.due_at = working_days_after(now, t.matter.promised_days)
            changed.append(t)
            events.append(event(application=application, task=t, kind=EventKind.READY, at=now,
                                detail={"department": t.department.code}))
        if changed:
            Task.objects.bulk_update(changed, ["status", "ready_at", "due_at", "decided_at", "reason"])
        if all(t.status in DONE_STATUSES for t in tasks) and application.completed_at is None:
            application.completed_at = now
            application.status = (ApplicationStatus.COMPLETED
                                   if all(t.status == TaskStatus.APPROVED for t in tasks)
                                   else ApplicationStatus.PARTLY_REJECTED)
            application.save(update_fields=["completed_at", "status"])
            events.append(event(application=application, kind=EventKind.COMPLETED, at=now,
                                detail={"status": application.status}))
        if events:
            events_add(events)
    return len(changed)


# --- overdue -------------------------------------------------------------------------------

def overdue_flag(*, now: datetime | None = None) -> int:
    """Flag open tasks past their due time to the lead department, once each. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        # A task waiting for the applicant's supplements is not late: its clock is paused.
        late = list(Task.objects.select_for_update().filter(
            status=TaskStatus.READY, due_at__lt=now, overdue_flagged_at__isnull=True)
            .select_related("application__bundle__lead_department")[:500])
        if not late:
            return 0
        for t in late:
            t.overdue_flagged_at = now
        Task.objects.bulk_update(late, ["overdue_flagged_at"])
        events_add([
            event(application=t.application, task=t, kind=EventKind.OVERDUE, at=now,
                  detail={"lead": t.application.bundle.lead_department.code,
                          "due_at": t.due_at.isoformat()}) for t in late])
        audit_record(actor=None, action="bundles.overdue_flag", object_type="bundles.task",
                     detail={"tasks": [t.pk for t in late]})
    return len(late)
