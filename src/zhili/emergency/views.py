"""Emergency pages (rescue-circle coverage with the gap list; the resource list) and
map layers (GeoJSON, scoped)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse

from zhili.core.errors import PermissionDenied as NotAllowed
from zhili.emergency import selectors
from zhili.emergency.models import CLASS_LABELS, CLASSES, RescueResource

PAGE_SIZE = 50
GAP_PAGE_SIZE = 25


def _on_the_map(point) -> str:
    """The one map centred on a point, with its name as the marker's label."""
    return reverse("cockpit:map") + "?" + urlencode(
        {"at": f"{point.lon:.6f},{point.lat:.6f}", "label": point.name})


def minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f}"


def _gap_cell(gap, cls: str, target: float) -> tuple[str, bool, object]:
    """(minutes shown, outside the circle, the resource giving the best time)."""
    seconds = getattr(gap, f"{cls}_s")
    return minutes(seconds), seconds is None or seconds > target, getattr(gap, f"{cls}_resource")


def _cell(row: dict, cls: str) -> dict:
    """A class's risk-point figures, with the percentage of the people inside (None: not
    known)."""
    people = row["population"]
    share = people["classes"][cls]["share"] if people else None
    return {**row["classes"][cls], "people_pct": None if share is None else share * 100}


@login_required
def coverage(request):
    """Per district and street, the shares of risk points and of people inside each
    circle; the gaps."""
    try:
        table = selectors.coverage_table(actor=request.user)
        gaps = selectors.gap_list(actor=request.user)
    except NotAllowed:
        raise PermissionDenied from None
    run = table["run"]
    targets = run.targets if run else {}
    classes = [(cls, CLASS_LABELS[cls], targets.get(cls, 0) / 60) for cls in CLASSES]
    rows = [{**row, "cells": [_cell(row, cls) for cls in CLASSES]} for row in table["rows"]]
    gap_page = Paginator(gaps, GAP_PAGE_SIZE).get_page(request.GET.get("page"))
    gap_rows = [{"row": g, "times": [_gap_cell(g, cls, targets[cls]) for cls in CLASSES],
                 "map": _on_the_map(g.risk_point)} for g in gap_page.object_list]
    return render(request, "emergency/coverage.html", {
        "run": run, "classes": classes, "rows": rows, "gaps": gap_rows, "gap_page": gap_page,
        "population": table["population"],
        "gap_count": len(gaps), "gap_limit": selectors.GAP_LIMIT,
        "failure": selectors.coverage_last_failure(), "one_map": reverse("cockpit:map")})


@login_required
def resource_list(request):
    try:
        resources = selectors.resource_list(
            actor=request.user,
            kind=request.GET.get("kind") if request.GET.get("kind") in RescueResource.Kind.values
            else "",
            availability=request.GET.get("availability")
            if request.GET.get("availability") in RescueResource.Availability.values else "")
    except NotAllowed:
        raise PermissionDenied from None
    page = Paginator(resources, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "emergency/resource_list.html", {
        "page": page, "kinds": RescueResource.Kind.choices,
        "availabilities": RescueResource.Availability.choices,
        "kind": request.GET.get("kind", ""), "availability": request.GET.get("availability", "")})


def _layer(request, build):
    if not request.user.is_authenticated:
        raise PermissionDenied
    try:
        return JsonResponse(build(actor=request.user))
    except NotAllowed:
        raise PermissionDenied from None


def layer_resources(request):
    """The rescue resources of the viewer's area (GeoJSON points)."""
    return _layer(request, selectors.resources_geojson)


def layer_circles(request):
    """The rescue circles (one polygon per class) over the viewer's area."""
    return _layer(request, selectors.circles_geojson)
