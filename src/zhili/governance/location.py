"""The one adapter between governance and the geo app: a point to its grid.

Everything governance needs from geo goes through `locate_case_point`, so a
change in how geo locates (its in-memory raster index today) touches this file
only.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext as _

from zhili.core.errors import FieldError, OutsideCity, ValidationFailed
from zhili.core.rows import instance_from_row
from zhili.geo.coords import CRS_CHOICES, to_wgs84
from zhili.geo.models import AreaNode

# Chongqing lies well inside these; anything else is a typo or swapped axes.
LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)


def point_clean(lon, lat, crs: str = "wgs84") -> tuple[float, float]:
    """Validate a point and return it in WGS84 (422 naming lon, lat or crs)."""
    errors = []
    values = {}
    for name, value, (low, high) in (("lon", lon, LON_RANGE), ("lat", lat, LAT_RANGE)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            errors.append(FieldError(name, _("must be a number")))
            continue
        if not math.isfinite(number) or not low <= number <= high:
            errors.append(FieldError(name, _("must be between %(low)s and %(high)s")
                                     % {"low": f"{low:g}", "high": f"{high:g}"}))
            continue
        values[name] = number
    if crs not in CRS_CHOICES:
        errors.append(FieldError("crs", _("one of: %(v)s") % {"v": ", ".join(CRS_CHOICES)}))
    if errors:
        raise ValidationFailed(errors)
    wlon, wlat = to_wgs84(values["lon"], values["lat"], crs)
    return float(wlon), float(wlat)


def locate_case_point(lon, lat, crs: str = "wgs84") -> tuple[AreaNode, float, float]:
    """The grid holding the point, and the point in WGS84; OutsideCity when none does."""
    from zhili.geo.index import get_index

    wlon, wlat = point_clean(lon, lat, crs)
    index = get_index()
    located = index.locate(wlon, wlat)
    if located is None:
        raise OutsideCity(_("No grid of the city holds longitude %(lon)s, latitude %(lat)s.")
                          % {"lon": f"{wlon:.6f}", "lat": f"{wlat:.6f}"})
    # The grid as a row with only these fields loaded (any other loads on use):
    # the index holds them, so intake need not read the row. Its id is as fresh
    # as the index, which follows the boundary version.
    grid = instance_from_row(AreaNode, {
        "id": located.grid_id, "code": located.grid.code, "level": "grid",
        "name": located.grid.name, "name_en": located.grid.name_en, "path": located.path})
    return grid, wlon, wlat


def grid_gone(grid: AreaNode) -> bool:
    """Whether a located grid's row is gone: the city was regenerated after this
    process's index was built. The index is then rebuilt on the next lookup."""
    from zhili.geo.index import mark_stale

    if AreaNode.objects.filter(pk=grid.pk).exists():
        return False
    mark_stale()
    return True


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine; ample for tens of metres)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(h)))


def degree_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box holding every point within radius_m (for a cheap prefilter)."""
    dlat = radius_m / 111_320.0
    dlon = radius_m / max(111_320.0 * math.cos(math.radians(lat)), 1e-6)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat
