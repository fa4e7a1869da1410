"""Problem-list writes: each step of the closed loop a named service call.

open → rectifying → submitted → verified → closed, and submitted (or
verified) → returned → rectifying. Every call: one transaction, the row
locked, the client's `version` checked (409 when stale), the transition
checked (409 `invalid-transition`), the actor checked (owner or supervisor;
404 when the problem is not theirs to see), one timeline event, one audit row.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from zhili.accounts.models import Department
from zhili.audit.services import audit_record
from zhili.core.errors import Conflict, NotFound, PermissionDenied, invalid
from zhili.geo.selectors import node_by_code
from zhili.notifications.services import notify
from zhili.supervision.access import (
    MANAGE_PROBLEMS,
    VIEW,
    has,
    is_owner,
    is_supervisor,
    may_view,
    users_holding,
)
from zhili.supervision.errors import InvalidTransition
from zhili.supervision.events import event_add
from zhili.supervision.kinds import KINDS
from zhili.supervision.models import Problem, ProblemRule
from zhili.supervision.models import ProblemStatus as S
from zhili.supervision.problems.evidence import evidence_prepare, evidence_store, files_discard

TITLE, TEXT = 200, 4000
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _text(value, field: str, *, limit: int, required: bool = False) -> str:
    value = "" if value is None else str(value).replace("\x00", "").strip()
    if required and not value:
        raise invalid(field, _("required"))
    if len(value) > limit:
        raise invalid(field, _("at most %(n)d characters") % {"n": limit})
    return value


def _number(now) -> str:
    day = timezone.localtime(now).strftime("%y%m%d")
    return "PL" + day + "".join(secrets.choice(ALPHABET) for _i in range(6))


def _deadline(value) -> date:
    if isinstance(value, date):
        return value
    parsed = parse_date(str(value or "")) if value else None
    if parsed is None:
        raise invalid("deadline", _("a date, YYYY-MM-DD"))
    return parsed


def _owners(problem: Problem) -> list[int]:
    """Who is told a problem is theirs: the department's officers or the area's managers."""
    if problem.owner_department_id:
        return users_holding(permission="supervision.view_supervision",
                             path=problem.area_path, department_id=problem.owner_department_id)
    path = problem.owner_area.path if problem.owner_area_id else problem.area_path
    return users_holding(permission=MANAGE_PROBLEMS, path=path)


def _tell_owner(problem: Problem, kind: str, title, now) -> None:
    """`title()` is called in each owner's language."""
    notify(recipients=_owners(problem), kind=f"problem.{kind}",
           text=lambda _language: (title(), ""),
           link=f"/supervision/problems/{problem.number}/", obj=problem,
           dedupe=f"problem:{problem.pk}:v{problem.version}:{kind}", now=now)


