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
from zhili.governance import selectors, services
from zhili.governance.views.common import HANDLE_TASK, is_htmx, require_somewhere, run

TASK_ACTIONS = {
    "accept": (services.department_task_accept, _("Task accepted.")),
    "complete": (services.department_task_complete, _("Task completed.")),
    "return": (services.department_task_return, _("Task returned to the street centre.")),
}


@login_required
def inbox(request):
    require_somewhere(request.user, HANDLE_TASK)
    tasks = list(selectors.department_inbox(actor=request.user)[:200])
    template = "governance/partials/inbox.html" if is_htmx(request) else "governance/inbox.html"
    return render(request, template, {"tasks": tasks, "now": timezone.now()})


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
    return run(request, back, lambda: call(actor=request.user, task=task,
                                           note=request.POST.get("note", "")),
               success=str(success))
