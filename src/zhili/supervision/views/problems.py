"""The problem lists: filters, a problem's loop with its actions, raising one by hand."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhili.core.errors import ApplicationError, NotFound
from zhili.supervision.access import MANAGE_PROBLEMS
from zhili.supervision.events import event_label
from zhili.supervision.kinds import KIND_CHOICES
from zhili.supervision.models import ProblemStatus
from zhili.supervision.problems import selectors
from zhili.supervision.problems import services as svc
from zhili.supervision.views.common import act, error_text, viewer

PAGE_SIZE = 50
ACTIONS = {
    "start": (svc.problem_start, _("Rectification started.")),
    "record_step": (svc.problem_record_step, _("Step recorded.")),
    "submit": (svc.problem_submit, _("Submitted for verification.")),
    "verify": (svc.problem_verify, _("Verified.")),
    "return": (svc.problem_return, _("Returned to the owner.")),
    "close": (svc.problem_close, _("Closed.")),
}
WITH_EVIDENCE = {"record_step", "submit"}


def _filters(request) -> selectors.ProblemFilters:
    g = request.GET
    return selectors.ProblemFilters(list_type=g.get("list") or None, status=g.get("status") or None,
                                    area=g.get("area") or None, overdue=g.get("overdue") == "1")


@login_required
def problem_list(request, *, error: str = "", status: int = 200):
    actor = viewer(request)
    try:
        rows = selectors.problem_list(actor=actor, filters=_filters(request))
    except ApplicationError as exc:
        error, status = error or error_text(exc), exc.status
        rows = selectors.problem_list(actor=actor)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "supervision/problem_list.html", {
        "page": page, "problems": page.object_list, "kinds": KIND_CHOICES,
        "statuses": ProblemStatus.choices, "g": request.GET, "today": timezone.localdate(),
        "may_raise": not actor.scope(MANAGE_PROBLEMS).empty, "error": error,
        "query": request.GET.urlencode(),
    }, status=status)


@login_required
@require_POST
def problem_raise(request):
    actor = viewer(request)
    p = request.POST
    created = {}

    def action():
        created["problem"] = svc.problem_raise(
            actor=actor, list_type=p.get("list_type"), title=p.get("title"), area=p.get("area"),
            deadline=p.get("deadline"), owner_department=p.get("owner_department") or None,
            owner_area=p.get("owner_area") or None, description=p.get("description", ""),
            steps=p.get("steps", ""), evidence=request.FILES.getlist("evidence"))

    try:
        action()
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from None
        return problem_list(request, error=error_text(exc), status=exc.status)
    return redirect(f"/supervision/problems/{created['problem'].number}/")


def _problem(request, number):
    try:
        return selectors.problem_get_for(actor=viewer(request), number=number)
    except NotFound:
        raise Http404 from None


@login_required
def problem_detail(request, number: str, *, error: str = "", status: int = 200):
    problem = _problem(request, number)
    events = selectors.problem_timeline(problem=problem)
    for event in events:
        event.label = event_label(event.kind)
    return render(request, "supervision/problem_detail.html", {
        "problem": problem, "events": events, "error": error,
        "actions": selectors.problem_actions(actor=request.user, problem=problem),
        "overdue": problem.overdue(),
    }, status=status)


@login_required
@require_POST
def problem_act(request, number: str, action: str):
    if action not in ACTIONS:
        raise Http404
    problem = _problem(request, number)
    service, success = ACTIONS[action]
    kwargs = dict(actor=request.user, problem=problem, version=request.POST.get("version"),
                  note=request.POST.get("note", ""))
    if action in WITH_EVIDENCE:
        kwargs["evidence"] = request.FILES.getlist("evidence")
    return act(request, f"/supervision/problems/{problem.number}/", lambda: service(**kwargs),
               success=success,
               page=lambda error, status: problem_detail(request, number, error=error,
                                                         status=status))


@login_required
def evidence_file(request, evidence_id: int):
    try:
        row = selectors.evidence_get_for(actor=viewer(request), evidence_id=evidence_id)
    except NotFound:
        raise Http404 from None
    return FileResponse(row.file.open("rb"), filename=row.name, content_type=row.content_type,
                        as_attachment=row.content_type == "application/pdf")
