"""Problem-list writes: each step of the closed loop a named service call.

open → rectifying → submitted → verified → closed, and submitted (or
verified) → returned → rectifying. Every call: one transaction, the row
locked, the client's `version` checked (409 when stale), the transition
checked (409 `invalid-transition`), the actor checked (owner or supervisor;
404 when the problem is not theirs to see), one timeline event, one audit row.
"""

from __future__ import annotations

import math
import secrets
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from zhili.accounts.models import Department
from zhili.audit.services import audit_record
from zhili.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, invalid
from zhili.core.scoping import scope_of
from zhili.geo.models import LEVEL_DEPTH, Level
from zhili.geo.selectors import node_by_code
from zhili.notifications.services import notify
from zhili.supervision.access import (
    MANAGE_PROBLEM_RULES,
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
from zhili.supervision.kpis import kpi_problem, kpis
from zhili.supervision.models import Problem, ProblemRule
from zhili.supervision.models import ProblemStatus as S
from zhili.supervision.models.problems import RULE_LEVEL_CHOICES
from zhili.supervision.problems.evidence import evidence_prepare, evidence_store, files_discard
from zhili.supervision.problems.selectors import visible_rules

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


# -- the KPI rules that raise problems ------------------------------------------------

RULE_FIELDS = ("name", "name_en", "list_type", "kpi", "comparison", "threshold", "period",
               "periods", "area", "area_level", "deadline_days", "active")
RULE_DEFAULTS = {"name_en": "", "comparison": "below", "period": "week", "periods": 2,
                 "area": None, "area_level": "street", "deadline_days": 14, "active": True}
#: Units whose figures lie in a fixed range, so a threshold outside it could never matter.
UNIT_RANGES = {"share": (0.0, 1.0), "percent": (0.0, 100.0)}
MAX_PERIODS, MAX_DEADLINE_DAYS = 12, 365


def _integer(value, field: str, low: int, high: int, errors: dict) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[field] = _("a whole number from %(low)d to %(high)d") % {"low": low, "high": high}
        return None
    return value


def _threshold(value, kpi, errors: dict) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        errors["threshold"] = _("a number")
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError):
        number = math.inf
    if not math.isfinite(number):
        errors["threshold"] = _("a finite number")
        return None
    bounds = UNIT_RANGES.get(kpi.unit) if kpi is not None else None
    if bounds and not bounds[0] <= number <= bounds[1]:
        errors["threshold"] = _("%(kpi)s is a %(unit)s: a threshold from %(low)g to %(high)g") \
            % {"kpi": kpi.code, "unit": kpi.unit, "low": bounds[0], "high": bounds[1]}
        return None
    return number


def _may_manage_rules(actor, path: str) -> bool:
    """A rule on an area: the permission over it; a whole-city rule: over the whole city."""
    if actor is None:
        return True  # the system (a data migration, the demo)
    if not getattr(actor, "is_authenticated", False):
        return False
    if not path:
        return actor.covers_whole_city(MANAGE_PROBLEM_RULES)
    return has(actor, MANAGE_PROBLEM_RULES, path)


def _refuse_area(actor, path: str) -> None:
    """Outside the actor's area: the same 404 as a missing one; seen but not theirs: 403."""
    if path and not has(actor, VIEW, path):
        raise NotFound()
    if not path:
        raise PermissionDenied(_("Only holders of the permission over the whole city may "
                                 "set a rule for the whole city."))
    raise PermissionDenied(_("You may not set problem rules for this area."))


