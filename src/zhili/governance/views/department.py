"""The department officer's inbox: their department's tasks in their area."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from zhili.core.errors import NotFound
from zhili.core.forms import form_errors
from zhili.governance import selectors, services
from zhili.governance.views.common import HANDLE_TASK, is_htmx, require_somewhere, run

TASK_ACTIONS = {
    "accept": (services.department_task_accept, _("Task accepted.")),
    "complete": (services.department_task_complete, _("Task completed.")),
    "return": (services.department_task_return, _("Task returned to the street centre.")),
}


@login_required
def inbox(request):
    return inbox_page(request)


def inbox_page(request, *, failed: str = "", errors=None, status: int = 200):
    require_somewhere(request.user, HANDLE_TASK)
    tasks = list(selectors.department_inbox(actor=request.user)[:200])
    for task in tasks:
        task.failed_action = failed_action(failed, task)
    template = "governance/partials/inbox.html" if is_htmx(request) else "governance/inbox.html"
    return render(request, template, {"tasks": tasks, "now": timezone.now(), "errors": errors or {},
                                      "kept": request.POST if failed else {}}, status=status)


def failed_action(failed: str, task) -> str:
    """"task:<id>:<action>" names the task form that was refused; its action, else ""."""
    prefix = f"task:{task.pk}:"
    return failed[len(prefix):] if failed.startswith(prefix) else ""


@login_required
@require_POST
def task_action(request, task_id, action):
    if action not in TASK_ACTIONS:
        raise Http404
    try:
        task = selectors.task_get_for(actor=request.user, task_id=task_id)
    except NotFound:
        raise Http404 from None
    call, success = TASK_ACTIONS[action]
    back = request.POST.get("next", "")
    if back != reverse("governance:case", args=[task.case_id]):
        back = reverse("governance:inbox")
    def invalid(exc):
        failed, errors = f"task:{task.pk}:{action}", form_errors(exc, ("note",))
        if back == reverse("governance:inbox"):
            return inbox_page(request, failed=failed, errors=errors, status=422)
        from zhili.governance.views.staff import case_page

        return case_page(request, task.case, failed=failed, errors=errors, status=422)

    return run(request, back, lambda: call(actor=request.user, task=task,
                                           note=request.POST.get("note", "")),
               success=str(success), invalid=invalid)
