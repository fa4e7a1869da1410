"""The in-memory locate index: which grid holds a point, for many points at once.

Design (docs/geo.md has the figures):

* A uniform raster over the grids' bounding box, built once per process.
  A cell that no grid edge touches lies wholly inside one grid (or wholly
  outside the city): its raster value is that grid's index (or -1), and a
  point falling there is answered by numpy indexing alone.
* A cell touched by an edge (a "boundary cell") keeps a short list of
  candidate grids: those whose edges touch it, plus any grid holding its
  centre. Points there are tested with `shapely.intersects_xy` against the
  candidates in code order, stopping at the first hit.

The rule for a point on a shared edge (or in an overlap, which validated data
does not have): it belongs to the grid with the LOWEST code among the grids
whose closed polygon (interior or boundary) holds it. This is exactly what a
brute-force scan `first i in code order with intersects_xy(grid[i], x, y)`
answers, and the index gives the same answer for every point: edge pieces
mark the cells they touch with a small margin (far above float rounding), so
a cell left unmarked really has no edge in it.

One index per process, rebuilt when `BoundaryVersion.version` changes. The
version is read at most once per `CHECK_INTERVAL` seconds (1 s), so another
process's boundary import is seen within about a second; in this process a
write calls `mark_stale()` and the next lookup re-reads at once.
"""

from __future__ import annotations

import ctypes
import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely

# Raster size: about this many cells per grid, within [MIN_CELLS, MAX_CELLS].
# 256 per grid leaves ~27% of points on boundary cells; MAX_CELLS int32 = 64 MB.
CELLS_PER_GRID = 256
MIN_CELLS = 4096
MAX_CELLS = 16_000_000
CHECK_INTERVAL = 1.0
CHUNK = 1 << 20  # segments or cell centres per vectorised step (bounds build memory)


