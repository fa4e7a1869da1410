"""What every governance page shares: who may open it, running a service, answering.

Pages are thin like the API: they parse a form, call one service or selector,
and render. A service's ApplicationError becomes a message on the page (or a
problem+json body for the offline outbox, which asks with Accept: JSON); a
case the actor may not see is the same 404 as a missing one.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from zhili.core.errors import ApplicationError

VIEW = "governance.view_case"
WORK = "governance.work_case"
MANAGE = "governance.manage_case"
HANDLE_TASK = "governance.handle_task"


def holds(user, permission: str) -> bool:
    """Whether the user holds the permission anywhere (the page's own list is scoped)."""
    return user.is_authenticated and not user.scope(permission).empty


def require_somewhere(user, permission: str) -> None:
    """A page for a role the user does not have: 404, like a case outside their area."""
    if not holds(user, permission):
        raise Http404


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def error_text(exc: ApplicationError) -> str:
    parts = [str(exc.detail or exc.title)]
    for e in exc.errors:
        parts.append(f"{e.field}: {e.message}")
    return " · ".join(dict.fromkeys(parts))


def problem_response(request, exc: ApplicationError) -> HttpResponse:
    body = exc.as_problem(instance=request.path)
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=exc.status,
                        content_type="application/problem+json")


def run(request, back: str, action, *, success: str, data=None):
    """Call a service; redirect back with a message (or JSON for the outbox).

    `action` is a zero-argument callable; NotFound becomes 404 either way.
    """
    try:
        result = action()
    except ApplicationError as exc:
        if exc.status == 404:
            if wants_json(request):
                return problem_response(request, exc)
            raise Http404 from None
        if wants_json(request):
            return problem_response(request, exc)
        if exc.code in ("conflict", "invalid-transition"):
            messages.warning(request, _("The case changed meanwhile; here it is as it is now. ")
                             + error_text(exc))
        else:
            messages.error(request, error_text(exc))
        return redirect(back)
    if wants_json(request):
        return JsonResponse({"ok": True, **(data(result) if data else {})})
    messages.success(request, success)
    return redirect(back)


def mark_overdue(cases, now):
    """Set `is_overdue` on each case (a running step past its due time)."""
    from zhili.governance.models import OPEN_STATUSES

    cases = list(cases)
    for case in cases:
        case.is_overdue = bool(case.due_at and case.due_at < now and case.status in OPEN_STATUSES)
    return cases


def timeline_rows(events, case, viewer):
    """Label each event, and name its actor — except an anonymous reporter, to staff."""
    from zhili.governance.events import event_label

    for event in events:
        event.label = event_label(event.kind)
        actor = event.actor
        if getattr(event, "by_anonymous_reporter", False) or (
                actor is not None and case.anonymous and actor.pk == case.reporter_id
                and viewer.pk != actor.pk):
            event.who = _("anonymous reporter")
        elif actor is None:
            event.who = _("system")
        else:
            event.who = actor.display_name or actor.get_username()
    return events
