"""Rescue circles: the best time of each rescue class to every place, and its polygons.

Pure numpy/scipy/shapely (no Django), so the benchmark and the property tests
call exactly what the coverage run calls.

Road classes: one multi-source Dijkstra per class from the graph nodes nearest
its available resources, forward over the directed graph (a resource travels
*from* its node *to* the place, so one-way streets are driven their own way;
the single-target search of `routing.travel_seconds` uses the transpose for
the same reason). `min_only=True` gives each node its best time and the
source node it came from; a place is read at its nearest node plus the leg to
it at the mode's straight-line speed. A node no source reaches (another part
of a disconnected network) is `inf`: unreachable. Air: the straight line from
the nearest base at the air speed (a KD-tree query).

Polygons: a coarse raster (about `cells` across) of the cells whose nodes, or
for air whose centre, lie within the target; each row's runs of covered cells
become rectangles and one coverage union makes the (Multi)Polygon. Cheap and
bounded by the raster, not by the number of nodes reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from zhili.emergency.graph import RoadGraph, projector

NONE = -1


@dataclass
class ClassResult:
    seconds: np.ndarray  # per place; inf: no resource of the class reaches it
    resource: np.ndarray  # per place: index into the class's resources, NONE if none
    node_seconds: np.ndarray | None = None  # per graph node (road classes only)


def _straight(res_lon, res_lat, lon, lat, kmh: float) -> ClassResult:
    if len(res_lon) == 0:
        return ClassResult(np.full(len(lon), np.inf), np.full(len(lon), NONE))
    lat0 = float(np.mean(lat)) if len(lat) else float(np.mean(res_lat))
    project = projector(lat0)
    metres, nearest = cKDTree(project(res_lon, res_lat)).query(project(lon, lat))
    return ClassResult(np.asarray(metres) / kmh * 3.6, np.asarray(nearest, dtype=np.int64))


def on_graph(graph: RoadGraph, mode: str, res_lon, res_lat, lon, lat,
             access_kmh: float, snapped: tuple[np.ndarray, np.ndarray] | None = None
             ) -> ClassResult:
    """Best seconds from any resource to each place over the mode's graph; `snapped`
    (the places' nodes and metres to them, from `graph.snap`) saves snapping twice."""
    n_places = len(lon)
    if len(res_lon) == 0:
        return ClassResult(np.full(n_places, np.inf), np.full(n_places, NONE),
                           np.full(graph.nodes, np.inf))
    res_nodes, _ = graph.snap(res_lon, res_lat)
    # Several resources on one node: the first listed stands for it.
    sources, first = np.unique(res_nodes, return_index=True)
    owner = np.full(graph.nodes, NONE, dtype=np.int64)
    owner[sources] = first
    dist, _, source = dijkstra(graph.matrix(mode), directed=True, indices=sources,
                               min_only=True, return_predecessors=True)
    place_nodes, access_m = snapped if snapped is not None else graph.snap(lon, lat)
    seconds = dist[place_nodes] + access_m / access_kmh * 3.6
    src = source[place_nodes]
    resource = np.where(src >= 0, owner[np.maximum(src, 0)], NONE)
    resource = np.where(np.isfinite(seconds), resource, NONE)
    return ClassResult(seconds, resource, dist)


# -- polygons -----------------------------------------------------------------


@dataclass
class Raster:
    min_lon: float
    min_lat: float
    dx: float
    dy: float
    cols: int
    rows: int

    @classmethod
    def over(cls, bbox, cells: int = 400) -> Raster:
        min_lon, min_lat, max_lon, max_lat = bbox
        width_m = (max_lon - min_lon) * np.cos(np.radians((min_lat + max_lat) / 2))
        height_m = max_lat - min_lat
        step = max(width_m, height_m, 1e-6) / cells  # degrees of latitude per cell
        dy = step
        dx = step / np.cos(np.radians((min_lat + max_lat) / 2))
        cols = max(1, int(np.ceil((max_lon - min_lon) / dx)) + 1)
        rows = max(1, int(np.ceil((max_lat - min_lat) / dy)) + 1)
        return cls(min_lon - dx / 2, min_lat - dy / 2, dx, dy, cols, rows)

    def cells_of(self, lon, lat) -> np.ndarray:
        c = np.clip(((np.asarray(lon) - self.min_lon) / self.dx).astype(np.int64), 0, self.cols - 1)
        r = np.clip(((np.asarray(lat) - self.min_lat) / self.dy).astype(np.int64), 0, self.rows - 1)
        return r * self.cols + c

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        r, c = np.divmod(np.arange(self.rows * self.cols), self.cols)
        return self.min_lon + (c + 0.5) * self.dx, self.min_lat + (r + 0.5) * self.dy

    def polygon(self, covered: np.ndarray):
        """The union of the covered cells (a flat boolean per cell), or None."""
        grid = covered.reshape(self.rows, self.cols)
        if not grid.any():
            return None
        padded = np.zeros((self.rows, self.cols + 2), dtype=np.int8)
        padded[:, 1:-1] = grid
        steps = np.diff(padded, axis=1)
        start_r, start_c = np.nonzero(steps == 1)
        end_r, end_c = np.nonzero(steps == -1)  # same order: row-major, runs alternate
        boxes = shapely.box(self.min_lon + start_c * self.dx, self.min_lat + start_r * self.dy,
                            self.min_lon + end_c * self.dx, self.min_lat + (end_r + 1) * self.dy)
        return shapely.coverage_union_all(boxes)


def raster_cells(nodes: int) -> int:
    """Cells across for a graph of `nodes`: a few nodes per cell, at most 400 across."""
    return int(np.clip(np.sqrt(nodes) / 2.5, 16, 400))


def road_polygon(raster: Raster, graph: RoadGraph, node_seconds: np.ndarray, target_s: float):
    """Cells holding a node reached in time, closed by one cell (a covered street's
    neighbour block without a junction of its own is not a hole)."""
    from scipy import ndimage

    reached = node_seconds <= target_s
    covered = np.zeros(raster.rows * raster.cols, dtype=bool)
    covered[raster.cells_of(graph.lon[reached], graph.lat[reached])] = True
    grid = covered.reshape(raster.rows, raster.cols)
    closed = ndimage.binary_closing(np.pad(grid, 1), iterations=1)[1:-1, 1:-1] | grid
    return raster.polygon(closed.ravel())


def air_polygon(raster: Raster, res_lon, res_lat, kmh: float, target_s: float):
    if len(res_lon) == 0:
        return None
    lon, lat = raster.centres()
    result = _straight(res_lon, res_lat, lon, lat, kmh)
    return raster.polygon(result.seconds <= target_s)


def straight_line(res_lon, res_lat, lon, lat, kmh: float) -> ClassResult:
    """Best straight-line seconds from any resource at `kmh` (air, or no road network)."""
    return _straight(np.asarray(res_lon, float), np.asarray(res_lat, float),
                     np.asarray(lon, float), np.asarray(lat, float), kmh)
