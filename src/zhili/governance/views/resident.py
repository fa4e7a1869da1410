"""Pages for residents (and a grid worker's patrol report): report, track, rate, reopen.

Reporting needs a login: an account is how a resident follows the case,
rates it and reopens it. "Anonymous" hides the reporter from the staff who
handle the case (it is still theirs to track); fully anonymous reports from
the open internet come through Open311 clients, which hold an API key.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhili.core.errors import ApplicationError, NotFound
from zhili.core.forms import GENERAL
from zhili.governance import selectors, services
from zhili.governance.attributes import attribute_values, service_attributes
from zhili.governance.events import events_public
from zhili.governance.models import Board, Channel
from zhili.governance.photos import MAX_PHOTOS
from zhili.governance.services.intake import MAX_DESCRIPTION
from zhili.governance.views.common import (
    WORK,
    is_htmx,
    mark_overdue,
    problem_response,
    require_somewhere,
    run,
    timeline_rows,
    wants_json,
)
from zhili.governance.views.maps import map_context

FIELDS = ("category", "description", "lon", "lat", "crs", "address", "contact_phone")
INPUTS = {*FIELDS, "photos"}


def attribute_sets(groups, chosen: str, answers: dict) -> list[tuple[str, list[dict]]]:
    """Each category's questions (Open311 attributes), the chosen one's with its answers."""
    sets = []
    for _board, rows in groups:
        for category in rows:
            attrs = service_attributes(category)
            if not attrs:
                continue
            for attr in attrs:
                attr["input_name"] = f"attribute[{attr['code']}]"
            if category.code == chosen:
                for attr in attrs:
                    value = answers.get(attr["code"], "")
                    attr["value"] = value if isinstance(value, list) else [value]
            sets.append((category.code, attrs))
    return sets


def posted_attributes(post) -> dict:
    found, malformed = attribute_values(post)
    if malformed:
        return {}
    return {code: values if len(values) > 1 else values[0] for code, values in found.items()
            if values}


def categories_by_board():
    groups = {value: [] for value in Board.values}
    for category in selectors.category_list():
        groups.setdefault(category.board, []).append(category)
    labels = dict(Board.choices)
    return [(labels.get(board, board), rows) for board, rows in groups.items() if rows]


def _start_node(user, channel):
    """Where the pin starts: a worker's grid on patrol, else the user's own area."""
    home = user.home_area()
    if channel == Channel.PATROL:
        for assignment in user.active_assignments():
            if assignment.area.level == "grid" and user.has_perm_in(WORK, assignment.area_path):
                return assignment.area
    return home


def _report(request, *, channel: str, template_title: str):
    values: dict = {}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in FIELDS}
        values["anonymous"] = request.POST.get("anonymous") == "on"
        values["attributes"] = posted_attributes(request.POST)
        key = (request.POST.get("idempotency_key") or request.headers.get("Idempotency-Key")
               or "").strip() or None
        if not values["lon"] or not values["lat"]:
            errors["lon"] = [_("Place the pin on the map, or use your location.")]
        else:
            try:
                case, _created = services.case_report(
                    actor=request.user, category=values["category"],
                    description=values["description"], lon=values["lon"], lat=values["lat"],
                    crs=values["crs"] or "wgs84", address=values["address"],
                    photos=request.FILES.getlist("photos"), anonymous=values["anonymous"],
                    contact_phone=values["contact_phone"], channel=channel,
                    attributes=values["attributes"], idempotency_key=key,
                )
            except ApplicationError as exc:
                if wants_json(request):
                    return problem_response(request, exc)
                for e in exc.errors:
                    field = "lon" if e.field == "lat" else e.field
                    if field.startswith("attributes."):  # beside the question's own input
                        field = f"attribute[{field[11:]}]"
                    errors.setdefault(field if field in INPUTS or field.startswith("attribute[")
                                      else GENERAL, []).append(str(e.message))
                if not exc.errors:
                    errors.setdefault("lon" if exc.code == "outside-city" else GENERAL,
                                      []).append(str(exc.detail or exc.title))
            else:
                done = reverse("governance:report_done", args=[case.tracking_no])
                if wants_json(request):
                    return JsonResponse({"tracking_no": case.tracking_no, "url": done},
                                        status=201 if _created else 200)
                return redirect(done)
        status = 422
    start = _start_node(request.user, channel)
    groups = categories_by_board()
    context = {
        "title": template_title, "channel": channel, "values": values, "errors": errors,
        "groups": groups, "max_photos": MAX_PHOTOS, "max_description": MAX_DESCRIPTION,
        "attribute_sets": attribute_sets(groups, values.get("category", ""),
                                         values.get("attributes", {})),
        "patrol": channel == Channel.PATROL,
        # Offline, the phone's outbox sends the report to the JSON API (same service, same
        # idempotency scope "user:<id>"), so a retry of a report that did arrive is harmless.
        "outbox_url": reverse("api-1.0.0:case_report"),
        **map_context(start),
    }
    return render(request, "governance/report.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def report(request):
    return _report(request, channel=Channel.RESIDENT, template_title=_("Report a problem"))


@login_required
@require_http_methods(["GET", "POST"])
def patrol(request):
    require_somewhere(request.user, WORK)
    return _report(request, channel=Channel.PATROL, template_title=_("Patrol report"))


def _own_case(request, tracking_no):
    try:
        return selectors.case_get_for(actor=request.user, tracking_no=tracking_no)
    except NotFound:
        raise Http404 from None


@login_required
def report_done(request, tracking_no):
    case = _own_case(request, tracking_no)
    return render(request, "governance/report_done.html", {"case": case})


@login_required
def my_cases(request):
    cases = mark_overdue(selectors.case_list(actor=request.user,
                                             filters=selectors.CaseFilters(mine=True))[:100],
                         timezone.now())
    template = "governance/partials/my_cases.html" if is_htmx(request) else "governance/my_cases.html"
    return render(request, template, {"cases": cases})


@login_required
def my_case(request, tracking_no):
    case = _own_case(request, tracking_no)
    if case.reporter_id != request.user.pk and not request.user.has_perm_in(
            "governance.view_case", case.area_path):
        # A follower of a duplicate sees the original through its own case page.
        raise Http404
    context = {
        "case": case,
        "events": timeline_rows(events_public(selectors.case_timeline(actor=request.user,
                                                                       case=case)),
                                case, request.user),
        "actions": selectors.case_actions(actor=request.user, case=case),
        "original": case.duplicate_of,
        "ratings": range(1, 6),
    }
    if is_htmx(request):
        return render(request, "governance/partials/my_case_progress.html", context)
    return render(request, "governance/my_case.html", context)


@login_required
@require_POST
def my_case_rate(request, tracking_no):
    case = _own_case(request, tracking_no)
    back = reverse("governance:my_case", args=[case.tracking_no])
    raw = request.POST.get("rating", "")
    rating = int(raw) if raw.isdigit() else 0  # the service names the field when it is wrong
    return run(request, back, lambda: services.case_rate(
        actor=request.user, case=case, rating=rating, comment=request.POST.get("comment", "")),
        success=_("Thank you for rating the result."))


@login_required
@require_POST
def my_case_reopen(request, tracking_no):
    case = _own_case(request, tracking_no)
    back = reverse("governance:my_case", args=[case.tracking_no])
    return run(request, back, lambda: services.case_reopen(
        actor=request.user, case=case, version=request.POST.get("version") or None,
        reason=request.POST.get("reason", "")),
        success=_("The case is reopened; the grid worker will take it up again."))
