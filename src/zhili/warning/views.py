"""Early-warning pages and map layers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse

from zhili.warning import selectors


@login_required
def layer_points(request):
    """The risk points of the viewer's area with their open warning's level (GeoJSON)."""
    return JsonResponse(selectors.risk_points_geojson(actor=request.user))
