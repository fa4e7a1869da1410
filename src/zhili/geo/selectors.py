"""Reads of the city's geography, for an actor.

Visibility (`geo.view_area`): a node is visible when it lies in the subtree
of one of the actor's scope paths, or is an ancestor of one, so the map can
show the way down from the city to the actor's own area. Anything else is
the same NotFound as a missing code.

Locating is not scoped: which grid holds a point is public geography
(`GET /locate` is open to anyone); only the batch needs a login.
"""

from __future__ import annotations

import shapely
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from zhili.core.errors import NotFound, OutsideCity
from zhili.core.scoping import Scope, scope_of
from zhili.geo import basemap, coords, geojson, index
from zhili.geo.index import Located, Place
from zhili.geo.models import AreaNode, Level, normalise_code

PERMISSION = "geo.view_area"
CACHE_SECONDS = 3600


def ancestor_paths(path: str) -> list[str]:
    """Paths of `path` and every ancestor, root first."""
    parts = path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def actor_scope(actor) -> Scope:
    return scope_of(actor, PERMISSION)


def visible_q(scope: Scope) -> Q:
    if scope.everywhere:
        return Q()
    if not scope.paths:
        return Q(pk__in=[])
    above = sorted({a for p in scope.paths for a in ancestor_paths(p)[:-1]})
    return scope.q("path") | Q(path__in=above)


def is_visible(scope: Scope, path: str) -> bool:
    return scope.covers(path) or any(p.startswith(path) for p in scope.paths)


def visible_child_count(scope: Scope, path: str, total: int) -> int:
    """Children of `path` the actor sees: all of them inside the scope, else those on the way down."""
    if scope.covers(path):
        return total
    return len({p[len(path):].split("/", 1)[0] for p in scope.paths
                if p.startswith(path) and p != path})


def _nodes():
    return AreaNode.objects.defer("geometry")


def node_by_code(code) -> AreaNode | None:
    """The node with this code, full (`500103000000`) or trimmed (`500103`), without its
    outline; None when there is none or `code` cannot be one.

    Not scoped: callers that take a code as a filter or a form field check the
    actor's scope on what they then read.
    """
    full = normalise_code(str(code).strip()) if isinstance(code, str | int) else None
    return _nodes().filter(code=full).first() if full else None


def node_get(*, actor, code: str, with_geometry: bool = False) -> AreaNode:
    full = normalise_code(code)
    queryset = AreaNode.objects if with_geometry else _nodes()
    node = queryset.filter(code=full).first() if full else None
    if node is None or not is_visible(actor_scope(actor), node.path):
        raise NotFound(_("No area with code %(code)s.") % {"code": code})
    return node


def node_detail(*, actor, code: str) -> dict:
    node = node_get(actor=actor, code=code)
    scope = actor_scope(actor)
    above = _nodes().filter(path__in=ancestor_paths(node.path)[:-1]).order_by("path")
    total = AreaNode.objects.filter(parent=node).count() if scope.covers(node.path) else 0
    return {"node": node, "ancestors": list(above),
            "child_count": visible_child_count(scope, node.path, total)}


def node_list(*, actor, level: str | None = None, parent: str | None = None,
              q: str | None = None):
    queryset = _nodes().filter(visible_q(actor_scope(actor))).order_by("path")
    if level:
        queryset = queryset.filter(level=level)
    if parent:
        queryset = queryset.filter(parent__code=normalise_code(parent) or "-")
    if q:
        queryset = queryset.filter(Q(name__icontains=q) | Q(name_en__icontains=q)
                                   | Q(code__startswith=q))
    return queryset