def problem_raise(*, actor, list_type: str, title: str, area: str, deadline,
                  owner_department: str | None = None, owner_area: str | None = None,
                  description: str = "", steps: str = "", evidence=(), now=None) -> Problem:
    """Put a problem on a list by hand (a supervisor of the area)."""
    now = now or timezone.now()
    if list_type not in KINDS:
        raise invalid("list_type", _("one of: %(v)s") % {"v": ", ".join(KINDS)})
    title = _text(title, "title", limit=TITLE, required=True)
    description = _text(description, "description", limit=TEXT)
    steps = _text(steps, "steps", limit=TEXT)
    node = node_by_code(str(area or "")) if area else None
    if node is None:
        raise invalid("area", _("unknown area code"))
    due = _deadline(deadline)
    department = owner_node = None
    if owner_department:
        department = Department.objects.filter(code=str(owner_department)).first()
        if department is None:
            raise invalid("owner_department", _("unknown department"))
    if owner_area:
        owner_node = node_by_code(str(owner_area))
        if owner_node is None or not owner_node.path.startswith(node.path):
            raise invalid("owner_area", _("an area within the problem's area"))
    if department and owner_node:
        raise invalid("owner_area", _("name a department or an area unit, not both"))
    if not has(actor, MANAGE_PROBLEMS, node.path):
        if not has(actor, VIEW, node.path):
            raise NotFound()  # outside the actor's area: as if there were no such area
        raise PermissionDenied(_("You may not raise problems in this area."))
    prepared = evidence_prepare(evidence)
    stored: list[str] = []
    try:
        with transaction.atomic():
            problem = Problem.objects.create(
                number=_number(now), list_type=list_type, title=title, description=description,
                area=node, area_path=node.path, owner_department=department,
                owner_area=owner_node or (None if department else node), deadline=due,
                steps=steps, created_by=actor, created_at=now, updated_at=now)
            event = event_add(problem=problem, kind="raised", actor=actor, at=now,
                              data={"deadline": due.isoformat()})
            evidence_store(problem=problem, event=event, prepared=prepared, stored=stored,
                           now=now)
            audit_record(actor=actor, action="problem.raise", obj=problem,
                         area_path=problem.area_path,
                         detail={"list_type": list_type, "evidence": len(prepared)})
            _tell_owner(problem, "raised", lambda: _("A problem was put on your list: %(t)s")
                        % {"t": title}, now)
    except BaseException:
        files_discard(stored)
        raise
    return problem


def _lock(problem: Problem, version) -> Problem:
    fresh = (Problem.objects.select_for_update(of=("self",)).select_related("owner_area")
             .filter(pk=problem.pk).first())
    if fresh is None:
        raise NotFound()
    if version is not None:
        try:
            seen = int(version)
        except (TypeError, ValueError):
            raise invalid("version", _("must be an integer")) from None
        if seen != fresh.version:
            raise Conflict(_("The problem changed since you read it (you sent version "
                             "%(seen)s, it is now %(current)s). Reload it and try again.")
                           % {"seen": seen, "current": fresh.version})
    return fresh


def _require(actor, problem: Problem, *, owner: bool = False, supervisor: bool = False) -> None:
    if (owner and is_owner(actor, problem)) or (supervisor and is_supervisor(actor, problem)):
        return
    if may_view(actor, problem):
        raise PermissionDenied(_("Your roles do not allow this action on this problem."))
    raise NotFound()


def _step(*, actor, problem: Problem, version, action: str, states, to: str | None, kind: str,
          note: str, owner: bool = False, supervisor: bool = False, evidence=(),
          note_required: bool = False, now=None) -> Problem:
    now = now or timezone.now()
    note = _text(note, "note", limit=TEXT, required=note_required)
    prepared = evidence_prepare(evidence)
    stored: list[str] = []
    try:
        with transaction.atomic():
            problem = _lock(problem, version)
            _require(actor, problem, owner=owner, supervisor=supervisor)
            if problem.status not in states:
                raise InvalidTransition(action, problem.status)
            fields = ["version", "updated_at"]
            if to is not None:
                problem.status = to
                fields.append("status")
            if kind == "returned":
                problem.returned_count += 1
                fields.append("returned_count")
            if kind == "step":
                problem.steps = (problem.steps + "\n" if problem.steps else "") + note
                fields.append("steps")
            if to == S.CLOSED:
                problem.closed_at = now
                fields.append("closed_at")
            problem.version += 1
            problem.updated_at = now
            problem.save(update_fields=fields)
            event = event_add(problem=problem, kind=kind, actor=actor, note=note, at=now,
                              data={"status": problem.status} if to else {})
            evidence_store(problem=problem, event=event, prepared=prepared, stored=stored,
                           now=now)
            audit_record(actor=actor, action=f"problem.{action}", obj=problem,
                         area_path=problem.area_path, detail={"evidence": len(prepared)})
            if kind == "returned":
                _tell_owner(problem, "returned",
                            lambda: _("Problem %(no)s was returned: rectify again")
                            % {"no": problem.number}, now)
    except BaseException:
        files_discard(stored)
        raise
    return problem