class GridRaster:
    """Exact point → polygon index over a fixed array of polygons (no database)."""

    def __init__(self, geoms, target_cells: int | None = None):
        self.geoms = np.asarray(geoms, dtype=object)
        n = len(self.geoms)
        shapely.prepare(self.geoms)
        if target_cells is None:
            target_cells = min(max(n * CELLS_PER_GRID, MIN_CELLS), MAX_CELLS)
        if n == 0:
            self.x0 = self.y0 = 0.0
            self.cell, self.nx, self.ny = 1.0, 1, 1
            self.raster = np.full(1, -1, np.int32)
            self.offsets = np.zeros(1, np.int32)
            self.candidates = np.zeros(0, np.int32)
            return
        x0, y0, x1, y1 = shapely.total_bounds(self.geoms)
        width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        self.cell = float(np.sqrt(width * height / target_cells))
        self.x0, self.y0 = float(x0), float(y0)
        self.nx = int(np.ceil(width / self.cell)) + 1
        self.ny = int(np.ceil(height / self.cell)) + 1
        edge_keys = self._edge_pairs()
        boundary = np.zeros(self.nx * self.ny, bool)
        boundary[edge_keys // n] = True
        self.raster, centre_keys = self._fill_centres(boundary)
        keys = _sorted_unique(np.concatenate([edge_keys, centre_keys]))
        cells, grids = keys // n, (keys % n).astype(np.int32)
        first = np.flatnonzero(np.concatenate(([True], cells[1:] != cells[:-1])))
        bcells = cells[first]
        self.offsets = np.append(first, len(keys)).astype(np.int32)
        self.candidates = grids  # per boundary cell, sorted by grid index = code order
        self.raster[bcells] = -(np.arange(len(bcells), dtype=np.int32) + 2)

    # -- building ---------------------------------------------------------

    def _cell_of(self, x, y):
        i = np.clip(np.floor((x - self.x0) / self.cell), 0, self.nx - 1).astype(np.int64)
        j = np.clip(np.floor((y - self.y0) / self.cell), 0, self.ny - 1).astype(np.int64)
        return i, j

    def _edge_pairs(self) -> np.ndarray:
        """Sorted unique keys cell*n + grid for every cell an edge of a grid touches."""
        n = len(self.geoms)
        parts, part_of = shapely.get_parts(self.geoms, return_index=True)
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        coords, coord_of = shapely.get_coordinates(rings, return_index=True)
        same = coord_of[1:] == coord_of[:-1]
        a, b = coords[:-1][same], coords[1:][same]
        grid = part_of[ring_of[coord_of[:-1][same]]].astype(np.int64)
        # Cut segments into pieces at most half a cell long, so each piece's
        # (slightly widened) bounding box spans at most 2×2 cells.
        steps = np.maximum(np.ceil(np.abs(b - a).max(axis=1) / self.cell * 2), 1).astype(np.int64)
        cuts = np.searchsorted(np.cumsum(steps), np.arange(CHUNK, steps.sum(), CHUNK))
        chunks = [self._segment_keys(a[s:e], b[s:e], grid[s:e], steps[s:e], n)
                  for s, e in zip(np.r_[0, cuts], np.r_[cuts, len(a)], strict=True) if e > s]
        return _sorted_unique(np.concatenate(chunks)) if chunks else np.zeros(0, np.int64)

    def _segment_keys(self, a, b, grid, steps, n) -> np.ndarray:
        seg = np.repeat(np.arange(len(a)), steps)
        k = np.arange(len(seg)) - np.repeat(np.cumsum(steps) - steps, steps)
        t0, t1 = (k / steps[seg])[:, None], ((k + 1) / steps[seg])[:, None]
        pa = a[seg] + (b[seg] - a[seg]) * t0
        pb = a[seg] + (b[seg] - a[seg]) * t1
        margin = self.cell * 1e-6  # far above float error (~1e-14°), far below a cell
        lo_i, lo_j = self._cell_of(*(np.minimum(pa, pb) - margin).T)
        hi_i, hi_j = self._cell_of(*(np.maximum(pa, pb) + margin).T)
        g = grid[seg]
        keys = [(lo_j * self.nx + lo_i) * n + g]
        wide, tall = hi_i != lo_i, hi_j != lo_j
        keys.append((lo_j[wide] * self.nx + hi_i[wide]) * n + g[wide])
        keys.append((hi_j[tall] * self.nx + lo_i[tall]) * n + g[tall])
        both = wide & tall
        keys.append((hi_j[both] * self.nx + hi_i[both]) * n + g[both])
        return _sorted_unique(np.concatenate(keys))

    def _fill_centres(self, boundary: np.ndarray):
        """Raster of the grid holding each cell centre, and extra candidate keys.

        Extra keys: every grid holding the centre of a boundary cell, and every
        grid of a cell whose centre two grids hold (an overlap; see module doc).
        """
        n = len(self.geoms)
        raster = np.full(self.nx * self.ny, -1, np.int32)
        extra = []
        bounds = shapely.bounds(self.geoms)
        empty = np.isnan(bounds).any(axis=1)  # an empty geometry holds nothing
        bounds[empty] = 0.0
        i0, j0 = self._cell_of(bounds[:, 0], bounds[:, 1])
        i1, j1 = self._cell_of(bounds[:, 2], bounds[:, 3])
        width, count = i1 - i0 + 1, (i1 - i0 + 1) * (j1 - j0 + 1)
        count[empty] = 0
        start = 0
        while start < n:
            # Batches of whole grids, about CHUNK cell centres each.
            stop = max(int(np.searchsorted(np.cumsum(count[start:]), CHUNK)) + start, start + 1)
            stop = min(stop, n)
            g = np.repeat(np.arange(start, stop), count[start:stop])
            k = np.arange(len(g)) - np.repeat(np.cumsum(count[start:stop]) - count[start:stop],
                                               count[start:stop])
            ii, jj = i0[g] + k % width[g], j0[g] + k // width[g]
            inside = shapely.contains_xy(self.geoms[g], self.x0 + (ii + 0.5) * self.cell,
                                         self.y0 + (jj + 0.5) * self.cell)
            cells, g = jj[inside] * self.nx + ii[inside], g[inside]
            # Cells whose centre two grids hold: in this batch, or one before.
            order = np.argsort(cells, kind="stable")
            sorted_cells = cells[order]
            twice = sorted_cells[1:] == sorted_cells[:-1]
            doubled = np.zeros(len(cells), bool)
            doubled[order[1:][twice]] = doubled[order[:-1][twice]] = True
            previous = raster[cells]
            taken = previous >= 0
            doubled |= taken
            if doubled.any():
                extra.append(cells[taken] * n + previous[taken])
                extra.append(cells[doubled] * n + g[doubled])
                boundary[cells[doubled]] = True
            on_edge = boundary[cells]
            extra.append(cells[on_edge] * n + g[on_edge])
            raster[cells] = g
            start = stop
        keys = np.concatenate(extra).astype(np.int64) if extra else np.zeros(0, np.int64)
        return raster, keys

    # -- lookups ----------------------------------------------------------

    def lookup(self, x, y) -> np.ndarray:
        """Grid index for each point, -1 where no grid holds it."""
        x, y = np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))
        out = np.full(len(x), -1, np.int32)
        fi = np.floor((x - self.x0) / self.cell)
        fj = np.floor((y - self.y0) / self.cell)
        ok = (fi >= 0) & (fi < self.nx) & (fj >= 0) & (fj < self.ny)  # False for NaN
        if not ok.any():
            return out
        where = np.flatnonzero(ok)
        values = self.raster[fj[ok].astype(np.int64) * self.nx + fi[ok].astype(np.int64)]
        out[where] = np.maximum(values, -1)
        on_boundary = values <= -2
        if on_boundary.any():
            sel = where[on_boundary]
            out[sel] = self._resolve(-values[on_boundary] - 2, x[sel], y[sel])
        return out

    def _resolve(self, bcell, x, y) -> np.ndarray:
        """Test candidates in code order, one round per rank, first hit wins."""
        answer = np.full(len(bcell), -1, np.int32)
        pos, end = self.offsets[bcell].copy(), self.offsets[bcell + 1]
        pending = np.arange(len(bcell))
        while pending.size:
            pending = pending[pos[pending] < end[pending]]
            if not pending.size:
                break
            cand = self.candidates[pos[pending]]
            hit = shapely.intersects_xy(self.geoms[cand], x[pending], y[pending])
            answer[pending[hit]] = cand[hit]
            pending = pending[~hit]
            pos[pending] += 1
        return answer

    @property
    def nbytes(self) -> int:
        return self.raster.nbytes + self.offsets.nbytes + self.candidates.nbytes


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


