"""The vector base map: roads, boundaries and labels as one GeoJSON document per web-map tile.

A tile z/x/y holds, clipped to the tile (plus a small margin so strokes and
labels join across tile edges) and simplified for its zoom:

* boundary lines of the levels fitting the zoom (districts always, streets,
  communities and grids as one zooms in), each shared edge once;
* road lines of the classes fitting the zoom;
* label points: area names at their centres, road names at their middle
  (with a second point `along` the road, so the label can follow it).

Tiles are the same for every user (public geography, like /locate), so they
are rendered once per boundary version and display CRS and kept on disk under
DATA_DIR/basemap/ (ZHILI_DATA_DIR); the ETag carries the version, so browsers
keep a tile an hour and then revalidate it (a 304 until the boundaries change). With GCJ-02 display tiles (AMap, Tencent) the tile's
window is taken in GCJ-02 and every coordinate is shifted, so the vector
base sits on the raster tiles.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zhili.geo import coords, geojson, index, tilesfile
from zhili.geo.models import AreaNode, Level, Road

MAX_ZOOM = 19
# The zoom from which each level's boundaries are drawn and its names shown.
BOUNDARY_FROM = {"district": 0, "street": 10, "community": 13, "grid": 15}
LABEL_ZOOMS = {"district": (7, 11), "street": (12, 13), "community": (14, 15), "grid": (16, MAX_ZOOM)}
ROAD_FROM = {"primary": 10, "secondary": 12, "residential": 15}
ROAD_LABEL_FROM = {"primary": 14, "secondary": 15, "residential": 16}
# Margins in tile pixels (of 256): strokes need a few, labels a long name's half width.
LINE_MARGIN, LABEL_MARGIN = 4, 96
# Simplify to half a pixel: base lines are thin and drawn, not filled.
PIXEL_FRACTION = 0.5


class TileOutOfRange(ValueError):
    pass


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of the Web-Mercator tile z/x/y."""
    n = 2**z

    def lat(row):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """(x, y) of the tile holding a WGS84/GCJ-02 point at zoom z."""
    n = 2**z
    row = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return min(n - 1, int((lon + 180) / 360 * n)), min(n - 1, int(row))


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise TileOutOfRange(f"zoom {z} is outside 0–{MAX_ZOOM}")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise TileOutOfRange(f"tile {x}/{y} does not exist at zoom {z}")


def display_crs() -> str:
    """The CRS maps are drawn in: that of the configured tiles (wgs84 without tiles)."""
    tiles = settings.ZHILI_TILE_URL or getattr(settings, "ZHILI_TILES_FILE", "")
    return "gcj02" if tiles and settings.ZHILI_TILE_CRS == "gcj02" else "wgs84"


def _window(z, x, y, margin_px, crs):
    """The tile's window grown by a margin, in WGS84 (the stored coordinates)."""
    west, south, east, north = tile_bounds(z, x, y)
    dx, dy = (east - west) * margin_px / 256, (north - south) * margin_px / 256
    west, south, east, north = west - dx, south - dy, east + dx, north + dy
    if crs == "gcj02":  # the WGS84 points that display inside the GCJ-02 window
        lon, lat = coords.gcj02_to_wgs84(np.array([west, east, west, east]),
                                         np.array([south, south, north, north]))
        west, east, south, north = lon.min(), lon.max(), lat.min(), lat.max()
    return west, south, east, north


def _spans(model, field: str, version: int) -> dict[str, tuple[float, float]]:
    """The widest (lon, lat) extent of a row of each level/kind, per boundary version: it
    bounds `min_lon`/`min_lat` from below, so the window query is a range on an index."""
    key = f"geo:basemap-spans:{model._meta.label}:{version}"
    found = cache.get(key)
    if found is None:
        found = {k: (w or 0.0, h or 0.0) for k, w, h in model.objects.values_list(field).annotate(
            w=Max(F("max_lon") - F("min_lon")), h=Max(F("max_lat") - F("min_lat")))
            .values_list(field, "w", "h")}
        cache.set(key, found, 3600)
    return found


