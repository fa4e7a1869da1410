"""Early-warning pages (the operators' live list and a warning's detail) and map layers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from zhili.core.errors import NotFound
from zhili.warning import selectors
from zhili.warning.charts import readings_svg
from zhili.warning.models import LEVEL_COLOURS, Level

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
        "colour": LEVEL_COLOURS.get(warning.level or warning.peak_level, "grey"),  # closed: its peak
    })


@login_required
def layer_points(request):
    """The risk points of the viewer's area with their open warning's level (GeoJSON)."""
    return JsonResponse(selectors.risk_points_geojson(actor=request.user))
