"""One-click dispatch to departments (a lead and cooperating ones), their tasks,
and the grids' duty roster."""

from __future__ import annotations

from datetime import time, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from zhili.accounts.models import Department, RoleAssignment, User
from zhili.accounts.roles import Role
from zhili.audit.services import audit_record
from zhili.core.errors import NotFound, PermissionDenied, invalid
from zhili.governance.errors import InvalidTransition
from zhili.governance.events import event_add
from zhili.governance.models import Case, DepartmentTask, DutyShift, Status, Step
from zhili.governance.services.common import (
    MANAGE,
    WORK,
    allowed,
    clock,
    department_pairs,
    has,
    lock,
    require,
    save,
    tell,
    text_clean,
)
from zhili.governance.services.lifecycle import resolve_now

MAX_DUE_HOURS = 24 * 90
Task = DepartmentTask.TaskStatus


def _departments(lead, cooperating) -> tuple[Department, list[Department]]:
    codes = [c for c in (cooperating or []) if c]
    if not isinstance(lead, str) or not lead:
        raise invalid("lead", _("required: a department code"))
    if lead in codes:
        raise invalid("cooperating", _("the lead department cannot also cooperate"))
    if len(set(codes)) != len(codes):
        raise invalid("cooperating", _("a department is named twice"))
    found = {d.code: d for d in Department.objects.filter(code__in=[lead, *codes])}
    if lead not in found:
        raise invalid("lead", _("unknown department %(code)r") % {"code": lead[:40]})
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise invalid("cooperating", _("unknown department %(code)r") % {"code": unknown[0][:40]})
    return found[lead], [found[c] for c in codes]


def department_officers(department_ids, path: str) -> list[int]:
    """Officers of these departments whose area covers the path."""
    rows = RoleAssignment.objects.filter(role=Role.DEPARTMENT_OFFICER,
                                         department_id__in=list(department_ids),
                                         user__is_active=True)
    return sorted({user_id for user_id, area in rows.values_list("user_id", "area_path")
                   if path.startswith(area)})


def case_dispatch_departments(*, actor, case: Case, version, lead: str, cooperating=(),
                              instructions: str = "", due_hours: int | None = None,
                              now=None) -> Case:
    """The street centre calls in departments: each gets its own task and due time."""
    now = clock(now)
    instructions = text_clean(instructions, "instructions", limit=2000)
    lead_dept, coop = _departments(lead, cooperating)
    if due_hours is not None:
        if isinstance(due_hours, bool) or not isinstance(due_hours, int) or \
                not 1 <= due_hours <= MAX_DUE_HOURS:
            raise invalid("due_hours", _("a whole number of hours from 1 to %(n)d")
                          % {"n": MAX_DUE_HOURS})
    with transaction.atomic():
        case = lock(case, version)
        require_manage(actor, case)
        allowed(case, "dispatch", (Status.REPORTED, Status.ACCEPTED, Status.ON_SITE,
                                   Status.REOPENED, Status.DISPATCHED))
        if case.duplicate_of_id:
            raise invalid("case", _("a duplicate follows its original; dispatch the original"))
        minutes = due_hours * 60 if due_hours is not None else case.category.resolve_minutes
        due = now + timedelta(minutes=minutes)
        existing = {t.department_id: t for t in case.department_tasks.select_for_update()}
        for task in existing.values():  # a new lead demotes the old one (one lead per case)
            if task.role == DepartmentTask.Role.LEAD and task.department_id != lead_dept.pk:
                task.role = DepartmentTask.Role.COOPERATING
                task.save(update_fields=["role"])
        for department, role in [(lead_dept, DepartmentTask.Role.LEAD)] + \
                [(d, DepartmentTask.Role.COOPERATING) for d in coop]:
            task = existing.get(department.pk) or DepartmentTask(case=case, department=department,
                                                                 area_path=case.area_path,
                                                                 created_at=now)
            task.role, task.status, task.instructions, task.due_at = role, Task.OPEN, \
                instructions, due
            task.assigned_by, task.handled_by, task.done_at, task.note = actor, None, None, ""
            task.save()
        case.status, case.step, case.due_at, case.escalate_at = Status.DISPATCHED, Step.RESOLVE, \
            due, due
        save(case, now, "status", "step", "due_at", "escalate_at")
        data = {"lead": lead_dept.code, "cooperating": [d.code for d in coop],
                "due_at": due.isoformat()}
        event_add(case=case, kind="dispatched", actor=actor, note=instructions, data=data, at=now)
        audit_record(actor=actor, action="case.dispatch_departments", obj=case, detail=data)
        officers = department_officers([lead_dept.pk, *[d.pk for d in coop]], case.area_path)
        tell(case=case, recipients=officers, kind="task.assigned", now=now,
             title=_("Task for your department: case %(no)s, %(category)s")
             % {"no": case.tracking_no, "category": case.category.name}, body=instructions[:200])
    return case


def require_manage(actor, case: Case) -> None:
    require(actor, case, MANAGE)


