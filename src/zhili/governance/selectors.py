"""Governance reads. Every one takes the actor and sees only what it may:

* staff with `governance.view_case`: the cases under their area paths;
* department officers: cases on which their department has a task in their area;
* everyone (residents included): the cases they reported, and the originals
  their duplicates follow.

"Missing" and "not yours" are the same NotFound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.errors import NotFound, invalid
from zhili.geo.selectors import node_by_code
from zhili.governance.access import MANAGE, VIEW, WORK, department_pairs, has, may_view
from zhili.governance.ladder import level_of_path
from zhili.governance.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CasePhoto,
    Category,
    DepartmentTask,
    Dispute,
    Status,
)

LIST_FIELDS = ("category", "grid", "assignee")
# Polygons are never shown with a case: do not fetch them with its grid.
NO_SHAPE = ("grid__geometry",)


@dataclass
class CaseFilters:
    status: list[str] | None = None
    category: str | None = None
    board: str | None = None
    area: str | None = None  # an area code: the case lies in its subtree
    overdue: bool | None = None
    open: bool | None = None
    is_dispute: bool | None = None
    mine: bool | None = None  # reported by me
    assigned_to_me: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    tracking_no: str | None = None


def category_list(*, board: str | None = None, include_inactive: bool = False) -> QuerySet:
    rows = Category.objects.select_related("lead_department").prefetch_related("departments")
    if not include_inactive:
        rows = rows.filter(active=True)
    if board:
        rows = rows.filter(board=board)
    return rows.order_by("board", "priority", "code")


def department_q(actor, field: str = "") -> Q | None:
    """Rows of the actor's departments within each officer assignment's area."""
    pairs = department_pairs(actor)
    if not pairs:
        return None
    q = Q()
    for department_id, path in pairs:
        q |= Q(**{f"{field}department_id": department_id, f"{field}area_path__startswith": path})
    return q


def visible_cases(actor) -> QuerySet:
    """Every case the actor may see (no ordering, no filters)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Case.objects.none()
    scope = actor.scope(VIEW)
    parts = []
    if not scope.empty:
        # Kept alone when it is all there is, so the planner uses the path index.
        parts.append(scope.q())
    tasks = department_q(actor)
    if tasks is not None:
        parts.append(Q(Exists(DepartmentTask.objects.filter(tasks, case=OuterRef("pk")))))
    if not parts:
        followed = Case.objects.filter(reporter=actor, duplicate_of__isnull=False)
        parts.append(Q(reporter=actor) | Q(pk__in=followed.values("duplicate_of")))
    condition = parts[0]
    for part in parts[1:]:
        condition |= part
    return Case.objects.filter(condition)


def area_path(code: str) -> str:
    """The path of the area a filter names; 422 on `area` if there is none."""
    node = node_by_code(code)
    if node is None:
        raise invalid("area", _("unknown area code"))
    return node.path


def case_list(*, actor, filters: CaseFilters | None = None, now=None) -> QuerySet:
    f = filters or CaseFilters()
    now = now or timezone.now()
    rows = visible_cases(actor)
    if f.mine:
        rows = rows.filter(reporter=actor)
    if f.assigned_to_me:
        rows = rows.filter(assignee=actor)
    if f.status:
        bad = [s for s in f.status if s not in Status.values]
        if bad:
            raise invalid("status", _("one of: %(v)s") % {"v": ", ".join(Status.values)})
        rows = rows.filter(status__in=f.status)
    if f.open is True:
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif f.open is False:
        rows = rows.exclude(status__in=OPEN_STATUSES)
    if f.category:
        rows = rows.filter(category__code=f.category)
    if f.board:
        rows = rows.filter(category__board=f.board)
    if f.area:
        rows = rows.filter(area_path__startswith=area_path(f.area))
    if f.overdue:
        rows = rows.filter(status__in=OPEN_STATUSES, due_at__lt=now)
    if f.is_dispute is not None:
        rows = rows.filter(is_dispute=f.is_dispute)
    if f.created_from:
        rows = rows.filter(created_at__gte=f.created_from)
    if f.created_to:
        rows = rows.filter(created_at__lt=f.created_to)
    if f.tracking_no:
        rows = rows.filter(tracking_no=f.tracking_no.strip().upper())
    return rows.select_related(*LIST_FIELDS).defer(*NO_SHAPE).order_by("-created_at", "-id")