def problem_start(*, actor, problem: Problem, version=None, note: str = "", now=None) -> Problem:
    """The owner starts rectifying."""
    return _step(actor=actor, problem=problem, version=version, action="start",
                 states=(S.OPEN,), to=S.RECTIFYING, kind="rectifying", note=note, owner=True,
                 supervisor=True, now=now)


def problem_record_step(*, actor, problem: Problem, note: str, evidence=(), version=None,
                        now=None) -> Problem:
    """The owner records a rectification step (with evidence) while rectifying."""
    return _step(actor=actor, problem=problem, version=version, action="record_step",
                 states=(S.RECTIFYING,), to=None, kind="step", note=note, owner=True,
                 evidence=evidence, note_required=True, now=now)


def problem_submit(*, actor, problem: Problem, version=None, note: str = "", evidence=(),
                   now=None) -> Problem:
    """The owner says it is put right and asks for verification."""
    return _step(actor=actor, problem=problem, version=version, action="submit",
                 states=(S.RECTIFYING,), to=S.SUBMITTED, kind="submitted", note=note, owner=True,
                 evidence=evidence, now=now)


def problem_verify(*, actor, problem: Problem, version=None, note: str = "", now=None) -> Problem:
    return _step(actor=actor, problem=problem, version=version, action="verify",
                 states=(S.SUBMITTED,), to=S.VERIFIED, kind="verified", note=note,
                 supervisor=True, now=now)


def problem_return(*, actor, problem: Problem, note: str, version=None, now=None) -> Problem:
    """The rectification does not hold: back to the owner, with the reason."""
    return _step(actor=actor, problem=problem, version=version, action="return",
                 states=(S.SUBMITTED, S.VERIFIED), to=S.RECTIFYING, kind="returned", note=note,
                 supervisor=True, note_required=True, now=now)


def problem_close(*, actor, problem: Problem, version=None, note: str = "", now=None) -> Problem:
    return _step(actor=actor, problem=problem, version=version, action="close",
                 states=(S.VERIFIED,), to=S.CLOSED, kind="closed", note=note, supervisor=True,
                 now=now)


def problem_raise_for_breach(*, rule: ProblemRule, area, period_start: date, values: list,
                             now=None) -> Problem | None:
    """The rule's breach for (area, period) as a problem, once: None when it exists already.

    The unique `breach_key` decides, so two workers evaluating the same rule at
    once still make one problem."""
    now = now or timezone.now()
    key = f"{rule.code}:{area.path}:{period_start.isoformat()}"
    if Problem.objects.filter(breach_key=key).exists():
        return None
    shown = ", ".join("—" if v is None else f"{v:g}" for v in values)
    try:
        with transaction.atomic():
            problem = Problem.objects.create(
                number=_number(now), list_type=rule.list_type,
                title=f"{area.name}: {rule.name}"[:TITLE],
                description=_("%(kpi)s was %(cmp)s %(t)g for %(n)d periods from %(start)s: %(v)s")
                % {"kpi": rule.kpi, "cmp": rule.get_comparison_display(), "t": rule.threshold,
                   "n": rule.periods, "start": period_start.isoformat(), "v": shown},
                area=area, area_path=area.path, owner_area=area,
                deadline=timezone.localdate(now) + timedelta(days=rule.deadline_days),
                rule=rule, breach_key=key, created_at=now, updated_at=now)
            event_add(problem=problem, kind="raised_by_rule", at=now,
                      data={"rule": rule.code, "values": values,
                            "period_start": period_start.isoformat()})
            audit_record(actor=None, action="problem.raise_by_rule", obj=problem,
                         area_path=area.path, detail={"rule": rule.code})
            _tell_owner(problem, "raised", lambda: _("A problem was put on your list: %(t)s")
                        % {"t": problem.title}, now)
    except IntegrityError:
        return None  # another worker raised it first
    return problem
