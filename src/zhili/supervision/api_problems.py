"""/api/v1/supervision/problems: the problem lists scoped to the caller's area, a
problem with its timeline, raising one by hand, and every step of the closed loop.

Each write is the named service of `problems/services.py` (one transaction, its
timeline event and audit row). A step the status does not allow is a 409
`invalid-transition`, a stale `version` a 409 `conflict`; a problem the caller
may see but not act on a 403, one outside their area the same 404 as a missing
one. Writes that carry evidence take JSON or `multipart/form-data` with up to 6
`evidence` files (images are re-encoded without metadata, or PDFs).

Under /problems/rules: the KPI rules that raise problems (`problem_rule_create`,
`problem_rule_update`, `problem_rule_deactivate`), each audited; an unknown KPI
or any other wrong field is a 422 naming it, an area outside the caller's the
same 404 as a missing one.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from pydantic import Field

from zhili.core import bodies
from zhili.core.errors import PermissionDenied, invalid
from zhili.core.pagination import PageParams, paginate
from zhili.core.schemas import ERRORS, WRITE_ERRORS
from zhili.supervision.access import VIEW
from zhili.supervision.events import event_label
from zhili.supervision.kinds import kind_label
from zhili.supervision.kpis import kpis
from zhili.supervision.models import ProblemStatus
from zhili.supervision.problems import selectors
from zhili.supervision.problems import services as svc
from zhili.supervision.problems.selectors import visible_problems
from zhili.supervision.schemas import (
    ListProblemDetailOut,
    ListProblemPage,
    ListProblemRaiseIn,
    ListProblemRuleIn,
    ListProblemRuleOut,
    ListProblemRulePage,
    ListProblemRulePatch,
    ListProblemStepIn,
)

router = Router(tags=["supervision"])

StatusFilter = Literal[("open", *ProblemStatus.values)]


def _viewer(request):
    """Supervisors see through `view_supervision`, owners through their posts."""
    actor = request.user
    if actor.scope(VIEW).empty and not visible_problems(actor).exists():
        raise PermissionDenied()
    return actor


def _evidence_out(row) -> dict:
    return {"id": row.pk, "name": row.name, "content_type": row.content_type, "size": row.size,
            "url": f"/api/v1/supervision/problems/evidence/{row.pk}"}


def problem_out(problem, today: date | None = None) -> dict:
    return {"number": problem.number, "list_type": problem.list_type,
            "list_name": kind_label(problem.list_type), "title": problem.title,
            "area": problem.area.code, "area_name": problem.area.name,
            "area_path": problem.area_path,
            "owner_department": problem.owner_department.code if problem.owner_department_id
            else None,
            "owner_area": problem.owner_area.code if problem.owner_area_id else None,
            "deadline": problem.deadline, "status": problem.status,
            "overdue": problem.overdue(today), "returned_count": problem.returned_count,
            "rule": problem.rule.code if problem.rule_id else None,
            "created_at": problem.created_at, "updated_at": problem.updated_at,
            "closed_at": problem.closed_at, "version": problem.version}


def detail_out(request, number: str) -> dict:
    problem = selectors.problem_get_for(actor=request.user, number=number)
    events = selectors.problem_timeline(problem=problem)
    return {**problem_out(problem), "description": problem.description, "steps": problem.steps,
            "actions": selectors.problem_actions(actor=request.user, problem=problem),
            "timeline": [{"kind": e.kind, "label": event_label(e.kind),
                          "actor": e.actor.get_username() if e.actor_id else None,
                          "note": e.note, "at": e.at,
                          "evidence": [_evidence_out(x) for x in e.evidence.all()]}
                         for e in events]}


class ProblemQuery(PageParams):
    list_type: str | None = Field(None, max_length=40, description="one of the eight lists")
    status: StatusFilter | None = Field(None, description="a status, or open: not yet put right")
    area: str | None = Field(None, max_length=20, description="an area code: it and below")
    owner: str | None = Field(None, max_length=40,
                              description="me, a department code, or an owning area unit's code")
    overdue: bool = Field(False, description="only open problems past their deadline")


@router.get("", response={200: ListProblemPage, **ERRORS},
            summary="Problems of my area (or that I own), nearest deadline first")
def problems_list(request, q: Query[ProblemQuery]):
    actor = _viewer(request)
    filters = selectors.ProblemFilters(list_type=q.list_type or None, status=q.status,
                                       area=q.area or None, overdue=q.overdue,
                                       owner=q.owner or None)
    page = paginate(selectors.problem_list(actor=actor, filters=filters).select_related("rule"),
                    q)
    today = timezone.localdate()
    page["items"] = [problem_out(p, today) for p in page["items"]]
    return page


# -- bodies that may carry evidence ---------------------------------------------


def parse_body(request, schema):
    """The body as `schema` (JSON or form fields) and any uploaded `evidence` files."""
    if not bodies.is_form(request):
        return bodies.validated(schema, bodies.json_object(request)), []
    data = {k: request.POST.get(k) for k in request.POST}
    return bodies.validated(schema, data), request.FILES.getlist("evidence")


def body_doc(schema, *, evidence: bool) -> dict:
    return bodies.body_doc(schema, files="evidence" if evidence else None,
                           files_doc="up to 6 photos or PDFs, 10 MB each; photos re-encoded, "
                                     "metadata stripped")


@router.post("", response={201: ListProblemDetailOut, **WRITE_ERRORS},
             summary="Put a problem on a list by hand (supervisors of the area)",
             openapi_extra=body_doc(ListProblemRaiseIn, evidence=True))
def problem_raise(request):
    data, files = parse_body(request, ListProblemRaiseIn)
    problem = svc.problem_raise(
        actor=request.user, list_type=data.list_type, title=data.title, area=data.area,
        deadline=data.deadline, owner_department=data.owner_department or None,
        owner_area=data.owner_area or None, description=data.description, steps=data.steps,
        evidence=files)
    return Status(201, detail_out(request, problem.number))


@router.get("/evidence/{int:evidence_id}", response={200: None, **ERRORS},
            openapi_extra={"responses": {200: {"description": "the file (JPEG or PDF)"}}},
            summary="An evidence file of a problem I may see")
def evidence_file(request, evidence_id: int):
    row = selectors.evidence_get_for(actor=request.user, evidence_id=evidence_id)
    response = FileResponse(row.file.open("rb"), filename=row.name,
                            content_type=row.content_type,
                            as_attachment=row.content_type == "application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- the KPI rules that raise problems (before /{number}: "rules" is no problem number) --


def rule_out(actor, rule) -> dict:
    kpi = kpis().get(rule.kpi)
    return {"code": rule.code, "name": rule.name, "name_en": rule.name_en,
            "list_type": rule.list_type, "list_name": kind_label(rule.list_type),
            "kpi": rule.kpi, "kpi_name": str(kpi.name) if kpi else rule.kpi,
            "comparison": rule.comparison, "threshold": rule.threshold, "period": rule.period,
            "periods": rule.periods, "area": rule.area.code if rule.area_id else None,
            "area_name": rule.area.name if rule.area_id else None,
            "area_path": rule.area_path, "area_level": rule.area_level,
            "deadline_days": rule.deadline_days, "active": rule.active,
            "may_edit": svc.problem_rule_may_edit(actor, rule)}


class RuleQuery(PageParams):
    active: bool | None = Field(None, description="only active (true) or inactive (false)")


@router.get("/rules", response={200: ListProblemRulePage, **ERRORS},
            summary="The KPI rules that raise problems in my area (the city's, my area's, "
                    "and those of the areas above it)")
def rules_list(request, q: Query[RuleQuery]):
    actor = request.user
    if actor.scope(VIEW).empty:
        raise PermissionDenied()
    page = paginate(selectors.problem_rule_list(actor=actor, active=q.active), q)
    page["items"] = [rule_out(actor, r) for r in page["items"]]
    return page


@router.post("/rules", response={201: ListProblemRuleOut, **ERRORS},
             summary="Set a KPI rule that raises problems (manage_problem_rules over its "
                     "area; over the whole city for a city-wide rule)")
def rule_create(request, payload: ListProblemRuleIn):
    rule = svc.problem_rule_create(actor=request.user, **payload.dict())
    return Status(201, rule_out(request.user, rule))


@router.get("/rules/{code}", response={200: ListProblemRuleOut, **ERRORS},
            summary="A KPI rule that raises problems")
def rule_detail(request, code: str):
    return rule_out(request.user, selectors.problem_rule_get_for(actor=request.user, code=code))


@router.patch("/rules/{code}", response={200: ListProblemRuleOut, **ERRORS},
              summary="Change a KPI rule (only the fields sent; its code cannot change; "
                      "`active: false` deactivates it)")
def rule_update(request, code: str, payload: ListProblemRulePatch):
    rule = selectors.problem_rule_get_for(actor=request.user, code=code)
    rule = svc.problem_rule_update(actor=request.user, rule=rule,
                                   **payload.dict(exclude_unset=True))
    return rule_out(request.user, selectors.problem_rule_get_for(actor=request.user,
                                                                 code=rule.code))


@router.post("/rules/{code}/deactivate", response={200: ListProblemRuleOut, **ERRORS},
             summary="Stop a KPI rule raising problems (those it raised stay on their lists)")
def rule_deactivate(request, code: str):
    rule = selectors.problem_rule_get_for(actor=request.user, code=code)
    svc.problem_rule_deactivate(actor=request.user, rule=rule)
    return rule_out(request.user, selectors.problem_rule_get_for(actor=request.user, code=code))


@router.get("/{number}", response={200: ListProblemDetailOut, **ERRORS},
            summary="A problem with its timeline and the steps I may take")
def problem_detail(request, number: str):
    return detail_out(request, number)


def _act(request, number: str, service, *, evidence: bool = False) -> dict:
    problem = selectors.problem_get_for(actor=request.user, number=number)
    data, files = parse_body(request, ListProblemStepIn)
    kwargs = dict(actor=request.user, problem=problem, version=data.version, note=data.note)
    if evidence:
        kwargs["evidence"] = files
    elif files:
        raise invalid("evidence", _("this step takes no evidence"))
    service(**kwargs)
    return detail_out(request, number)


STEPS = [
    ("start", svc.problem_start, False, "Start rectifying (the owner, or a supervisor)"),
    ("record-step", svc.problem_record_step, True,
     "Record a rectification step with evidence (the owner; a note is required)"),
    ("submit", svc.problem_submit, True, "Submit the rectification with evidence (the owner)"),
    ("verify", svc.problem_verify, False, "Verify a submitted rectification (a supervisor)"),
    ("return", svc.problem_return, False,
     "Return to the owner with the reason (a supervisor; the note is the reason)"),
    ("close", svc.problem_close, False, "Close a verified problem (a supervisor)"),
]


def _register(action: str, service, evidence: bool, summary: str) -> None:
    def endpoint(request, number: str):
        return _act(request, number, service, evidence=evidence)

    endpoint.__name__ = f"problem_{action.replace('-', '_')}"
    router.post(f"/{{number}}/{action}", response={200: ListProblemDetailOut, **WRITE_ERRORS},
                summary=summary, operation_id=f"supervision_problem_{action.replace('-', '_')}",
                openapi_extra=body_doc(ListProblemStepIn, evidence=evidence))(endpoint)


for _step in STEPS:
    _register(*_step)
