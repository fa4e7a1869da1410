"""Problem-list reads, scoped: the supervisors of the area, and each problem's owners;
the KPI rules that raise problems, as they apply to the reader's area."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.accounts.selectors import department_posts
from zhili.core.errors import NotFound, invalid
from zhili.geo.selectors import ancestor_paths, node_by_code
from zhili.supervision.access import VIEW, may_view
from zhili.supervision.kinds import KINDS
from zhili.supervision.models import Problem, ProblemRule, ProblemStatus
from zhili.supervision.models.problems import OPEN_PROBLEM_STATUSES


@dataclass
class ProblemFilters:
    list_type: str | None = None
    status: str | None = None  # a status, or "open" for every open one
    area: str | None = None  # an area code: problems in its subtree
    overdue: bool = False
    owner: str | None = None  # "me", a department code, or the code of an owning area unit


def visible_problems(actor) -> QuerySet:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Problem.objects.none()
    condition = actor.scope(VIEW).q() if not actor.scope(VIEW).empty else Q(pk__in=[])
    for department_id, path in department_posts(actor, VIEW):
        condition |= Q(owner_department_id=department_id, area_path__startswith=path)
    return Problem.objects.filter(condition)


def problem_list(*, actor, filters: ProblemFilters | None = None, today=None) -> QuerySet:
    f = filters or ProblemFilters()
    rows = visible_problems(actor)
    if f.list_type:
        if f.list_type not in KINDS:
            raise invalid("list_type", _("one of: %(v)s") % {"v": ", ".join(KINDS)})
        rows = rows.filter(list_type=f.list_type)
    if f.status:
        if f.status == "open":
            rows = rows.filter(status__in=OPEN_PROBLEM_STATUSES)
        elif f.status in ProblemStatus.values:
            rows = rows.filter(status=f.status)
        else:
            raise invalid("status", _("one of: %(v)s")
                          % {"v": ", ".join(["open", *ProblemStatus.values])})
    if f.area:
        node = node_by_code(f.area)
        if node is None:
            raise invalid("area", _("unknown area code"))
        rows = rows.filter(area_path__startswith=node.path)
    if f.owner:
        rows = rows.filter(_owned_by(actor, f.owner))
    if f.overdue:
        rows = rows.filter(status__in=OPEN_PROBLEM_STATUSES,
                           deadline__lt=today or timezone.localdate())
    return (rows.select_related("area", "owner_department", "owner_area")
            .defer("area__geometry", "owner_area__geometry").order_by("deadline", "-id"))


def _owned_by(actor, owner: str) -> Q:
    """Problems whose owner is `owner`: "me" (what `access.is_owner` says, as a filter),
    a department by its code, or an area unit by its code."""
    from zhili.accounts.models import Department
    from zhili.supervision.access import MANAGE_PROBLEMS

    if owner == "me":
        mine = Q(owner_department__isnull=True) & actor.scope(MANAGE_PROBLEMS).q(
            "owner_area__path") if not actor.scope(MANAGE_PROBLEMS).empty else Q(pk__in=[])
        for department_id, path in department_posts(actor, VIEW):
            mine |= Q(owner_department_id=department_id, area_path__startswith=path)
        return mine
    department = Department.objects.filter(code=owner).only("pk").first()
    if department is not None:
        return Q(owner_department_id=department.pk)
    node = node_by_code(owner)
    if node is None:
        raise invalid("owner", _("me, a department code or an area code"))
    return Q(owner_area__path=node.path, owner_department__isnull=True)


def problem_get_for(*, actor, number: str) -> Problem:
    """One problem the actor may see; the same 404 for missing and not yours."""
    problem = (Problem.objects.select_related("area", "owner_department", "owner_area", "rule")
               .defer("area__geometry", "owner_area__geometry")
               .filter(number=str(number or "")).first())
    if problem is None or not may_view(actor, problem):
        raise NotFound()
    return problem


def problem_timeline(*, problem: Problem):
    return list(problem.events.select_related("actor").prefetch_related("evidence"))


def problem_actions(*, actor, problem: Problem) -> list[str]:
    """The steps the actor may try now (for buttons; the services check again)."""
    from zhili.supervision.access import is_owner, is_supervisor

    owner, supervisor = is_owner(actor, problem), is_supervisor(actor, problem)
    s = problem.status
    rules = {
        "start": (owner or supervisor) and s == ProblemStatus.OPEN,
        "record_step": owner and s == ProblemStatus.RECTIFYING,
        "submit": owner and s == ProblemStatus.RECTIFYING,
        "verify": supervisor and s == ProblemStatus.SUBMITTED,
        "return": supervisor and s in (ProblemStatus.SUBMITTED, ProblemStatus.VERIFIED),
        "close": supervisor and s == ProblemStatus.VERIFIED,
    }
    return [name for name, ok in rules.items() if ok]


def evidence_get_for(*, actor, evidence_id: int):
    from zhili.supervision.models import ProblemEvidence

    row = ProblemEvidence.objects.select_related("problem").filter(pk=evidence_id).first()
    if row is None or not may_view(actor, row.problem):
        raise NotFound()
    return row


# -- the KPI rules that raise problems ------------------------------------------------


def visible_rules(actor) -> QuerySet:
    """Rules that apply to some of the actor's area: the whole city's, those on an area
    inside it, and those on an area above it (a district's rule covers its streets)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ProblemRule.objects.none()
    scope = actor.scope(VIEW)
    rows = ProblemRule.objects.select_related("area")
    if scope.everywhere:
        return rows
    if scope.empty:
        return rows.none()
    above = sorted({a for p in scope.paths for a in ancestor_paths(p)[:-1]})
    return rows.filter(Q(area_path="") | scope.q("area_path") | Q(area_path__in=above))


def problem_rule_list(*, actor, active: bool | None = None) -> QuerySet:
    rows = visible_rules(actor)
    if active is not None:
        rows = rows.filter(active=active)
    return rows.order_by("code")


def problem_rule_get_for(*, actor, code: str):
    """The rule, or the same 404 whether it is missing or applies nowhere in the actor's area."""
    rule = visible_rules(actor).filter(code=str(code or "")[:60]).first()
    if rule is None:
        raise NotFound(_("No problem rule %(code)s.") % {"code": code})
    return rule
