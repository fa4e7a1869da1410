"""The map page: the user's area, drilled down district → street → community → grid."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language

from zhili.core.plugins import registry
from zhili.geo.models import AreaNode, Level
from zhili.geo.selectors import actor_scope, is_visible


def start_node(user) -> AreaNode | None:
    """Where the map opens: the user's home area, else the top of what they may see."""
    scope = actor_scope(user)
    home = user.home_area()
    if home is not None and is_visible(scope, home.path):
        return home
    if scope.everywhere:
        return AreaNode.objects.filter(level=Level.CITY).defer("geometry").first()
    return AreaNode.objects.filter(path__in=scope.paths).defer("geometry").order_by("path").first()


def layers_for(user) -> list[dict]:
    """The apps' map layers (core.plugins.MapLayer) the user holds the permission for."""
    return [{"name": layer.name, "label": str(layer.label), "url": reverse(layer.url_name)}
            for layer in registry().map_layers if not user.scope(layer.permission).empty]


@login_required
def map_view(request):
    if actor_scope(request.user).empty:
        raise PermissionDenied
    start = start_node(request.user)
    config = {
        "api": reverse("api-1.0.0:api-root") + "geo/",
        "start": start.code if start else None,
        "lang": get_language() or settings.LANGUAGE_CODE,
        "layers": layers_for(request.user),
    }
    return render(request, "geo/map.html", {"config": config, "start": start})