def problem_rule_check(*, actor, rule: ProblemRule | None = None, **values) -> dict:
    """The rule's fields checked (with `rule`: its current values where not given): a 422
    naming every wrong field, then the area against the actor's scope. Writes nothing;
    the admin form calls it to show the same errors as the API."""
    if actor is not None and scope_of(actor, MANAGE_PROBLEM_RULES).empty:
        raise PermissionDenied(_("Your roles do not allow setting problem rules."))
    unknown = set(values) - set(RULE_FIELDS) - ({"code"} if rule is None else set())
    errors: dict[str, str] = {}
    for name in sorted(unknown):
        errors[name] = _("cannot be changed") if name == "code" else _("not a rule field")
    if rule is None:
        merged = {**RULE_DEFAULTS, **values}
        code = merged.get("code")
        if not isinstance(code, str) or not code or len(code) > 60 or \
                not code.isascii() or not all(ch.isalnum() or ch in "-_" for ch in code):
            errors["code"] = _("letters, digits, - and _ only, at most 60")
        elif ProblemRule.objects.filter(code=code).exists():
            errors["code"] = _("a rule with this code exists already")
    else:
        merged = {name: getattr(rule, name) for name in RULE_FIELDS if name != "area"}
        merged["area"] = rule.area.code if rule.area_id else None
        merged.update(values)
        code = rule.code
    clean: dict = {"code": code}
    for name, limit, required in (("name", 128, True), ("name_en", 200, False)):
        value = merged.get(name)
        value = "" if value is None and not required else value
        if not isinstance(value, str) or "\x00" in value or len(value.strip()) > limit or \
                (required and not value.strip()):
            errors[name] = (_("required, at most %(n)d characters") if required
                            else _("at most %(n)d characters")) % {"n": limit}
        else:
            clean[name] = value.strip()
    if merged.get("list_type") not in KINDS:
        errors["list_type"] = _("one of: %(v)s") % {"v": ", ".join(KINDS)}
    else:
        clean["list_type"] = merged["list_type"]
    kpi_code, kpi = merged.get("kpi"), None
    why = kpi_problem(kpi_code, scalar=True) if isinstance(kpi_code, str) and kpi_code \
        else _("a KPI code")
    if why:
        errors["kpi"] = why
    else:
        kpi, clean["kpi"] = kpis()[kpi_code], kpi_code
    if merged.get("comparison") not in ProblemRule.Comparison.values:
        errors["comparison"] = _("below or above")
    else:
        clean["comparison"] = merged["comparison"]
    # The range depends on the KPI: with an unknown KPI only finiteness is checked.
    clean["threshold"] = _threshold(merged.get("threshold"), kpi, errors)
    if merged.get("period") not in ProblemRule.Period.values:
        errors["period"] = _("week or month")
    else:
        clean["period"] = merged["period"]
    clean["periods"] = _integer(merged.get("periods"), "periods", 1, MAX_PERIODS, errors)
    clean["deadline_days"] = _integer(merged.get("deadline_days"), "deadline_days", 1,
                                      MAX_DEADLINE_DAYS, errors)
    levels = [value for value, _label in RULE_LEVEL_CHOICES]
    level = merged.get("area_level")
    if level not in levels:
        errors["area_level"] = _("one of: %(v)s") % {"v": ", ".join(levels)}
    active = merged.get("active")
    if not isinstance(active, bool):
        errors["active"] = _("true or false")
    clean["active"] = active
    area, node = merged.get("area"), None
    if area not in (None, ""):
        node = node_by_code(area) if isinstance(area, str) else None
        if node is None:
            errors["area"] = _("unknown area code")
        elif level in levels and LEVEL_DEPTH[level] < node.depth:
            errors["area_level"] = _("at or below the area's level (%(level)s)") \
                % {"level": node.level}
    if node is not None and node.level == Level.CITY:
        node = None  # the city itself is the whole city
    if "area_level" not in errors:
        clean["area_level"] = level
    if errors:
        raise ValidationFailed(errors)
    clean["area"], clean["area_path"] = node, node.path if node else ""
    if not _may_manage_rules(actor, clean["area_path"]):
        _refuse_area(actor, clean["area_path"])
    return clean


def _rule_detail(rule: ProblemRule) -> dict:
    return {"name": rule.name, "list_type": rule.list_type, "kpi": rule.kpi,
            "comparison": rule.comparison, "threshold": rule.threshold, "period": rule.period,
            "periods": rule.periods, "area_path": rule.area_path,
            "area_level": rule.area_level, "deadline_days": rule.deadline_days,
            "active": rule.active}


def problem_rule_create(*, actor, code: str, name: str, list_type: str, kpi: str,
                        threshold, **values) -> ProblemRule:
    """A new rule (the other fields default as in RULE_DEFAULTS); refused with a 422 naming
    each wrong field, a 403/404 for an area not the actor's; nothing written then."""
    clean = problem_rule_check(actor=actor, code=code, name=name, list_type=list_type, kpi=kpi,
                               threshold=threshold, **values)
    try:
        with transaction.atomic():
            rule = ProblemRule.objects.create(**clean)
            audit_record(actor=actor, action="problem_rule.create", obj=rule,
                         area_path=rule.area_path, detail=_rule_detail(rule))
    except IntegrityError:
        raise invalid("code", _("a rule with this code exists already")) from None
    return rule


def problem_rule_update(*, actor, rule: ProblemRule, **changes) -> ProblemRule:
    """Change some of a rule's fields (not its code: problems it raised are keyed by it).

    The actor must manage the rule's area as it is and as it will be."""
    with transaction.atomic():
        fresh = (ProblemRule.objects.select_for_update(of=("self",)).select_related("area")
                 .filter(pk=rule.pk).first())
        if fresh is None:
            raise NotFound()
        if actor is not None and scope_of(actor, MANAGE_PROBLEM_RULES).empty:
            raise PermissionDenied(_("Your roles do not allow setting problem rules."))
        if not _may_manage_rules(actor, fresh.area_path):
            if not visible_rules(actor).filter(pk=fresh.pk).exists():
                raise NotFound()  # as if there were no such rule
            raise PermissionDenied(_("You may not change this rule: it covers more than "
                                     "your area."))
        clean = problem_rule_check(actor=actor, rule=fresh, **changes)
        before = _rule_detail(fresh)
        for name, value in clean.items():
            setattr(fresh, name, value)
        fresh.save()
        after = _rule_detail(fresh)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        action = "problem_rule.deactivate" if changed == {"active": [True, False]} \
            else "problem_rule.update"
        audit_record(actor=actor, action=action, obj=fresh, area_path=fresh.area_path,
                     detail={"changed": changed})
    return fresh


def problem_rule_deactivate(*, actor, rule: ProblemRule) -> ProblemRule:
    """Stop the rule raising problems; those it raised stay on their lists."""
    return problem_rule_update(actor=actor, rule=rule, active=False)


def problem_rule_may_edit(actor, rule: ProblemRule) -> bool:
    return actor is not None and _may_manage_rules(actor, rule.area_path)
