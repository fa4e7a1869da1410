"""Pages for grid workers and the street governance centre: tasks, queue, overdue, a case.

Every transition is a form posting to /governance/cases/<id>/<action>/ with the
case version the page showed; a stale version or a transition the state does
not allow comes back as a message, and nothing is overwritten.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from zhili.accounts.models import Department, RoleAssignment
from zhili.accounts.roles import Role
from zhili.core.errors import ApplicationError, NotFound, PermissionDenied
from zhili.core.forms import form_errors
from zhili.governance import selectors, services
from zhili.governance.access import department_pairs
from zhili.governance.models import Board, Outcome, Status
from zhili.governance.services.departments import MAX_DUE_HOURS
from zhili.governance.services.privacy import may_reveal_contact
from zhili.governance.views.common import (
    HANDLE_TASK,
    MANAGE,
    VIEW,
    WORK,
    area_choices,
    attribute_answers,
    error_text,
    holds,
    is_htmx,
    mark_overdue,
    require_somewhere,
    run,
    timeline_rows,
)
from zhili.governance.views.department import failed_action
from zhili.governance.views.maps import map_context
from zhili.registry.masking import mask_phone

PAGE_SIZE = 50


@login_required
def home(request):
    """/governance/: each role's own starting page."""
    user = request.user
    if holds(user, MANAGE):
        return redirect("governance:queue")
    if holds(user, WORK):
        return redirect("governance:tasks")
    if holds(user, HANDLE_TASK):
        return redirect("governance:inbox")
    if holds(user, VIEW):
        return redirect("governance:figures")
    return redirect("governance:my_cases")


@login_required
def tasks(request):
    if not (holds(request.user, WORK) or holds(request.user, MANAGE)):
        raise Http404
    cases = mark_overdue(selectors.my_tasks(actor=request.user), timezone.now())
    template = "governance/partials/case_list.html" if is_htmx(request) else "governance/tasks.html"
    return render(request, template, {"cases": cases, "now": timezone.now(), "phone": True})


def _filters(request) -> tuple[selectors.CaseFilters, dict]:
    get = request.GET
    chosen = {
        "status": [s for s in get.getlist("status") if s in Status.values],
        "category": get.get("category", "").strip(),
        "board": get.get("board", "") if get.get("board", "") in Board.values else "",
        "area": get.get("area", "").strip(),
        "q": get.get("q", "").strip().upper(),
        "all": get.get("all") == "1",
    }
    filters = selectors.CaseFilters(
        status=chosen["status"] or None,
        open=None if chosen["status"] or chosen["all"] or chosen["q"] else True,
        category=chosen["category"] or None, board=chosen["board"] or None,
        area=chosen["area"] or None, tracking_no=chosen["q"] or None,
    )
    return filters, chosen


def _list_page(request, *, title: str, rows_for, template: str, filters_shown: bool):
    require_somewhere(request.user, VIEW)
    filters, chosen = _filters(request)
    error = ""
    try:
        rows = rows_for(filters)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    except ApplicationError as exc:
        error, page = error_text(exc), Paginator([], PAGE_SIZE).get_page(1)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": title, "page": page, "cases": mark_overdue(page.object_list, timezone.now()),
        "chosen": chosen, "error": error, "now": timezone.now(), "filters_shown": filters_shown,
        "statuses": Status.choices, "boards": Board.choices,
        "categories": selectors.category_list() if filters_shown else [],
        "areas": area_choices(request.user) if filters_shown else [],
        "query": query.urlencode(),
    }
    if is_htmx(request):
        return render(request, "governance/partials/case_table.html", context)
    return render(request, template, context)


@login_required
def queue(request):
    return _list_page(request, title=_("Case queue"), template="governance/queue.html",
                      filters_shown=True,
                      rows_for=lambda f: selectors.case_list(actor=request.user, filters=f))


@login_required
def overdue(request):
    return _list_page(request, title=_("Overdue cases"), template="governance/queue.html",
                      filters_shown=False,
                      rows_for=lambda f: selectors.overdue_list(actor=request.user))


def _case_for(request, case_id):
    try:
        return selectors.case_get_for(actor=request.user, case_id=case_id)
    except NotFound:
        raise Http404 from None