def case_get_for(*, actor, case_id: int | None = None, tracking_no: str | None = None) -> Case:
    rows = Case.objects.select_related("category", "grid", "assignee", "reporter",
                                       "duplicate_of").defer(*NO_SHAPE)
    if case_id is not None:
        case = rows.filter(pk=case_id).first()
    elif tracking_no:
        case = rows.filter(tracking_no=str(tracking_no).strip().upper()[:24]).first()
    else:
        case = None
    if case is None or not may_view(actor, case):
        raise NotFound()
    return case


def case_get_for_auditor(*, actor, case_id: int) -> Case:
    """A case for an auditor (audit.view over its area), who may not handle cases:
    the same NotFound for missing and outside their area."""
    if not 1 <= case_id <= 2**63 - 1:
        raise NotFound()
    case = (Case.objects.restrict(actor, "audit.view").select_related("reporter")
            .defer(*NO_SHAPE).filter(pk=case_id).first())
    if case is None:
        raise NotFound()
    return case


def case_timeline(*, actor, case: Case) -> list[CaseEvent]:
    """The events of a case the caller has already been allowed to see.

    An anonymous reporter's own events (reported, rated, reopened) name nobody
    to anyone but the reporter: `actor` is cleared and `by_anonymous_reporter` set.
    """
    events = list(case.events.select_related("actor").order_by("at", "id"))
    if case.anonymous and case.reporter_id and getattr(actor, "pk", None) != case.reporter_id:
        for event in events:
            if event.actor_id == case.reporter_id:
                event.actor = None
                event.by_anonymous_reporter = True
    photos = {}
    for photo in CasePhoto.objects.filter(case=case).order_by("id"):
        photos.setdefault(photo.event_id, []).append(photo)
    for event in events:
        event.photo_list = photos.get(event.pk, [])
    return events


def case_tasks(*, case: Case) -> list[DepartmentTask]:
    return list(case.department_tasks.select_related("department").order_by("role", "id"))


def photo_get_for(*, actor, photo_id: int) -> CasePhoto:
    photo = CasePhoto.objects.select_related("case").filter(pk=photo_id).first()
    if photo is None or not may_view(actor, photo.case):
        raise NotFound()
    return photo


def my_tasks(*, actor, limit: int = 200) -> list[Case]:
    """What waits for the actor: cases assigned to them, and cases at their level in their
    area (escalated to them, or probable duplicates awaiting a decision), most urgent first."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    q = Q(assignee=actor, status__in=OPEN_STATUSES, duplicate_of__isnull=True)
    from zhili.accounts.roles import ROLE_PERMISSIONS

    for assignment in actor.active_assignments():
        perms = ROLE_PERMISSIONS.get(assignment.role, ())
        if MANAGE in perms or WORK in perms:
            level = level_of_path(assignment.area_path)
            q |= Q(area_path__startswith=assignment.area_path, status__in=OPEN_STATUSES,
                   current_level=level, duplicate_of__isnull=True)
        if MANAGE in perms:
            q |= Q(area_path__startswith=assignment.area_path, duplicate_of__isnull=False,
                   duplicate_confirmed__isnull=True, status__in=OPEN_STATUSES)
    # The reporter too: the API shows their name to staff on every row.
    rows = Case.objects.filter(q).select_related(*LIST_FIELDS, "duplicate_of", "reporter") \
        .defer(*NO_SHAPE)
    return list(rows.order_by("due_at", "-created_at")[:limit])


def department_inbox(*, actor, status: list[str] | None = None) -> QuerySet:
    """The tasks of the actor's departments in their areas; open ones by default."""
    tasks = department_q(actor)
    if tasks is None:
        return DepartmentTask.objects.none()
    rows = DepartmentTask.objects.filter(tasks)
    wanted = status or [DepartmentTask.TaskStatus.OPEN, DepartmentTask.TaskStatus.ACCEPTED]
    bad = [s for s in wanted if s not in DepartmentTask.TaskStatus.values]
    if bad:
        raise invalid("status", _("one of: %(v)s")
                      % {"v": ", ".join(DepartmentTask.TaskStatus.values)})
    return (rows.filter(status__in=wanted)
            .select_related("case", "case__category", "case__grid", "case__assignee",
                            "department")
            .defer("case__grid__geometry").order_by("due_at", "id"))


