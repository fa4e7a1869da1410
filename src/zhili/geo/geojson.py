"""GeoJSON (RFC 7946) in and out: WGS84, right-hand rule, sensible precision.

Map output is simplified to the zoom asked for with a coverage simplifier
(GEOS CoverageSimplifier): shared edges between siblings are simplified once,
so neighbours stay gap-free and overlap-free, and no polygon becomes invalid.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

MIN_ZOOM, MAX_ZOOM = 0, 22
# A quarter pixel at the zoom asked for: invisible, but drops most vertices.
PIXEL_FRACTION = 0.25


def degrees_per_pixel(zoom: int) -> float:
    """Longitude degrees per 256-px web-map tile pixel at `zoom`."""
    return 360.0 / (256 * 2**zoom)


def zoom_tolerance(zoom: int) -> float:
    return degrees_per_pixel(zoom) * PIXEL_FRACTION


def decimals_for_zoom(zoom: int) -> int:
    """Enough decimals to keep rounding under a tenth of the tolerance; 6 (~10 cm) at most."""
    return max(2, min(6, math.ceil(-math.log10(zoom_tolerance(zoom) / 10))))


def zoom_to_fit(bounds, pixels: int = 800) -> int:
    """The web-map zoom at which `bounds` fits in about `pixels` pixels."""
    minx, miny, maxx, maxy = bounds
    span = max(maxx - minx, (maxy - miny) * 1.2, 1e-9)
    return int(max(MIN_ZOOM, min(MAX_ZOOM, math.floor(math.log2(360.0 * pixels / 256 / span)))))


def simplify_siblings(geoms: list[BaseGeometry], tolerance: float) -> list[BaseGeometry]:
    """Simplify polygons that tile a parent together, keeping shared edges shared."""
    arr = np.asarray(geoms, dtype=object)
    if not len(arr):
        return []
    try:
        out = shapely.coverage_simplify(arr, tolerance)
        bad = shapely.is_empty(out) | ~shapely.is_valid(out)
    except shapely.errors.GEOSException:
        out, bad = arr, np.ones(len(arr), bool)
    if bad.any():  # not a clean coverage: fall back to simplifying one by one
        single = shapely.simplify(arr[bad], tolerance, preserve_topology=True)
        single = np.where(shapely.is_empty(single), arr[bad], single)
        out = np.array(out, dtype=object)
        out[bad] = single
    return list(out)


def _ring(ring, decimals):
    coords = shapely.get_coordinates(ring)
    if decimals is not None:
        coords = np.round(coords, decimals)
    return coords.tolist()


def geometry_to_geojson(geom: BaseGeometry, decimals: int | None = None) -> dict:
    """A Polygon/MultiPolygon as a GeoJSON geometry (exteriors counter-clockwise)."""
    geom = shapely.orient_polygons(geom, exterior_cw=False)
    polygons = [geom] if geom.geom_type == "Polygon" else list(shapely.get_parts(geom))

    def rings(p):
        return [_ring(p.exterior, decimals)] + [_ring(r, decimals) for r in p.interiors]

    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": rings(geom)}
    return {"type": "MultiPolygon", "coordinates": [rings(p) for p in polygons]}


def feature(geom: BaseGeometry, properties: dict, decimals: int | None = None) -> dict:
    return {"type": "Feature", "geometry": geometry_to_geojson(geom, decimals),
            "properties": properties}


def feature_collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}
