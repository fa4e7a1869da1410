"""Incident pages: the board of the area (open ones by severity), the detail with its
timeline, resources (ETA), tasks, notes and actions (plain POST forms), and the
map layer of open incidents."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from zhili.core.errors import ApplicationError
from zhili.core.errors import PermissionDenied as NotAllowed
from zhili.core.scoping import scope_of
from zhili.emergency import incidents as services
from zhili.emergency import selectors_incidents as selectors
from zhili.emergency.incident_events import KINDS
from zhili.emergency.models import CLASS_LABELS
from zhili.emergency.models_incidents import SEVERITY_COLOURS, Severity
from zhili.emergency.team_notice import notice_status

MODE_LABELS = {"drive": gettext_lazy("by road"), "walk": gettext_lazy("on foot"),
               "air": gettext_lazy("by air")}


FIELD_LABELS = {
    "title": gettext_lazy("Title"), "severity": gettext_lazy("Severity"),
    "lon": gettext_lazy("Longitude"), "lat": gettext_lazy("Latitude"),
    "warning": gettext_lazy("Warning"), "case": gettext_lazy("Case"),
    "resource": gettext_lazy("Resource"), "what": gettext_lazy("What"),
    "who": gettext_lazy("Department or resource"), "department": gettext_lazy("Department code"),
    "due": gettext_lazy("Due"), "text": gettext_lazy("Situation note"),
    "summary": gettext_lazy("Summary"),
}


def _problem_text(exc: ApplicationError) -> str:
    """The form's fields by their labels and what is wrong with each; else the detail."""
    if exc.errors:
        return "; ".join(f"{FIELD_LABELS.get(e.field, e.field)}: {e.message}" for e in exc.errors)
    return str(exc.detail or exc.title)


OPEN_FIELDS = ("warning", "case", "title", "severity", "lon", "lat")


def _board_page(request, *, values: dict, status: int = 200):
    shown = request.GET.get("status") if request.GET.get("status") in ("closed", "all") \
        else "open"
    try:
        rows = list(selectors.incident_list(actor=request.user, status=shown)[:500])
    except NotAllowed:
        raise PermissionDenied from None
    groups = [(label, SEVERITY_COLOURS[value], [r for r in rows if r.severity == value])
              for value, label in Severity.choices]
    return render(request, "emergency/incident_board.html", {
        "groups": groups, "any_rows": bool(rows), "status": shown,
        "severities": Severity.choices, "values": values, "one_map": reverse("cockpit:map"),
        "may_manage": not scope_of(request.user, services.MANAGE).empty}, status=status)


@login_required
def board(request):
    """The open (or closed, or all) incidents by severity; the form to open one, which a
    link may fill in with ?warning=… or ?case=…."""
    return _board_page(request, values={name: request.GET.get(name, "")[:24]
                                        for name in ("warning", "case")})


def _incident(request, number: str):
    try:
        return selectors.incident_get(actor=request.user, number=number)
    except NotAllowed:
        raise PermissionDenied from None
    except ApplicationError:
        raise Http404 from None


@login_required
def detail(request, number: str):
    return _detail_page(request, _incident(request, number), values={})


TASK_FIELDS = ("what", "department", "task_resource", "due")


def _detail_page(request, incident, *, values: dict, status: int = 200):
    """The incident with its resources, tasks and timeline; `values` refill the task,
    note and summary forms after a refusal."""
    may_manage = scope_of(request.user, services.MANAGE).covers(incident.area_path)
    timeline = selectors.incident_timeline(incident=incident)
    for event in timeline:
        event.label = KINDS.get(event.kind, event.kind)
    suggestions = []
    if may_manage and incident.status == "open":
        found = selectors.incident_suggest(actor=request.user, incident=incident)
        suggestions = [(CLASS_LABELS[cls], rows) for cls, rows in found.items()]
    assignments = selectors.incident_assignments(incident=incident)
    notices = notice_status(assignments)
    for assignment in assignments:
        assignment.mode_label = MODE_LABELS.get(assignment.mode, assignment.mode)
        assignment.notice = notices.get(assignment.pk)
    return render(request, "emergency/incident_detail.html", {
        "incident": incident, "colour": SEVERITY_COLOURS[incident.severity],
        "assignments": assignments,
        "tasks": selectors.incident_tasks(incident=incident),
        "timeline": timeline,
        "suggestions": suggestions, "may_manage": may_manage, "values": values,
        "on_map": reverse("cockpit:map") + "?" + urlencode(
            {"at": f"{incident.lon:.6f},{incident.lat:.6f}", "label": incident.number})},
        status=status)


@login_required
@require_POST
def open_incident(request):
    post = request.POST

    def number(name):
        try:
            return float(post.get(name, ""))
        except ValueError:
            return None

    def action():
        return services.incident_open(
            actor=request.user, title=post.get("title", ""), severity=post.get("severity"),
            lon=number("lon"), lat=number("lat"), warning_number=post.get("warning", ""),
            case_tracking_no=post.get("case", ""))

    try:
        incident = action()
    except NotAllowed:
        raise PermissionDenied from None
    except ApplicationError as exc:
        # The board again with what was typed, the message naming what is wrong.
        messages.error(request, _problem_text(exc))
        return _board_page(request, values={k: post.get(k, "")[:200] for k in OPEN_FIELDS},
                           status=exc.status)
    messages.success(request, _("Incident %(n)s opened.") % {"n": incident.number})
    return redirect("emergency:incident", number=incident.number)


@login_required
@require_POST
def act(request, number: str, verb: str):
    incident = _incident(request, number)
    post, user = request.POST, request.user
    actions = {
        "assign": lambda: services.incident_assign(actor=user, incident=incident,
                                                   resource_code=post.get("resource", "")),
        "release": lambda: services.incident_release(actor=user, incident=incident,
                                                     resource_code=post.get("resource", "")),
        "task": lambda: services.incident_task_add(
            actor=user, incident=incident, what=post.get("what", ""),
            department=post.get("department", ""), resource_code=post.get("task_resource", ""),
            due=post.get("due") or None),
        "task_done": lambda: services.incident_task_done(
            actor=user, incident=incident,
            task_id=int(post.get("task")) if post.get("task", "").isdigit() else 0),
        "note": lambda: services.incident_note(actor=user, incident=incident,
                                               text=post.get("text", "")),
        "close": lambda: services.incident_close(actor=user, incident=incident,
                                                 summary=post.get("summary", "")),
    }
    if verb not in actions:
        raise Http404
    try:
        actions[verb]()
    except NotAllowed:
        raise PermissionDenied from None
    except ApplicationError as exc:
        # The page again with what was typed; the message names what is wrong.
        messages.error(request, _problem_text(exc))
        values = {k: post.get(k, "")[:4000] for k in (*TASK_FIELDS, "text", "summary")}
        return _detail_page(request, _incident(request, number), values=values,
                            status=exc.status)
    messages.success(request, _("Done."))
    return redirect("emergency:incident", number=incident.number)


def layer_incidents(request):
    """Open incidents of the viewer's area (GeoJSON points, severity colour)."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    try:
        return JsonResponse(selectors.incidents_geojson(actor=request.user))
    except NotAllowed:
        raise PermissionDenied from None
