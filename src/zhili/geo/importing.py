"""Checking GeoJSON boundaries before they are imported (`zhili city import`).

Every feature is checked and every problem reported with the feature's
index; `area_import` writes nothing unless all of them pass. The rules:

* a GeoJSON Feature with a Polygon or MultiPolygon in WGS84 lon/lat, valid
  (no self-intersection; GEOS says why) and not empty;
* `code`: the trimmed code for the level (district 6 digits, street 9,
  community 12, grid 15) or the 12-digit full code; unique in the file; not
  the code of a node of another level (a segment of zeros would make it its
  parent's full code);
* every ring closed, with at least 4 positions of [lon, lat] numbers (RFC 7946
  §3.1.6; shapely would silently close an open one);
* `name` (zh-Hans, at most 64 characters), optional `name_en`, `synthetic`;
* optional `population` on grids: a whole number from 0 to 2,147,483,647 (null or
  absent: no figure given; a replaced grid keeps the one it had);
  no NUL, unpaired surrogate or control character (the database would refuse
  them on `--commit`; the dry run says so first);
* the parent is the node whose code is the feature's code cut to the parent
  level (`parent_code`, if given, must say the same) and must exist;
* no overlap with a sibling (in the file or in the database) larger than the
  tolerance, and nothing outside the parent larger than the tolerance.

A code already present at the same level is a replacement: its geometry and
names change, its children stay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from zhili.core.inputguard import unstorable_reason
from zhili.geo.models import (
    TRIMMED_DIGITS,
    AreaNode,
    Level,
    full_code,
    parent_level,
)

IMPORT_LEVELS = (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID)
DEFAULT_TOLERANCE_M2 = 100.0
METRES_PER_DEGREE = 111_320.0
POPULATION_MAX = 2_147_483_647  # the column's bound (PositiveIntegerField)


@dataclass
class Problem:
    index: int
    reason: str
    code: str = ""

    def __str__(self) -> str:
        return f"feature #{self.index}{f' ({self.code})' if self.code else ''}: {self.reason}"


@dataclass
class Candidate:
    index: int
    code: str  # full
    trimmed: str
    name: str
    name_en: str
    synthetic: bool
    geometry: BaseGeometry
    parent: AreaNode
    existing: AreaNode | None = None
    population: int | None = None  # None: not given (a replacement keeps its figure)


@dataclass
class Plan:
    level: str
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def new(self) -> list[Candidate]:
        return [c for c in self.candidates if c.existing is None]

    @property
    def replaced(self) -> list[Candidate]:
        return [c for c in self.candidates if c.existing is not None]


def _chunks(items: list, size: int = 2000):
    """Slices small enough for any database's limit on query parameters."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def square_metres(geom: BaseGeometry) -> float:
    """Approximate area of a small lon/lat geometry in m² (local equirectangular)."""
    if geom.is_empty:
        return 0.0
    lat = geom.centroid.y
    return geom.area * METRES_PER_DEGREE**2 * math.cos(math.radians(lat))


def _control(text: str) -> str | None:
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text):
        return "contains a control character (a line break, a tab, ...)"
    return None


def parse_code(raw, level: str) -> str:
    """The trimmed code of a feature, or ValueError saying what is wrong."""
    digits = TRIMMED_DIGITS[level]
    code = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    if not code.isascii() or not code.isdigit():
        raise ValueError("code: " + _("expected digits, got %(raw)r") % {"raw": raw})
    if len(code) == 12 and digits < 12 and set(code[digits:]) == {"0"}:
        code = code[:digits]
    if len(code) != digits:
        message = _("a %(level)s code has %(n)d digits (or the 12-digit full code), got %(code)r") \
            if digits < 12 else _("a %(level)s code has %(n)d digits, got %(code)r")
        raise ValueError("code: " + message % {"level": level, "n": digits, "code": code})
    return code


def zero_segment(code: str, level: str) -> bool:
    """A code whose own segment is all zeros would be its parent's full code."""
    return set(code[TRIMMED_DIGITS[parent_level(level)]:]) == {"0"}


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_rings(polygon, where: str) -> None:
    """RFC 7946 §3.1.6: each ring closed, at least 4 positions, positions of 2-3 numbers.
    shapely would close an open ring silently, so this looks at the raw lists first."""
    if not isinstance(polygon, list | tuple) or not polygon:
        raise ValueError(f"geometry: {where} must be a list of linear rings")
    for r, ring in enumerate(polygon):
        if not isinstance(ring, list | tuple) or len(ring) < 4:
            raise ValueError(f"geometry: {where} ring {r} needs at least 4 positions "
                             "(RFC 7946 §3.1.6)")
        for position in ring:
            if not isinstance(position, list | tuple) or not 2 <= len(position) <= 3 \
                    or not all(_is_number(v) for v in position):
                raise ValueError(f"geometry: {where} ring {r} has a position that is not "
                                 "[lon, lat] numbers")
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise ValueError(f"geometry: {where} ring {r} is not closed (its last position "
                             "must repeat the first)")