def _task_locked(actor, task: DepartmentTask) -> tuple[DepartmentTask, Case]:
    """Lock the case then the task; the actor must be an officer of its department there."""
    case = Case.objects.select_for_update(of=("self",)).select_related("category").filter(
        pk=task.case_id).first()
    task = DepartmentTask.objects.select_for_update().filter(pk=task.pk).first()
    if case is None or task is None:
        raise NotFound()
    if not any(d == task.department_id and task.area_path.startswith(p)
               for d, p in department_pairs(actor)):
        if has(actor, MANAGE, task.area_path) or has(actor, WORK, task.area_path):
            raise PermissionDenied(_("Only an officer of the department handles its task."))
        raise NotFound()
    return task, case


def department_task_accept(*, actor, task: DepartmentTask, note: str = "", now=None):
    now = clock(now)
    note = text_clean(note, "note", limit=2000)
    with transaction.atomic():
        task, case = _task_locked(actor, task)
        if task.status != Task.OPEN:
            raise InvalidTransition("accept", task.status)
        task.status, task.handled_by, task.note = Task.ACCEPTED, actor, note
        task.save(update_fields=["status", "handled_by", "note"])
        save(case, now)
        event_add(case=case, kind="task_accepted", actor=actor, note=note, at=now,
                  data={"department": task.department.code})
        audit_record(actor=actor, action="task.accept", obj=task, area_path=task.area_path)
    return task


def department_task_complete(*, actor, task: DepartmentTask, note: str = "", now=None):
    """Done; when the lead and every other live task are done, the case is resolved.

    Like a return, a completion says what was done: the street centre and the
    reporter read it, and the case may be resolved by it."""
    now = clock(now)
    note = text_clean(note, "note", limit=2000, required=True)
    with transaction.atomic():
        task, case = _task_locked(actor, task)
        if task.status not in (Task.OPEN, Task.ACCEPTED):
            raise InvalidTransition("complete", task.status)
        task.status, task.handled_by, task.done_at = Task.DONE, actor, now
        task.note = note
        task.save(update_fields=["status", "handled_by", "done_at", "note"])
        save(case, now)
        event_add(case=case, kind="task_completed", actor=actor, note=note, at=now,
                  data={"department": task.department.code, "on_time": now <= task.due_at})
        live = DepartmentTask.objects.filter(case=case).exclude(status=Task.RETURNED)
        lead_done = live.filter(role=DepartmentTask.Role.LEAD, status=Task.DONE).exists()
        if case.status == Status.DISPATCHED and lead_done and \
                not live.exclude(status=Task.DONE).exists():
            resolve_now(case, actor=actor, now=now, note=note)
        audit_record(actor=actor, action="task.complete", obj=task, area_path=task.area_path)
    return task


def department_task_return(*, actor, task: DepartmentTask, note: str = "", now=None):
    """Not ours: the task goes back to whoever dispatched it, with the reason."""
    now = clock(now)
    note = text_clean(note, "note", limit=2000, required=True)
    with transaction.atomic():
        task, case = _task_locked(actor, task)
        if task.status not in (Task.OPEN, Task.ACCEPTED):
            raise InvalidTransition("return", task.status)
        task.status, task.handled_by, task.note, task.done_at = Task.RETURNED, actor, note, now
        task.save(update_fields=["status", "handled_by", "note", "done_at"])
        save(case, now)
        event_add(case=case, kind="task_returned", actor=actor, note=note, at=now,
                  data={"department": task.department.code})
        audit_record(actor=actor, action="task.return", obj=task, area_path=task.area_path)
        tell(case=case, recipients=[task.assigned_by_id], kind="task.returned", now=now,
             title=_("Task returned on case %(no)s") % {"no": case.tracking_no}, body=note[:200])
    return task


def duty_shift_set(*, actor, grid, user: User, weekdays: str = "0,1,2,3,4,5,6",
                   start: time = time(0, 0), end: time = time(23, 59, 59)) -> DutyShift:
    """Put a grid's worker on its roster (idempotent for the same window)."""
    if actor is not None and not has(actor, MANAGE, grid.path):
        raise NotFound()
    days = [d.strip() for d in str(weekdays).split(",") if d.strip()]
    if not days or any(d not in "0123456" or len(d) != 1 for d in days):
        raise invalid("weekdays", _("comma-separated weekday numbers, 0 = Monday"))
    if not has(user, WORK, grid.path):
        raise invalid("user", _("must be a grid worker or leader of this grid"))
    with transaction.atomic():
        shift, created = DutyShift.objects.get_or_create(
            grid=grid, user=user, start_time=start, end_time=end,
            defaults={"weekdays": ",".join(sorted(set(days)))},
        )
        if created:
            audit_record(actor=actor, action="duty_shift.set", obj=shift, area_path=grid.path,
                         detail={"user": user.get_username(), "weekdays": shift.weekdays,
                                 "start": str(start), "end": str(end)})
    return shift
