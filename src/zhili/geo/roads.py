"""Road lines for the base map: read from OSM-like GeoJSON, or generated for the demo city.

OSM-like means LineString/MultiLineString features whose properties carry
`highway` (primary, trunk, secondary, tertiary, residential, …), `name` and
optionally `name:en` — what `osmium export` or the emergency app's imported
OSM network gives. They are only drawn; nothing routes on them here.

The demo city has no real roads, so `synthetic_roads` draws a plausible
network from the generated areas: main roads join neighbouring street
centres, secondary roads neighbouring community centres, local roads
neighbouring grid centres (Delaunay edges, long ones dropped, clipped to the
city). They are marked synthetic and the base map's attribution says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint
from shapely.geometry.base import BaseGeometry

# OSM highway values → the three classes the base map draws.
HIGHWAY_KIND = {
    "motorway": "primary", "trunk": "primary", "primary": "primary",
    "motorway_link": "primary", "trunk_link": "primary", "primary_link": "primary",
    "secondary": "secondary", "tertiary": "secondary",
    "secondary_link": "secondary", "tertiary_link": "secondary",
    "residential": "residential", "unclassified": "residential", "living_street": "residential",
    "service": "residential",
}

# Name stems of the generated roads (common Chinese road names), with pinyin.
STEMS = [("解放", "Jiefang"), ("民生", "Minsheng"), ("中山", "Zhongshan"), ("人民", "Renmin"),
         ("建设", "Jianshe"), ("和平", "Heping"), ("长江", "Changjiang"), ("嘉陵", "Jialing"),
         ("新华", "Xinhua"), ("临江", "Linjiang"), ("五四", "Wusi"), ("青年", "Qingnian"),
         ("沧白", "Cangbai"), ("邹容", "Zourong"), ("大坪", "Daping"), ("桂花", "Guihua"),
         ("枇杷山", "Pipashan"), ("上清寺", "Shangqingsi"), ("两路口", "Lianglukou"),
         ("石油", "Shiyou"), ("虎头岩", "Hutouyan"), ("鹅岭", "Eling"), ("健康", "Jiankang"),
         ("滨江", "Binjiang")]
SUFFIX = {"primary": ("大道", " Avenue"), "secondary": ("路", " Road"),
          "residential": ("街", " Street")}
# Delaunay edges longer than this many times the median are across a gap: dropped.
LONG_EDGE = 2.0
SOURCE_SYNTHETIC = "synthetic"


@dataclass(frozen=True)
class RoadLine:
    kind: str
    name: str
    name_en: str
    geometry: BaseGeometry  # LineString or MultiLineString, WGS84


class RoadProblem(ValueError):
    def __init__(self, index: int, reason: str):
        super().__init__(f"features[{index}]: {reason}")
        self.index, self.reason = index, reason


def from_geojson(features: list) -> list[RoadLine]:
    """OSM-like line features as RoadLines; features of other highway classes are skipped.

    Raises RoadProblem naming the first feature that is not a valid line.
    """
    roads = []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            raise RoadProblem(i, "not a GeoJSON Feature")
        props = feature.get("properties") or {}
        kind = HIGHWAY_KIND.get(str(props.get("highway", "")))
        if kind is None:
            continue
        try:
            geom = shapely.geometry.shape(feature.get("geometry") or {})
        except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException):
            raise RoadProblem(i, "geometry is not valid GeoJSON") from None
        if geom.geom_type not in ("LineString", "MultiLineString") or geom.is_empty:
            raise RoadProblem(i, f"geometry must be a LineString, not {geom.geom_type}")
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise RoadProblem(i, "coordinates are not WGS84 longitude, latitude")
        roads.append(RoadLine(kind, str(props.get("name") or "")[:64],
                              str(props.get("name:en") or props.get("name_en") or "")[:128], geom))
    return roads


def _edges(points: np.ndarray) -> list[BaseGeometry]:
    """Delaunay edges between the points, without the long ones across gaps."""
    if len(points) < 2:
        return []
    if len(points) == 2:
        return [shapely.LineString(points)]
    edges = shapely.get_parts(shapely.delaunay_triangles(MultiPoint(points), only_edges=True))
    lengths = shapely.length(edges)
    return list(edges[lengths <= LONG_EDGE * np.median(lengths)])


def synthetic_roads(areas: dict[str, list[tuple[float, float]]], land: BaseGeometry,
                    seed: int = 1) -> list[RoadLine]:
    """A labelled road network joining area centres: `areas` maps a level
    (street, community, grid) to its centres (lon, lat). Clipped to `land`."""
    rng = np.random.default_rng(seed)
    kinds = (("street", "primary"), ("community", "secondary"), ("grid", "residential"))
    shapely.prepare(land)
    roads: list[RoadLine] = []
    for level, kind in kinds:
        centres = np.asarray(areas.get(level) or [], dtype=float).reshape(-1, 2)
        edges = _edges(centres)
        if not edges:
            continue
        clipped = shapely.intersection(np.asarray(edges, dtype=object), land)
        zh, en = SUFFIX[kind]
        stems = rng.integers(0, len(STEMS), size=len(clipped))
        for n, (geom, stem) in enumerate(zip(clipped, stems, strict=True), start=1):
            lines = [g for g in shapely.get_parts(geom) if g.geom_type == "LineString"
                     and not g.is_empty]
            if not lines:
                continue
            geom = lines[0] if len(lines) == 1 else shapely.MultiLineString(lines)
            name_zh, name_en = STEMS[stem]
            number = n % 9 + 1
            # Local streets are numbered lanes of a stem (民生三街); the rest plain (民生路).
            if kind == "residential":
                name, label = f"{name_zh}{'一二三四五六七八九'[number - 1]}{zh}", f"{name_en} {number}{en}"
            else:
                name, label = f"{name_zh}{zh}", f"{name_en}{en}"
            roads.append(RoadLine(kind, name, label, geom))
    return roads
