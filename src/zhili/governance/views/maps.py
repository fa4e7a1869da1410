"""Small maps on the pages: the pin's starting point and the grid's outline.

Vector layers are drawn from the database (WGS84) over geo's base map
(geo/basemap.html, with raster tiles when ZHILI_TILES_FILE or ZHILI_TILE_URL is set). With GCJ-02 tiles (AMap, Tencent) the outline and
points are shifted to GCJ-02 for display, and taps are sent with crs=gcj02,
so the server converts them back at intake.
"""

from __future__ import annotations

import json

import numpy as np
import shapely
import shapely.geometry
from django.conf import settings

from zhili.geo.coords import wgs84_to_gcj02
from zhili.geo.models import AreaNode
from zhili.geo.selectors import map_display_crs

SIMPLIFY_DEGREES = 0.00005  # ~5 m: enough for a grid's outline on a phone


def map_crs() -> str:
    return map_display_crs()  # the tiles' CRS (URL or ZHILI_TILES_FILE), as the base map


def to_map(lon: float, lat: float) -> tuple[float, float]:
    if map_crs() == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    return lon, lat


def outline_json(node: AreaNode | None) -> str:
    """The node's polygon as GeoJSON, in the map's CRS ('' for wide areas or none)."""
    if node is None or node.level not in ("grid", "community"):
        return ""
    shape = shapely.simplify(node.shape, SIMPLIFY_DEGREES, preserve_topology=True)
    if map_crs() == "gcj02":
        def shift(coords: np.ndarray) -> np.ndarray:
            lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        shape = shapely.transform(shape, shift)
    return json.dumps(shapely.geometry.mapping(shape), separators=(",", ":"))


def map_context(node: AreaNode | None, point: tuple[float, float] | None = None) -> dict:
    """Template values for a Leaflet map centred on `point` (WGS84) or the node's centre."""
    if point is None and node is not None:
        point = (node.centre_lon, node.centre_lat)
    if point is None:
        city = AreaNode.objects.filter(level="city").only("centre_lon", "centre_lat").first()
        point = (city.centre_lon, city.centre_lat) if city else (106.55, 29.56)
    lon, lat = to_map(*point)
    return {
        "map_lon": f"{lon:.7f}", "map_lat": f"{lat:.7f}", "map_crs": map_crs(),
        "map_outline": outline_json(node), "map_tiles": settings.ZHILI_TILE_URL,
        "map_attribution": settings.ZHILI_TILE_ATTRIBUTION,
    }