def _children_features(node: AreaNode, zoom: int) -> list[tuple[str, int, dict]]:
    """(path, total child count, feature) of every child, simplified for `zoom`; cached."""
    key = f"geo:children:{node.code}:{zoom}:{index.boundary_version()}"
    found = cache.get(key)
    if found is not None:
        return found
    children = list(AreaNode.objects.filter(parent=node).order_by("code"))
    counts = dict(AreaNode.objects.filter(parent__parent=node).values_list("parent_id")
                  .annotate(n=Count("id")).values_list("parent_id", "n"))
    shapes = geojson.simplify_siblings(
        list(shapely.from_wkb([bytes(c.geometry) for c in children])) if children else [],
        geojson.zoom_tolerance(zoom))
    decimals = geojson.decimals_for_zoom(zoom)
    found = [
        (child.path, counts.get(child.pk, 0), geojson.feature(shape, {
            "code": child.code, "name": child.name, "name_en": child.name_en,
            "level": child.level, "synthetic": child.synthetic,
        }, decimals))
        for child, shape in zip(children, shapes, strict=True)
    ]
    cache.set(key, found, CACHE_SECONDS)
    return found


def node_children_geojson(*, actor, code: str, zoom: int | None = None) -> dict:
    """The node's visible children as an RFC 7946 FeatureCollection, simplified for `zoom`."""
    node = node_get(actor=actor, code=code)
    if zoom is None:
        zoom = geojson.zoom_to_fit((node.min_lon, node.min_lat, node.max_lon, node.max_lat))
    scope = actor_scope(actor)
    features = []
    for path, total, feature in _children_features(node, zoom):
        if is_visible(scope, path):
            props = dict(feature["properties"], child_count=visible_child_count(scope, path, total))
            features.append({**feature, "properties": props})
    collection = geojson.feature_collection(features)
    collection["bbox"] = [node.min_lon, node.min_lat, node.max_lon, node.max_lat]
    collection["zoom"] = zoom  # a foreign member (RFC 7946 §6.1): the zoom simplified for
    return collection


def map_display_crs() -> str:
    """The CRS pages draw maps in: gcj02 with AMap/Tencent tiles configured, else wgs84."""
    return basemap.display_crs()


# -- locating (public) -------------------------------------------------------


def locate_point(*, lon: float, lat: float, crs: str = "wgs84") -> dict:
    """The grid, community, street and district holding a point; OutsideCity if none."""
    wlon, wlat = coords.to_wgs84(lon, lat, crs)
    found = index.get_index().locate(wlon, wlat)
    if found is None:
        raise OutsideCity(_("No grid of the city holds the point (%(lon)s, %(lat)s) [%(crs)s].")
                          % {"lon": lon, "lat": lat, "crs": crs})
    return {"point": {"lon": float(wlon), "lat": float(wlat)}, **found.as_dict()}


def locate_points(*, points: list[tuple[float, float]], crs: str = "wgs84") -> list[dict | None]:
    if not points:
        return []
    lon, lat = coords.to_wgs84([p[0] for p in points], [p[1] for p in points], crs)
    found = index.get_index().locate_many(lon, lat)
    return [{"point": {"lon": float(x), "lat": float(y)}, **f.as_dict()} if f else None
            for x, y, f in zip(lon, lat, found, strict=True)]


def locate_by_scan(lon: float, lat: float) -> Located | None:
    """One point without building the index (for the CLI): same rule, straight from the database."""
    rows = (AreaNode.objects.filter(level=Level.GRID, min_lon__lte=lon, max_lon__gte=lon,
                                    min_lat__lte=lat, max_lat__gte=lat)
            .order_by("code").values_list("code", "name", "name_en", "path", "geometry"))
    for code, name, name_en, path, wkb in rows:
        if shapely.intersects_xy(shapely.from_wkb(bytes(wkb)), lon, lat):
            up = {n.level: Place(n.code, n.name, n.name_en)
                  for n in _nodes().filter(path__in=ancestor_paths(path)[:-1])}
            return Located(Place(code, name, name_en), up.get(Level.COMMUNITY),
                           up.get(Level.STREET), up.get(Level.DISTRICT), path)
    return None