def task_get_for(*, actor, task_id: int) -> DepartmentTask:
    task = DepartmentTask.objects.select_related("case", "department").filter(pk=task_id).first()
    if task is None:
        raise NotFound()
    if not any(d == task.department_id and task.area_path.startswith(p)
               for d, p in department_pairs(actor)) and not may_view(actor, task.case):
        raise NotFound()
    return task


def overdue_list(*, actor, now=None) -> QuerySet:
    now = now or timezone.now()
    return (visible_cases(actor).filter(status__in=OPEN_STATUSES, due_at__lt=now)
            .select_related(*LIST_FIELDS).defer(*NO_SHAPE).order_by("due_at", "id"))


def dispute_list(*, actor, dispute_type: str | None = None, resolved: bool | None = None,
                 area: str | None = None, level: str | None = None) -> QuerySet:
    cases = visible_cases(actor).filter(is_dispute=True)
    if area:
        cases = cases.filter(area_path__startswith=area_path(area))
    rows = Dispute.objects.filter(case__in=cases)
    if dispute_type:
        rows = rows.filter(dispute_type=dispute_type)
    if resolved is True:
        rows = rows.filter(resolved_at__isnull=False)
    elif resolved is False:
        rows = rows.filter(resolved_at__isnull=True)
    if level:
        rows = rows.filter(resolution_level=level)  # grid … city, court, arbitration
    return (rows.select_related("case", "case__category", "case__grid", "case__assignee")
            .defer("case__grid__geometry").order_by("-case__created_at", "-id"))


def dispute_get_for(*, actor, dispute_id: int) -> Dispute:
    dispute = (Dispute.objects.select_related("case", "case__category", "case__grid")
               .defer("case__grid__geometry").filter(pk=dispute_id).first())
    if dispute is None or not may_view(actor, dispute.case):
        raise NotFound()
    return dispute


def dispute_detail(*, dispute: Dispute) -> tuple[list, list]:
    parties = list(dispute.parties.select_related("person").order_by("side", "id"))
    sessions = list(dispute.sessions.select_related("mediator").order_by("held_at", "id"))
    return parties, sessions


