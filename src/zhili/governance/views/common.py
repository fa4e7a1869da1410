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


def is_live_fetch(request) -> bool:
    """forms.js sending a form while online: it follows `redirect` from a JSON answer itself,
    so the confirmation message is left for the page it opens (a fetch that followed a
    302 would have shown, and so consumed, the message in a page nobody sees)."""
    return request.headers.get("X-Zhili-Form") == "fetch"


def error_text(exc: ApplicationError) -> str:
    """The error in words for a banner: the messages, never the internal field names."""
    if exc.errors:
        return " · ".join(dict.fromkeys(str(e.message) for e in exc.errors))
    return str(exc.detail or exc.title)


def problem_response(request, exc: ApplicationError) -> HttpResponse:
    body = exc.as_problem(instance=request.path)
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=exc.status,
                        content_type="application/problem+json")


def run(request, back: str, action, *, success: str, data=None, invalid=None):
    """Call a service; redirect back with a message (or JSON for the outbox).

    `action` is a zero-argument callable; NotFound becomes 404 either way. With
    `invalid` (a callable taking the error), a 422 re-renders the form's page with
    each error beside its field and what was typed kept, instead of a banner.
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
        if invalid is not None and exc.status == 422:
            page = invalid(exc)  # None: the form is no longer on the page; say it in a banner
            if page is not None:
                return page
        if exc.code in ("conflict", "invalid-transition"):
            messages.warning(request, _("The case changed meanwhile; here it is as it is now. ")
                             + error_text(exc))
        else:
            messages.error(request, error_text(exc))
        return go_back(request, back)
    if wants_json(request):
        return JsonResponse({"ok": True, **(data(result) if data else {})})
    messages.success(request, success)
    return go_back(request, back)


def go_back(request, back: str):
    if is_live_fetch(request):
        return JsonResponse({"ok": True, "redirect": back})
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


def attribute_answers(case) -> list[tuple[str, str]]:
    """(question, answer) of a case's category questions, in the reader's language: the
    stored `size: medium` shown as "How large is the damage? Up to one lane"."""
    from zhili.governance.attributes import service_attributes

    answers = case.attributes if isinstance(case.attributes, dict) else {}
    rows, asked = [], set()
    for attr in service_attributes(case.category):
        code = attr["code"]
        if code not in answers:
            continue
        asked.add(code)
        names = {v["key"]: v["name"] for v in attr["values"]}
        values = answers[code] if isinstance(answers[code], list) else [answers[code]]
        shown = [names.get(str(v), f"{v:g}" if isinstance(v, float) else str(v)) for v in values]
        rows.append((attr["description"] or code, ", ".join(shown)))
    # Answers to questions since removed from the category: still shown, by their code.
    rows += [(code, str(value)) for code, value in answers.items() if code not in asked]
    return rows


AREA_CHOICES_MAX = 400


def area_choices(user) -> list[tuple[str, str]]:
    """(code, name) of the areas above grid level where the user sees cases, for the queue's
    area filter: people pick a name; nobody is shown, or asked for, a division code."""
    from zhili.core.i18n import localized
    from zhili.geo.models import AreaNode, Level

    nodes = (AreaNode.objects.filter(user.scope(VIEW).q("path"))
             .exclude(level=Level.GRID).only("code", "name", "name_en", "level", "path")
             .order_by("path")[:AREA_CHOICES_MAX])
    indent = {Level.CITY: 0, Level.DISTRICT: 1, Level.STREET: 2, Level.COMMUNITY: 3}
    return [(n.code, "\u3000" * indent.get(n.level, 0) + localized(n, "name")) for n in nodes]
