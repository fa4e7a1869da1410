"""What a map shows now (a bounding box and a zoom) and point clusters for it,
counted in the database.

A layer of hundreds of thousands of points (the city's 520,000 risk points) is
not sent to the browser: at a low zoom the layer answers one feature per screen
cell of about CLUSTER_PX pixels, with its count and centroid, from one GROUP BY
over the actor's scoped rows. Cells are fixed to the zoom (anchored at 0°, 0°),
so panning does not move a cluster, and the box is widened to whole cells, so
no cluster is cut at the edge of the screen.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

from django.db import connection, transaction
from django.db.models import Avg, Count, F, Min
from django.db.models.functions import Floor
from django.utils.translation import gettext as _

from zhili.core.errors import FieldError, ValidationFailed

CLUSTER_PX = 56          # a cell's side on the screen
POINTS_FROM_ZOOM = 14    # from this zoom up the points themselves, never clusters
MAX_CELLS = 20_000       # more cells than a 4K screen holds: a box too big for its zoom
# ASCII only: Python's float() and int() also take "１", "1_0", " 1" and "nan".
DEGREES = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,15})?")
ZOOM = re.compile(r"[0-9]{1,2}")


@dataclass(frozen=True)
class Viewport:
    west: float
    south: float
    east: float
    north: float
    zoom: int

    @classmethod
    def from_query(cls, params) -> Viewport | None:
        """The `bbox=west,south,east,north` (WGS84 degrees) and `zoom` of a request's
        query, None when it has neither; a ValidationFailed naming what is wrong."""
        raw_box, raw_zoom = params.get("bbox"), params.get("zoom")
        if raw_box is None and raw_zoom is None:
            return None
        errors = []
        box = None
        parts = (raw_box or "").split(",")
        if len(parts) == 4 and all(DEGREES.fullmatch(v) for v in parts):
            box = [float(v) for v in parts]
        else:
            errors.append(FieldError("bbox", _("four numbers: west,south,east,north in degrees")))
        if box is not None:
            west, south, east, north = box
            if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
                errors.append(FieldError(
                    "bbox", _("west must be less than east and south less than north, "
                              "within ±180 and ±90")))
        zoom = None
        if raw_zoom is None or not ZOOM.fullmatch(raw_zoom) or int(raw_zoom) > 22:
            errors.append(FieldError("zoom", _("a whole number from 0 to 22")))
        else:
            zoom = int(raw_zoom)
        if errors:
            raise ValidationFailed(errors)
        viewport = cls(*box, zoom)
        if viewport.clusters and viewport.cells() > MAX_CELLS:
            raise ValidationFailed([FieldError("bbox", _("the box is too large for this zoom"))])
        return viewport

    @property
    def clusters(self) -> bool:
        return self.zoom < POINTS_FROM_ZOOM

    @cached_property
    def cell_size(self) -> tuple[float, float]:
        """A cell's width and height in degrees: CLUSTER_PX at this zoom, the height
        shortened by the latitude as Web Mercator stretches it."""
        width = CLUSTER_PX * 360.0 / (256 * 2 ** self.zoom)
        middle = math.radians((self.south + self.north) / 2)
        return width, width * max(0.1, math.cos(middle))

    def cell_of(self, lon: float, lat: float) -> tuple[int, int]:
        """The cell of a point: the same arithmetic as the database's GROUP BY."""
        width, height = self.cell_size
        return math.floor(lon / width), math.floor(lat / height)

    def snapped(self) -> tuple[float, float, float, float]:
        """The box widened to whole cells."""
        width, height = self.cell_size
        return (math.floor(self.west / width) * width, math.floor(self.south / height) * height,
                math.ceil(self.east / width) * width, math.ceil(self.north / height) * height)

    def cells(self) -> int:
        width, height = self.cell_size
        west, south, east, north = self.snapped()
        return round((east - west) / width) * round((north - south) / height)

    def within(self, queryset, *, lon: str = "lon", lat: str = "lat"):
        """The rows inside the (snapped) box."""
        west, south, east, north = self.snapped() if self.clusters else (
            self.west, self.south, self.east, self.north)
        return queryset.filter(**{f"{lon}__gte": west, f"{lon}__lt": east,
                                  f"{lat}__gte": south, f"{lat}__lt": north})


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    count: int
    lon: float   # the centroid of its points
    lat: float
    first: int   # the smallest id among them: the point itself when count is 1
    extra: tuple = ()  # the values of `cluster_cells(extra=...)`, in its order


def cluster_cells(queryset, viewport: Viewport, *, lon: str = "lon", lat: str = "lat",
                  extra: dict | None = None) -> list[Cell]:
    """One GROUP BY over the rows in the box: a Cell per occupied screen cell, with
    the `extra` aggregates ({name: Count(...)}) of each."""
    width, height = viewport.cell_size
    extra = extra or {}
    rows = (viewport.within(queryset, lon=lon, lat=lat).order_by()
            .annotate(cell_x=Floor(F(lon) / width), cell_y=Floor(F(lat) / height))
            .values("cell_x", "cell_y")
            .annotate(n=Count("id"), mean_lon=Avg(lon), mean_lat=Avg(lat), first=Min("id"),
                      **extra)
            .values_list("cell_x", "cell_y", "n", "mean_lon", "mean_lat", "first", *extra))
    if connection.vendor == "postgresql":
        # PostgreSQL cannot know how few cells there are (at most MAX_CELLS; it guesses
        # a tenth of the rows) and sorts 520,000 rows on disk to group them: hashing is
        # 2x faster (bench/clusters.py). For this statement only.
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            rows = list(rows)
            cursor.execute("SET LOCAL enable_sort TO DEFAULT")
    return [Cell(int(x), int(y), n, mean_lon, mean_lat, first, tuple(more))
            for x, y, n, mean_lon, mean_lat, first, *more in rows]


def cluster_feature(cell: Cell, properties: dict) -> dict:
    """A cluster as a GeoJSON Feature: `cluster` true, its `count`, at its centroid."""
    return {"type": "Feature", "id": f"cell:{cell.x}:{cell.y}",
            "geometry": {"type": "Point", "coordinates": [round(cell.lon, 6), round(cell.lat, 6)]},
            "properties": {"cluster": True, "count": cell.count, **properties}}


def clustered_collection(cells: list[Cell], *, points, properties) -> dict:
    """A layer's answer from its cells: `points(ids)` is the FeatureCollection of the
    rows of the cells of one (they come as themselves), `properties(cell)` the layer's
    own properties of a cluster; `clustered` true and the `total` counted."""
    singles = [cell.first for cell in cells if cell.count == 1]
    collection = points(singles) if singles else {"type": "FeatureCollection", "features": []}
    collection["features"] += [cluster_feature(cell, properties(cell))
                               for cell in cells if cell.count > 1]
    collection["clustered"] = True
    collection["total"] = sum(cell.count for cell in cells)
    return collection


def with_viewport(view):
    """A map layer's view, called with `viewport=` (Viewport or None) from its query;
    a bad box or zoom answers the 422 problem naming it, and the view is not called."""
    from functools import wraps

    from django.http import JsonResponse

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            viewport = Viewport.from_query(request.GET)
        except ValidationFailed as exc:
            return JsonResponse(exc.as_problem(instance=request.path), status=exc.status,
                                content_type="application/problem+json")
        return view(request, *args, viewport=viewport, **kwargs)

    return wrapped