def _window_q(window, field: str, values, spans) -> Q:
    """Rows of `values` (levels or kinds) whose bounding box meets the window."""
    west, south, east, north = window
    q = Q(pk__in=[])
    for value in values:
        if value in spans:
            w, h = spans[value]
            q |= Q(**{field: value}, min_lon__gte=west - w, min_lon__lte=east,
                   min_lat__gte=south - h, min_lat__lte=north,
                   max_lon__gte=west, max_lat__gte=south)
    return q


def _to_display(geom, crs):
    if crs != "gcj02":
        return geom

    def shift(xy):
        lon, lat = coords.wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, shift)


def _lines(geom, decimals):
    """A (Multi)LineString geometry as GeoJSON, or None when nothing is left."""
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "LineString" and not g.is_empty]
    if not parts:
        return None
    lines = [np.round(shapely.get_coordinates(p), decimals).tolist() for p in parts]
    return {"type": "MultiLineString", "coordinates": lines}


def _point(lon, lat, decimals):
    return {"type": "Point", "coordinates": [round(float(lon), decimals), round(float(lat), decimals)]}


def render_tile(z: int, x: int, y: int, crs: str = "wgs84", version: int | None = None) -> dict:
    """The base map's FeatureCollection for tile z/x/y, in `crs` (wgs84 or gcj02).

    Two queries (areas, roads), and once per boundary version the extents (_spans)."""
    check_tile(z, x, y)
    version = index.boundary_version() if version is None else version
    tolerance = geojson.degrees_per_pixel(z) * PIXEL_FRACTION
    decimals = geojson.decimals_for_zoom(z)
    lines_box = shapely.box(*_window(z, x, y, LINE_MARGIN, crs))
    labels_window = _window(z, x, y, LABEL_MARGIN, crs)
    labels_box = shapely.box(*labels_window)
    features = []

    levels = [lvl for lvl, start in BOUNDARY_FROM.items() if z >= start]
    nodes = list(AreaNode.objects.filter(_window_q(labels_window, "level", levels,
                                                   _spans(AreaNode, "level", version)))
                 .values_list("level", "name", "name_en", "geometry", "centre_lon", "centre_lat",
                              "min_lon", "min_lat", "max_lon", "max_lat"))
    for level in reversed(levels):  # finest first: coarser boundaries are drawn over them
        mine = [n for n in nodes if n[0] == level and shapely.intersects(lines_box, shapely.box(*n[6:10]))]
        if mine:
            edges = shapely.boundary(shapely.from_wkb([bytes(n[3]) for n in mine]))
            clipped = shapely.intersection(edges, lines_box)
            merged = shapely.line_merge(shapely.union_all(clipped))  # shared edges once
            geom = _lines(_to_display(shapely.simplify(merged, tolerance), crs), decimals)
            if geom:
                features.append({"type": "Feature", "geometry": geom,
                                 "properties": {"layer": "boundary", "level": level}})
    for level, name, name_en, _wkb, lon, lat, *_bbox in nodes:
        low, high = LABEL_ZOOMS[level]
        if low <= z <= high and labels_box.contains(shapely.Point(lon, lat)):
            dlon, dlat = _to_display(shapely.Point(lon, lat), crs).coords[0]
            features.append({"type": "Feature", "geometry": _point(dlon, dlat, decimals),
                             "properties": {"layer": "label", "level": level, "name": name,
                                            "name_en": name_en}})

    kinds = [k for k, start in ROAD_FROM.items() if z >= start]
    spans = _spans(Road, "kind", version) if kinds else {}
    rows = list(Road.objects.filter(_window_q(labels_window, "kind", kinds, spans))
                .values_list("kind", "name", "name_en", "geometry")) if set(kinds) & set(spans) else []
    for kind, name, name_en, wkb in rows:
        line = shapely.from_wkb(bytes(wkb))
        clipped = shapely.intersection(line, lines_box)
        geom = _lines(_to_display(shapely.simplify(clipped, tolerance), crs), decimals)
        if geom:
            features.append({"type": "Feature", "geometry": geom,
                             "properties": {"layer": "road", "kind": kind}})
        if name and z >= ROAD_LABEL_FROM[kind] and line.length > 0:
            middle, ahead = line.interpolate(0.5, normalized=True), line.interpolate(0.55, normalized=True)
            if labels_box.contains(middle):
                middle, ahead = _to_display(middle, crs), _to_display(ahead, crs)
                point = _point(middle.x, middle.y, decimals)
                features.append({"type": "Feature", "geometry": point, "properties": {
                    "layer": "label", "kind": kind, "name": name, "name_en": name_en,
                    "along": [round(ahead.x, decimals), round(ahead.y, decimals)]}})
    return {"type": "FeatureCollection", "features": features, "zoom": z, "crs": crs}


