"""The road network as sparse arrays: pure numpy/scipy, no Django.

A `RoadGraph` holds two directed CSR matrices of travel seconds between node
indices, one for driving (one-way streets respected) and one for walking
(both ways on every walkable road), and each node's WGS84 coordinates. It is
built from road segments (`Segments`: one row per OSM way piece between two
nodes) and saved as one compressed `.npz`.

Parallel edges keep their fastest time (a CSR built naively would add them).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

EARTH_M_PER_DEG = 111_320.0
WALK_KMH = 5.0
MIN_EDGE_S = 0.01  # a zero weight would be no edge at all to csgraph


@dataclass
class Segments:
    """Road pieces: u -> v, metres, driving km/h (0: no driving), oneway (1 forward,
    -1 backward, 0 both), walkable."""

    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    drive_kmh: np.ndarray
    oneway: np.ndarray
    walk: np.ndarray


def projector(lat0: float):
    """Equirectangular metres around `lat0`: good to a fraction of a percent over a city."""
    kx = EARTH_M_PER_DEG * np.cos(np.radians(lat0))

    def project(lon, lat) -> np.ndarray:
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        return np.column_stack([lon * kx, lat * EARTH_M_PER_DEG])

    return project


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=np.float64))
                              for a in (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _csr(rows, cols, weights, n: int) -> sparse.csr_matrix:
    """A CSR with the smallest weight of each (row, col) pair, self-loops dropped."""
    keep = rows != cols
    rows, cols, weights = rows[keep], cols[keep], np.maximum(weights[keep], MIN_EDGE_S)
    order = np.lexsort((weights, cols, rows))
    rows, cols, weights = rows[order], cols[order], weights[order]
    if len(rows):
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, weights = rows[first], cols[first], weights[first]
    return sparse.csr_matrix((weights, (rows, cols)), shape=(n, n))


@dataclass
class RoadGraph:
    lon: np.ndarray
    lat: np.ndarray
    drive: sparse.csr_matrix
    walk: sparse.csr_matrix
    version: int = 0
    synthetic: bool = False
    _tree: cKDTree | None = field(default=None, repr=False)
    _transposes: dict = field(default_factory=dict, repr=False)
    _places: tuple | None = field(default=None, repr=False)  # (lon, lat, nodes, metres)

    @classmethod
    def from_segments(cls, lon, lat, seg: Segments, *, version: int = 0,
                      synthetic: bool = False) -> RoadGraph:
        n = len(lon)
        u, v = seg.u.astype(np.int32), seg.v.astype(np.int32)
        length = seg.length_m.astype(np.float64)
        speed = seg.drive_kmh.astype(np.float64)
        drivable = speed > 0
        secs = np.where(drivable, length / np.where(drivable, speed, 1) * 3.6, np.inf)
        forward = drivable & (seg.oneway >= 0)
        backward = drivable & (seg.oneway <= 0)
        drive = _csr(np.concatenate([u[forward], v[backward]]),
                     np.concatenate([v[forward], u[backward]]),
                     np.concatenate([secs[forward], secs[backward]]), n)
        w = seg.walk.astype(bool)
        walk_s = length[w] / WALK_KMH * 3.6
        walk = _csr(np.concatenate([u[w], v[w]]), np.concatenate([v[w], u[w]]),
                    np.concatenate([walk_s, walk_s]), n)
        return cls(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64),
                   drive, walk, version, synthetic)

    @property
    def nodes(self) -> int:
        return len(self.lon)

    def matrix(self, mode: str) -> sparse.csr_matrix:
        if mode == "drive":
            return self.drive
        if mode == "walk":
            return self.walk
        raise ValueError(f"no road mode {mode!r}: drive or walk")

    def transpose(self, mode: str) -> sparse.csr_matrix:
        """Edges reversed: a search from a target over it gives times *towards* the target."""
        if mode not in self._transposes:
            self._transposes[mode] = self.matrix(mode).T.tocsr()
        return self._transposes[mode]

    @property
    def project(self):
        return projector(float(np.mean(self.lat)) if self.nodes else 30.0)

    def snap(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """(nearest node index, distance in metres) for each point."""
        if self._tree is None:
            self._tree = cKDTree(self.project(self.lon, self.lat))
        points = np.atleast_2d(self.project(lon, lat))
        if len(points) < 1000:
            distance, node = self._tree.query(points)
            return np.asarray(node, dtype=np.int64), np.asarray(distance, dtype=np.float64)
        # Queried in 1 km cells' order: neighbours follow neighbours through the tree,
        # which is about three times faster for many points than their own order.
        cells = (points // 1000.0).astype(np.int64)
        order = np.lexsort((cells[:, 0], cells[:, 1]))
        distance, node = self._tree.query(points[order])
        nodes = np.empty(len(points), dtype=np.int64)
        metres = np.empty(len(points), dtype=np.float64)
        nodes[order], metres[order] = node, distance
        return nodes, metres

    def snap_places(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """`snap` for the coverage run's places, kept with the graph: the risk points and
        grid centres change rarely and the graph not at all (a new network is a new
        `RoadGraph`), so a run with the same places reuses the last answer, and one where a
        few moved snaps only those. Exact: a cached place is the same coordinates."""
        lon = np.ascontiguousarray(lon, dtype=np.float64)
        lat = np.ascontiguousarray(lat, dtype=np.float64)
        cached = self._places
        if cached is not None and len(cached[0]) == len(lon):
            moved = np.nonzero((cached[0] != lon) | (cached[1] != lat))[0]
            if len(moved) == 0:
                return cached[2], cached[3]
            if len(moved) <= len(lon) // 4:
                nodes, metres = cached[2].copy(), cached[3].copy()
                nodes[moved], metres[moved] = self.snap(lon[moved], lat[moved])
                nodes.flags.writeable = metres.flags.writeable = False
                self._places = (lon.copy(), lat.copy(), nodes, metres)
                return nodes, metres
        nodes, metres = self.snap(lon, lat)
        nodes.flags.writeable = metres.flags.writeable = False  # shared by every later run
        self._places = (lon.copy(), lat.copy(), nodes, metres)
        return nodes, metres

    # -- storage: one .npz, written to a temporary file and renamed -------------

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".roads-", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(
                    fh, lon=self.lon, lat=self.lat, version=np.int64(self.version),
                    synthetic=np.bool_(self.synthetic),
                    **{f"{m}_{part}": getattr(self.matrix(m), part)
                       for m in ("drive", "walk") for part in ("data", "indices", "indptr")})
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> RoadGraph:
        with np.load(path) as f:
            n = len(f["lon"])
            mats = {m: sparse.csr_matrix((f[f"{m}_data"], f[f"{m}_indices"], f[f"{m}_indptr"]),
                                         shape=(n, n)) for m in ("drive", "walk")}
            return cls(f["lon"], f["lat"], mats["drive"], mats["walk"], int(f["version"]),
                       bool(f["synthetic"]))