def case_actions(*, actor, case: Case, now=None) -> list[str]:
    """The transitions the actor may try on the case now (for buttons; the services
    check again). Uses the actor's cached scope only: no queries."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    now = now or timezone.now()
    work, manage = has(actor, WORK, case.area_path), has(actor, MANAGE, case.area_path)
    reporter = case.reporter_id == actor.pk
    status, dup = case.status, case.duplicate_of_id is not None
    done = status in (Status.RESOLVED, Status.VERIFIED)
    staff = work or manage
    rules = {
        "accept": staff and status in (Status.REPORTED, Status.REOPENED) and not dup,
        "arrive": staff and status in (Status.ACCEPTED, Status.DISPATCHED),
        "resolve": staff and status in (Status.ACCEPTED, Status.ON_SITE, Status.DISPATCHED),
        "dispatch": manage and not dup and status in (Status.REPORTED, Status.ACCEPTED,
                                                      Status.ON_SITE, Status.REOPENED,
                                                      Status.DISPATCHED),
        "assign": manage and not dup and status in (Status.REPORTED, Status.REOPENED,
                                                    Status.ACCEPTED, Status.ON_SITE),
        "verify": manage and status == Status.RESOLVED,
        "close": manage and (done or status in OPEN_STATUSES),
        "reject": staff and status in (Status.REPORTED, Status.ACCEPTED, Status.REOPENED),
        "escalate": staff and status in OPEN_STATUSES and case.current_level != "city",
        "reopen": not dup and (done or status == Status.CLOSED) and (
            manage or (reporter and case.reopen_until is not None and now <= case.reopen_until)),
        "rate": reporter and (done or status == Status.CLOSED) and case.rating is None,
        "duplicate_confirm": manage and dup and case.duplicate_confirmed is None,
        "duplicate_split": manage and dup and status in OPEN_STATUSES,
    }
    return [name for name, ok in rules.items() if ok]


__all__ = [
    "CaseFilters", "category_list", "visible_cases", "case_list", "case_get_for", "case_timeline",
    "case_tasks", "photo_get_for", "my_tasks", "department_inbox", "task_get_for", "overdue_list",
    "dispute_list", "dispute_get_for", "dispute_detail", "case_actions",
]


# Roll-up reads for the supervision app's worker (zhili.governance.kpis): the
# system's own aggregation, not an actor's page, so not scoped; what it yields
# are sums per area and day, which supervision scopes when it shows them.

def cases_for_rollup(*, area_path: str | None = None, start: datetime | None = None,
                     end: datetime | None = None) -> QuerySet:
    """Cases whose grid path is `area_path` (all when None), created in [start, end)."""
    rows = Case.objects.all()
    if area_path is not None:
        rows = rows.filter(area_path=area_path)
    if start is not None:
        rows = rows.filter(created_at__gte=start)
    if end is not None:
        rows = rows.filter(created_at__lt=end)
    return rows.order_by()


def case_reopened_q() -> Exists:
    """True for a case that was ever reopened (an annotation on cases)."""
    return Exists(CaseEvent.objects.filter(case=OuterRef("pk"), kind="reopened"))


def case_changes(*, after_id: int, limit: int) -> list[tuple[int, str, datetime]]:
    """(event id, case area path, case created_at) of case events after `after_id`."""
    return list(CaseEvent.objects.filter(id__gt=after_id).order_by("id")
                .values_list("id", "case__area_path", "case__created_at")[:limit])

MAP_FIELDS = ("id", "tracking_no", "status", "version", "lon", "lat", "due_at", "area_path", "assignee_id",
              "category__name", "category__name_en")


def open_case_points(*, actor, limit: int = 2000, now=None, viewport=None,
                     ids=None) -> list[dict]:
    """The newest open cases the actor may see, as map points (no bodies, no persons);
    those in a map's `viewport` (geo.viewport.Viewport) or of the given `ids` only.

    One SELECT over the open-queue index (`case_open_area_recent`) for a scoped
    actor: its cost follows the area's backlog, not the city's history (the
    cockpit's live-case layer, bench/layers.py).
    """
    cases = case_list(actor=actor, filters=CaseFilters(open=True), now=now)
    if viewport is not None:
        cases = viewport.within(cases)
    if ids is not None:
        cases = cases.filter(id__in=list(ids))
    rows = list(cases.values(*MAP_FIELDS)[:limit])
    labels = dict(Status.choices)
    for row in rows:
        row["status_label"] = str(labels.get(row["status"], row["status"]))
    return rows


def open_case_cells(*, actor, viewport, now=None) -> list:
    """The open cases the actor may see in the viewport, counted per screen cell
    (geo.viewport.cluster_cells) with how many of each are overdue."""
    from zhili.geo.viewport import cluster_cells

    now = now or timezone.now()
    cases = case_list(actor=actor, filters=CaseFilters(open=True), now=now)
    return cluster_cells(cases, viewport, extra={
        "overdue": Count("id", filter=Q(due_at__lt=now))})


def busy_assignees(*, user_ids) -> set[int]:
    """Of these users, those on site at a case now (not free for another dispatch)."""
    return set(Case.objects.filter(assignee_id__in=list(user_ids), status=Status.ON_SITE)
               .values_list("assignee_id", flat=True))