# -- the disk cache -----------------------------------------------------------


def version_tag(crs: str | None = None, version: int | None = None) -> str:
    """What a tile's content depends on: the boundary version and the display CRS."""
    version = index.boundary_version() if version is None else version
    return f"{version}-{crs or display_crs()}"


def cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "basemap"


def tile_bytes(z: int, x: int, y: int) -> tuple[bytes, str]:
    """(JSON bytes, version tag) of a tile, from the disk cache or rendered and stored."""
    check_tile(z, x, y)
    crs, version = display_crs(), index.boundary_version()
    tag = version_tag(crs, version)
    path = cache_dir() / tag / str(z) / str(x) / f"{y}.json"
    try:
        return path.read_bytes(), tag
    except FileNotFoundError:
        pass
    body = json.dumps(render_tile(z, x, y, crs, version), ensure_ascii=False,
                      separators=(",", ":")).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: another process reading it never sees half a tile.
    scratch = path.with_name(f".{y}.{os.getpid()}.tmp")
    scratch.write_bytes(body)
    os.replace(scratch, path)
    return body, tag


# -- what a page's map needs ----------------------------------------------------

# Pages read no boundary version (it would cost a query a second on every map
# page); tiles are revalidated by their versioned ETag after BASE_MAX_AGE instead.
SYNTHETIC_KEY = "geo:basemap-synthetic"
PAGE_CACHE_SECONDS = 300


def is_synthetic() -> bool:
    """Whether any road or boundary on the base map is generated (said in its attribution)."""
    # Not keyed by the boundary version: a page then reads nothing to show its map.
    found = cache.get(SYNTHETIC_KEY)
    if found is None:
        found = (Road.objects.filter(synthetic=True).exists()
                 or AreaNode.objects.filter(synthetic=True).exclude(level=Level.GRID).exists())
        cache.set(SYNTHETIC_KEY, found, PAGE_CACHE_SECONDS)
    return found


def page_config() -> dict:
    """The JSON config of geo/basemap.js (the `geo/basemap.html` include)."""
    tiles, attribution, low, high = settings.ZHILI_TILE_URL, settings.ZHILI_TILE_ATTRIBUTION, 0, 19
    if getattr(settings, "ZHILI_TILES_FILE", ""):
        try:
            info = tilesfile.archive().info
            tiles = reverse("geo:tiles", args=[0, 0, 0]).replace("0/0/0", "{z}/{x}/{y}")
            attribution = settings.ZHILI_TILE_ATTRIBUTION or info.attribution
            low, high = info.min_zoom, info.max_zoom
        except tilesfile.TilesFileError:
            tiles = ""  # `zhili check` names the problem; the vector base still draws
    base = _("Zhili base map (synthetic roads and areas)") if is_synthetic() else _("Zhili base map")
    return {
        "base": reverse("geo:base-tile", args=[0, 0, 0]).replace("0/0/0", "{z}/{x}/{y}"),
        "baseAttribution": base,
        "tiles": tiles, "tilesAttribution": attribution,
        "tilesMinZoom": low, "tilesMaxZoom": high,
        "crs": display_crs(),
        "lang": get_language() or settings.LANGUAGE_CODE,
    }