def ancestor_paths(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def assignable_workers(case):
    """Grid workers and leaders whose area holds the case's grid."""
    rows = (RoleAssignment.objects.filter(role__in=[Role.GRID_WORKER, Role.GRID_LEADER],
                                          area_path__in=ancestor_paths(case.area_path),
                                          user__is_active=True)
            .select_related("user").order_by("user__username"))
    seen, users = set(), []
    for assignment in rows[:100]:
        if assignment.user_id not in seen:
            seen.add(assignment.user_id)
            users.append(assignment.user)
    return users


# The inputs of each action's form (case.html), for errors beside them and kept values.
ACTION_INPUTS = {
    "accept": ("note",), "arrive": ("note",), "resolve": ("note", "photos", "fixed"),
    "escalate": ("reason",), "assign": ("assignee",),
    "dispatch": ("lead", "cooperating", "instructions", "due_hours"),
    "verify": ("note",), "close": ("outcome", "note"), "reject": ("reason",),
    "reopen": ("reason",), "duplicate_confirm": (), "duplicate_split": (),
}


def case_holder(case, tasks) -> dict:
    """Who holds the case now: the departments it went to, else the level it was escalated
    to, else its grid worker (who stays named as the worker on the grid)."""
    from zhili.governance.models import DepartmentTask, Level

    live = [t for t in tasks if t.status in (DepartmentTask.TaskStatus.OPEN,
                                              DepartmentTask.TaskStatus.ACCEPTED)]
    if case.status == Status.DISPATCHED and live:
        live.sort(key=lambda t: t.role != DepartmentTask.Role.LEAD)
        return {"kind": "departments", "tasks": live}
    if case.current_level != Level.GRID and case.status not in (Status.CLOSED, Status.REJECTED):
        return {"kind": "level", "level": case.get_current_level_display()}
    return {"kind": "worker", "user": case.assignee}


@login_required
def case_detail(request, case_id):
    return case_page(request, _case_for(request, case_id))


@login_required
@require_POST
def case_contact(request, case_id):
    """Show the reporter's contact in full for the purpose given; the service audits it."""
    case = _case_for(request, case_id)
    try:
        services.case_contact_reveal(actor=request.user, case=case,
                                     purpose=request.POST.get("purpose", ""))
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    except ApplicationError as exc:
        return case_page(request, case, status=422, contact_error=error_text(exc),
                         contact_purpose=request.POST.get("purpose", "")[:200])
    response = case_page(request, case, contact_shown=True)
    response["Cache-Control"] = "no-store"
    return response


def case_page(request, case, *, failed: str = "", errors=None, status: int = 200,
              **extra):
    """The case page; after a refused action, its form open with the errors and what was typed."""
    user = request.user
    staff = user.has_perm_in(VIEW, case.area_path)
    my_departments = {d for d, path in department_pairs(user) if case.area_path.startswith(path)}
    if not staff and not my_departments:
        if case.reporter_id == user.pk or case.duplicates.filter(reporter=user).exists():
            return redirect("governance:my_case", case.tracking_no)
        raise Http404
    events = timeline_rows(selectors.case_timeline(actor=user, case=case), case, user)
    actions = selectors.case_actions(actor=user, case=case)
    if is_htmx(request):
        return render(request, "governance/partials/case_progress.html",
                      {"case": case, "events": events, "seen_version": request.GET.get("v")})
    tasks = selectors.case_tasks(case=case)
    for task in tasks:
        task.mine = task.department_id in my_departments
        task.failed_action = failed_action(failed, task)
    context = {
        "case": case, "events": events, "actions": actions, "tasks": tasks,
        "holder": case_holder(case, tasks), "answers": attribute_answers(case),
        "failed": failed, "errors": errors or {}, "kept": request.POST if failed else {},
        "max_due_hours": MAX_DUE_HOURS,
        "workers": assignable_workers(case) if "assign" in actions else [],
        "departments": Department.objects.order_by("code") if "dispatch" in actions else [],
        "outcomes": Outcome.choices, "now": timezone.now(),
        "show_reporter": not case.anonymous,
        "contact_phone_masked": mask_phone(case.contact_phone),
        "may_reveal_contact": may_reveal_contact(user, case),
        **extra,
        "followers": case.duplicates.count(),
        **map_context(case.grid, (case.lon, case.lat)),
    }
    if "dispatch" in actions:
        context["default_lead"] = case.category.lead_department_id
        context["default_cooperating"] = set(case.category.departments.values_list("id", flat=True))
        if failed == "dispatch":
            posted = request.POST
            context["default_lead"] = next((d.pk for d in context["departments"]
                                            if d.code == posted.get("lead")), None)
            context["default_cooperating"] = {d.pk for d in context["departments"]
                                              if d.code in posted.getlist("cooperating")}
    return render(request, "governance/case.html", context, status=status)


def _int_or_raw(text: str):
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


ACTIONS = {
    "accept": (lambda r, c, v: services.case_accept(actor=r.user, case=c, version=v,
                                                    note=r.POST.get("note", "")),
               gettext_lazy("Accepted. The clock for arriving on site is running.")),
    "arrive": (lambda r, c, v: services.case_arrive(
        actor=r.user, case=c, version=v, lon=r.POST.get("lon") or None,
        lat=r.POST.get("lat") or None, crs=r.POST.get("crs") or "wgs84",
        note=r.POST.get("note", "")), gettext_lazy("Checked in on site.")),
    "resolve": (lambda r, c, v: services.case_resolve(
        actor=r.user, case=c, version=v, note=r.POST.get("note", ""),
        photos=r.FILES.getlist("photos"), fixed=r.POST.get("fixed", "yes") != "no"),
        gettext_lazy("Resolved. The reporter is asked to rate the result.")),
    "escalate": (lambda r, c, v: services.case_escalate(actor=r.user, case=c, version=v,
                                                        reason=r.POST.get("reason", "")),
                 gettext_lazy("Escalated one level up.")),
    "assign": (lambda r, c, v: services.case_assign(actor=r.user, case=c, version=v,
                                                    assignee=_int_or_raw(r.POST.get("assignee"))),
               gettext_lazy("Assigned to the worker.")),
    "dispatch": (lambda r, c, v: services.case_dispatch_departments(
        actor=r.user, case=c, version=v, lead=r.POST.get("lead", ""),
        cooperating=[d for d in r.POST.getlist("cooperating") if d != r.POST.get("lead")],
        instructions=r.POST.get("instructions", ""),
        due_hours=_int_or_raw(r.POST.get("due_hours"))), gettext_lazy("Dispatched to the departments.")),
    "verify": (lambda r, c, v: services.case_verify(actor=r.user, case=c, version=v,
                                                    note=r.POST.get("note", "")),
               gettext_lazy("Verified.")),
    "close": (lambda r, c, v: services.case_close(actor=r.user, case=c, version=v,
                                                  outcome=r.POST.get("outcome", ""),
                                                  note=r.POST.get("note", "")), gettext_lazy("Closed.")),
    "reject": (lambda r, c, v: services.case_reject(actor=r.user, case=c, version=v,
                                                    reason=r.POST.get("reason", "")),
               gettext_lazy("Rejected; the reporter is told why.")),
    "reopen": (lambda r, c, v: services.case_reopen(actor=r.user, case=c, version=v,
                                                    reason=r.POST.get("reason", "")),
               gettext_lazy("Reopened.")),
    "duplicate_confirm": (lambda r, c, v: services.case_duplicate_confirm(actor=r.user, case=c,
                                                                          version=v),
                          gettext_lazy("Confirmed as a duplicate.")),
    "duplicate_split": (lambda r, c, v: services.case_duplicate_split(actor=r.user, case=c,
                                                                      version=v),
                        gettext_lazy("Split: the case is handled on its own.")),
}


@login_required
@require_POST
def case_action(request, case_id, action):
    if action not in ACTIONS:
        raise Http404
    case = _case_for(request, case_id)
    call, success = ACTIONS[action]
    version = _int_or_raw(request.POST.get("version"))
    back = reverse("governance:case", args=[case.pk])
    return run(request, back, lambda: call(request, case, version), success=str(success),
               data=lambda c: {"status": c.status, "version": c.version,
                               "tracking_no": c.tracking_no},
               invalid=lambda exc: case_page(
                   request, case, failed=action, status=422,
                   errors=form_errors(exc, ACTION_INPUTS[action], aliases={"lat": "lon"})))


@login_required
def photo(request, photo_id):
    try:
        found = selectors.photo_get_for(actor=request.user, photo_id=photo_id)
    except NotFound:
        raise Http404 from None
    try:
        handle = found.image.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response