def parse_geometry(raw) -> BaseGeometry:
    if not isinstance(raw, dict):
        raise ValueError("geometry: " + _("missing"))
    coordinates = raw.get("coordinates")
    if raw.get("type") == "Polygon":
        _check_rings(coordinates, "the polygon's")
    elif raw.get("type") == "MultiPolygon":
        if not isinstance(coordinates, list | tuple) or not coordinates:
            raise ValueError("geometry: a MultiPolygon needs a list of polygons")
        for n, polygon in enumerate(coordinates):
            _check_rings(polygon, f"polygon {n}'s")
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several kinds on malformed input
        raise ValueError("geometry: " + _("not a valid GeoJSON geometry (%(error)s)")
                         % {"error": exc}) from None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError("geometry: " + _("expected Polygon or MultiPolygon, got %(type)s")
                         % {"type": geom.geom_type})
    if geom.is_empty:
        raise ValueError("geometry: " + _("empty"))
    geom = shapely.force_2d(geom)
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all() or (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        raise ValueError("geometry: "
                         + _("coordinates must be WGS84 longitude, latitude (RFC 7946)"))
    if not geom.is_valid:
        raise ValueError("geometry: " + _("invalid (%(reason)s)")
                         % {"reason": shapely.is_valid_reason(geom)})
    return geom


def parse_population(raw, level: str) -> int | None:
    """The `population` property: None when absent or null, else a whole number."""
    if raw is None:
        return None
    if level != Level.GRID:
        raise ValueError("population: " + _("only grids carry a population (this is a "
                                            "%(level)s)") % {"level": level})
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= POPULATION_MAX:
        raise ValueError("population: " + _("expected a whole number from 0 to %(max)s, got "
                                            "%(raw)s") % {"max": f"{POPULATION_MAX:,}",
                                                          "raw": _shown(raw)})
    return raw


def _shown(raw) -> str:
    text = repr(raw) if not isinstance(raw, bool) else str(raw).lower()
    return text if len(text) <= 40 else text[:37] + "..."


def _parse_feature(feature, level: str) -> tuple[str, dict, BaseGeometry]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValueError(_("not a GeoJSON Feature"))
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise ValueError("properties: " + _("must be an object"))
    code = parse_code(props.get("code"), level)
    name = props.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise ValueError("name: " + _("required, at most %(n)d characters") % {"n": 64})
    name_en = props.get("name_en") or ""
    if not isinstance(name_en, str) or len(name_en) > 128:
        raise ValueError("name_en: " + _("at most %(n)d characters") % {"n": 128})
    parse_population(props.get("population"), level)
    for key, text in (("name", name), ("name_en", name_en)):
        # What the database would refuse on --commit, found on the dry run.
        if (reason := unstorable_reason(text)) or (reason := _control(text)):
            raise ValueError(f"{key}: {reason}")
    if "parent_code" in props:
        parent_trimmed = code[: TRIMMED_DIGITS[parent_level(level)]]
        given = str(props["parent_code"] or "")
        if full_code(given) != full_code(parent_trimmed) and given != parent_trimmed:
            raise ValueError("parent_code: " + _("%(given)s is not the parent by the code's "
                                                 "prefix (%(parent)s)")
                             % {"given": given, "parent": full_code(parent_trimmed)})
    return code, props, parse_geometry(feature.get("geometry"))


def import_plan(*, level: str, features: list, tolerance_m2: float = DEFAULT_TOLERANCE_M2) -> Plan:
    """Check every feature; the plan lists the problems and what would be written."""
    plan = Plan(level=level)
    if level not in IMPORT_LEVELS:
        plan.problems.append(Problem(-1, "level: " + _("must be one of %(v)s")
                                     % {"v": ", ".join(IMPORT_LEVELS)}))
        return plan
    up = parent_level(level)
    parsed, seen = [], {}
    for i, feature in enumerate(features):
        try:
            code, props, geom = _parse_feature(feature, level)
        except ValueError as exc:
            raw = feature.get("properties", {}).get("code") if isinstance(feature, dict) and \
                isinstance(feature.get("properties"), dict) else None
            plan.problems.append(Problem(i, str(exc), str(raw or "")))
            continue
        if code in seen:
            plan.problems.append(Problem(i, "code: " + _("duplicate of feature #%(n)d")
                                        % {"n": seen[code]}, code))
            continue
        seen[code] = i
        parsed.append((i, code, props, geom))

    fulls = [full_code(code) for _, code, _, _ in parsed]
    parent_fulls = sorted({full_code(code[: TRIMMED_DIGITS[up]]) for _, code, _, _ in parsed})
    existing = {n.code: n for part in _chunks(fulls)
                for n in AreaNode.objects.filter(code__in=part).defer("geometry")}
    parents = {n.code: n for part in _chunks(parent_fulls)
               for n in AreaNode.objects.filter(code__in=part, level=up)}
    for i, code, props, geom in parsed:
        full = full_code(code)
        parent_full = full_code(code[: TRIMMED_DIGITS[up]])
        if full in existing and existing[full].level != level:
            other = existing[full]
            plan.problems.append(Problem(i, "code: " + _(
                "duplicate of the %(level)s %(name)s (%(code)s) in the database")
                % {"level": other.level, "name": other.name, "code": other.code}, full))
        elif zero_segment(code, level):
            plan.problems.append(Problem(i, "code: " + _("the last segment of %(code)s may not "
                                                         "be all zeros") % {"code": code}, full))
        elif parent_full not in parents:
            plan.problems.append(Problem(i, "parent: " + _("no %(level)s with code %(code)s")
                                        % {"level": up, "code": parent_full}, full))
        else:
            plan.candidates.append(Candidate(
                index=i, code=full, trimmed=code, name=props["name"].strip(),
                name_en=props.get("name_en") or "", synthetic=bool(props.get("synthetic", False)),
                geometry=geom, parent=parents[parent_full], existing=existing.get(full),
                population=parse_population(props.get("population"), level)))
    plan.problems.extend(_overlaps(plan.candidates, tolerance_m2))
    plan.problems.sort(key=lambda p: p.index)
    plan.candidates = [c for c in plan.candidates if c.index not in {p.index for p in plan.problems}]
    return plan


def _overlaps(candidates: list[Candidate], tolerance_m2: float) -> list[Problem]:
    """Siblings overlapping (file or database), and parts outside the parent, beyond tolerance."""
    problems = []
    by_parent: dict[int, list[Candidate]] = {}
    for c in candidates:
        by_parent.setdefault(c.parent.pk, []).append(c)
    replaced = {c.code for c in candidates}
    db_siblings: dict[int, list[tuple[str, BaseGeometry]]] = {}
    for part in _chunks(list(by_parent)):
        for parent_id, code, wkb in (AreaNode.objects.filter(parent_id__in=part)
                                     .values_list("parent_id", "code", "geometry")):
            if code not in replaced:  # a replaced sibling is judged by its new shape
                db_siblings.setdefault(parent_id, []).append((code, shapely.from_wkb(bytes(wkb))))
    for parent_id, group in by_parent.items():
        parent_shape = group[0].parent.shape
        for c in group:
            outside = square_metres(shapely.difference(c.geometry, parent_shape))
            if outside > tolerance_m2:
                problems.append(Problem(c.index, _("extends outside its parent %(code)s by "
                                                   "%(area)s m²")
                                        % {"code": group[0].parent.code,
                                           "area": f"{outside:.0f}"}, c.code))
        others = db_siblings.get(parent_id, [])
        labels = [f"feature #{c.index} ({c.code})" for c in group] + [
            _("%(code)s (in the database)") % {"code": code} for code, _shape in others]
        shapes = [c.geometry for c in group] + [g for _, g in others]
        tree = shapely.STRtree(shapes)
        left, right = tree.query(shapes[: len(group)], predicate="intersects")
        for a, b in zip(left, right, strict=True):
            if a == b or (b < len(group) and b < a):
                continue  # each file pair once, reported on the later feature
            area = square_metres(shapely.intersection(shapes[a], shapes[b]))
            if area > tolerance_m2:
                later, earlier = (a, b) if b >= len(group) else (b, a)
                problems.append(Problem(group[later].index, _("overlaps the sibling %(other)s by "
                                                              "%(area)s m²")
                                        % {"other": labels[earlier], "area": f"{area:.0f}"},
                                        group[later].code))
    return problems
