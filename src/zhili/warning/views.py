"""Early-warning pages (the operators' live list and a warning's detail) and map layers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhili.core.errors import ApplicationError, NotFound, ValidationFailed
from zhili.core.forms import form_errors
from zhili.geo.viewport import with_viewport
from zhili.warning import selectors
from zhili.warning.charts import readings_svg
from zhili.warning.handling import MANAGE, warning_raise_by_operator
from zhili.warning.models import LEVEL_COLOURS, Level, Warning
from zhili.warning.recipients import warning_reach
from zhili.warning.services import warning_cancel

PAGE_SIZE = 50


def _viewer(request):
    if request.user.scope(selectors.VIEW).empty:
        raise PermissionDenied
    return request.user


@login_required
def warning_list(request):
    """Open warnings in level colours, refreshed every 10 s (htmx)."""
    actor = _viewer(request)
    status = "all" if request.GET.get("status") == "all" else "open"
    try:
        level = int(request.GET.get("level") or 0)
    except ValueError:
        level = 0
    level = level if level in (1, 2, 3, 4) else None
    page = Paginator(selectors.warning_list(actor=actor, status=status, level=level),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "warnings": page.object_list, "status": status, "level": level,
               "may_raise": not actor.scope(MANAGE).empty, "errors": {}, "form": {},
               "levels": [(v, label) for v, label in Level.choices if v],
               "now": timezone.now(),
               "query": request.GET.urlencode()}
    template = ("warning/partials/warning_table.html" if request.headers.get("HX-Request")
                else "warning/warning_list.html")
    return render(request, template, context)


@login_required
def warning_detail(request, number: str):
    actor = _viewer(request)
    try:
        warning = selectors.warning_get(actor=actor, number=number)
    except NotFound:
        raise Http404 from None
    point = warning.risk_point
    shown = str(warning.level or warning.peak_level or 1)  # a closed one: its peak's measures
    measures = (point.measures or {}).get(shown) or point.category.measures.get(shown, {})
    readings = selectors.warning_readings(warning=warning)
    chart = readings_svg(readings, selectors.rule_lines(warning=warning),
                         warning.sensor.unit if warning.sensor else "")
    return render(request, "warning/warning_detail.html", {
        "warning": warning, "point": point, "measures": measures, "chart": chart,
        "events": warning.events.select_related("actor"), "case": selectors.warning_case(warning=warning),
        "cap_messages": warning.cap_messages.order_by("sent", "id"),
        "reach": warning_reach(warning=warning),
        "may_manage": actor.scope(MANAGE).covers(warning.area_path),
        "is_open": warning.status in Warning.OPEN,
        "colour": LEVEL_COLOURS.get(warning.level or warning.peak_level, "grey"),  # closed: its peak
    })


@login_required
@with_viewport
def layer_points(request, viewport):
    """The risk points of the viewer's area with their open warning's level (GeoJSON);
    with `bbox` and `zoom`, those in the box, clustered below POINTS_FROM_ZOOM."""
    return JsonResponse(selectors.risk_points_geojson(actor=request.user, viewport=viewport))


@login_required
@require_POST
def warning_raise_view(request):
    """An operator raises a warning on a risk point of their area (or re-levels it)."""
    actor = _viewer(request)
    form = {k: request.POST.get(k, "") for k in ("point", "level", "note")}
    try:
        warning = warning_raise_by_operator(actor=actor, point_code=form["point"],
                                            level=form["level"], note=form["note"])
    except ValidationFailed as exc:
        page = Paginator(selectors.warning_list(actor=actor), PAGE_SIZE).get_page(1)
        return render(request, "warning/warning_list.html", {
            "page": page, "warnings": page.object_list, "status": "open", "level": None,
            "levels": [(v, label) for v, label in Level.choices if v], "now": timezone.now(),
            "query": "", "may_raise": True, "form": form,
            "errors": form_errors(exc, ["point", "level", "note"])}, status=422)
    except ApplicationError as exc:
        messages.error(request, exc.detail or exc.title)
        return redirect("warning:list")
    messages.success(request, _("Warning %(n)s raised.") % {"n": warning.number})
    return redirect("warning:detail", number=warning.number)


@login_required
@require_POST
def warning_cancel_view(request, number: str):
    actor = _viewer(request)
    try:
        warning = selectors.warning_get(actor=actor, number=number)
    except NotFound:
        raise Http404 from None
    if not actor.scope(MANAGE).covers(warning.area_path):
        raise PermissionDenied
    try:
        warning_cancel(actor=actor, warning=warning, reason=request.POST.get("reason", ""))
        messages.success(request, _("Warning %(n)s cancelled.") % {"n": number})
    except ApplicationError as exc:
        messages.error(request, " ".join(e.message for e in exc.errors) or exc.detail or exc.title)
    return redirect("warning:detail", number=number)
