from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render

from zhili.geo.models import AreaNode, Level

PERMISSION = "lamps.view_lamp"


def _streets(user):
    """One lamp at the centre of every street in the user's scope."""
    scope = user.scope(PERMISSION)
    if scope.empty:
        raise PermissionDenied
    return AreaNode.objects.filter(scope.q("path"), level=Level.STREET).defer("geometry").order_by("code")


@login_required
def lamp_list(request):
    return render(request, "plugin_app/list.html", {"streets": _streets(request.user)})


@login_required
def lamps_geojson(request):
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [s.centre_lon, s.centre_lat]},
                 "properties": {"name": s.name, "code": s.code}} for s in _streets(request.user)]
    return JsonResponse({"type": "FeatureCollection", "features": features})