def brute_force(geoms, x, y) -> np.ndarray:
    """The reference answer: the first grid (in code order) whose closed polygon holds the point."""
    out = np.full(len(x), -1, np.int32)
    for k in range(len(x)):
        hits = np.flatnonzero(shapely.intersects_xy(geoms, x[k], y[k]))
        if hits.size:
            out[k] = hits[0]
    return out


# -- the per-process index over the database's grids ----------------------


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    name: str
    name_en: str

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "name_en": self.name_en}


@dataclass(frozen=True, slots=True)
class Located:
    grid: Place
    community: Place | None
    street: Place | None
    district: Place | None
    path: str
    grid_id: int | None = None  # the grid's row id (absent when located by scan)

    def as_dict(self) -> dict:
        return {level: (getattr(self, level).as_dict() if getattr(self, level) else None)
                for level in ("grid", "community", "street", "district")}


class LocateIndex:
    """The raster over every grid, with each grid's community, street and district."""

    def __init__(self, version: int, rows, ancestors: dict[str, Place]):
        self.version = version
        self.built_at = time.time()
        geoms = shapely.from_wkb([bytes(r[4]) for r in rows]) if rows else []
        self.raster = GridRaster(geoms)
        self.located: list[Located] = []
        for code, name, name_en, path, _, grid_id in rows:
            parts = path.strip("/").split("/")
            # path: city/district/street/community/grid, each a trimmed code.
            up = [ancestors.get("/".join(parts[: d + 1]) + "/") for d in (1, 2, 3)]
            self.located.append(Located(Place(code, name, name_en), up[2], up[1], up[0], path,
                                        grid_id))

    @classmethod
    def from_database(cls, version: int) -> LocateIndex:
        from zhili.geo.models import AreaNode, Level

        rows = list(AreaNode.objects.filter(level=Level.GRID).order_by("code")
                    .values_list("code", "name", "name_en", "path", "geometry", "id"))
        ancestors = {path: Place(code, name, name_en) for code, name, name_en, path in
                     AreaNode.objects.exclude(level=Level.GRID)
                     .values_list("code", "name", "name_en", "path")}
        built = cls(version, rows, ancestors)
        del rows
        _release_freed_memory()
        return built

    def locate_many(self, lon, lat) -> list[Located | None]:
        return [self.located[i] if i >= 0 else None for i in self.raster.lookup(lon, lat)]

    def locate(self, lon: float, lat: float) -> Located | None:
        return self.locate_many([lon], [lat])[0]


def _release_freed_memory() -> None:
    """Give the build's temporary arrays back to the OS.

    glibc keeps freed heap pages after the build's large temporaries (about
    130 MB on the chongqing preset); malloc_trim returns them. Elsewhere a no-op.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


_lock = threading.Lock()
_state: dict = {"index": None, "version": None, "checked_at": 0.0}


def _read_version() -> int:
    from zhili.geo.models import BoundaryVersion

    return BoundaryVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def boundary_version() -> int:
    """The boundary version, read from the database at most once per CHECK_INTERVAL."""
    now = time.monotonic()
    if _state["version"] is None or now - _state["checked_at"] >= CHECK_INTERVAL:
        _state["version"] = _read_version()
        _state["checked_at"] = now
    return _state["version"]


def mark_stale() -> None:
    """Make the next lookup in this process re-read the boundary version."""
    _state["version"] = None


def get_index() -> LocateIndex:
    """This process's index, rebuilt when the boundary version changed."""
    version = boundary_version()
    index = _state["index"]
    if index is not None and index.version == version:
        return index
    with _lock:  # one build at a time; other threads wait for it
        index = _state["index"]
        if index is None or index.version != version:
            index = LocateIndex.from_database(version)
            _state["index"] = index
    return index
