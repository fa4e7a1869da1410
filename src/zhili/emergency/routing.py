"""Travel times on the road network, for dispatch (the one map) and rescue circles.

`travel_seconds(origins, target, mode)` answers, for each origin, the seconds
to reach the target: one Dijkstra from the target over the *reversed* graph
(so one-way streets are driven the right way towards it), read at the origins'
nearest nodes. Each end's leg between the point and its nearest node is
added at the mode's straight-line speed. Mode "air" is always the straight
line at the air speed. With no network built, "drive" and "walk" fall back to
the straight line at their stated speeds (`graph_available()` says which):
settings ZHILI_RESCUE_SPEED_{AIR,DRIVE,WALK}_KMH, default 180, 30, 5.

The graph is cached per process and reloaded when a newer network is
imported (its version is the newest RoadNetwork row, read at most every
CHECK_INTERVAL seconds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
from scipy.sparse.csgraph import dijkstra

from zhili.emergency.conf import roads_dir, speed_kmh
from zhili.emergency.graph import RoadGraph, haversine_m

MODES = ("drive", "walk", "air")
CHECK_INTERVAL = 10.0

_lock = threading.Lock()
_state: dict = {"graph": None, "version": None, "checked_at": 0.0, "file": None}


def _current() -> tuple[int, str] | None:
    from zhili.emergency.models import RoadNetwork

    row = RoadNetwork.objects.order_by("-id").values_list("id", "file_name").first()
    return row


def mark_stale() -> None:
    """Make the next call in this process re-read the network version."""
    _state["checked_at"] = 0.0


def get_graph() -> RoadGraph | None:
    """This process's graph, reloaded when the network version changed; None if none."""
    now = time.monotonic()
    if now - _state["checked_at"] >= CHECK_INTERVAL:
        current = _current()
        _state["checked_at"] = now
        # The file name too: it carries a random part, so a reused id is still news.
        version = tuple(current) if current else None
        if version != _state["version"]:
            with _lock:
                if version != _state["version"]:
                    graph = None
                    if current:
                        path = roads_dir() / current[1]
                        graph = RoadGraph.load(path) if path.is_file() else None
                    _state["graph"], _state["version"] = graph, version
    return _state["graph"]


def graph_available() -> bool:
    """True when drive and walk times come from the road network, False when they are
    straight lines at the fallback speeds."""
    return get_graph() is not None


def straight_seconds(origins: np.ndarray, target: tuple[float, float], mode: str) -> np.ndarray:
    metres = haversine_m(origins[:, 0], origins[:, 1], target[0], target[1])
    return metres / speed_kmh(mode) * 3.6


def travel_seconds(origins: Sequence[tuple[float, float]], target: tuple[float, float],
                   mode: str = "drive") -> np.ndarray:
    """Seconds from each origin (lon, lat WGS84) to the target; numpy.inf where the road
    network does not connect them."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    points = np.asarray(origins, dtype=np.float64).reshape(-1, 2)
    if len(points) == 0:
        return np.zeros(0)
    graph = None if mode == "air" else get_graph()
    if graph is None:
        return straight_seconds(points, target, mode)
    return graph_seconds(graph, points, target, mode)


def graph_seconds(graph: RoadGraph, points: np.ndarray, target: tuple[float, float],
                  mode: str) -> np.ndarray:
    nodes, access_m = graph.snap(points[:, 0], points[:, 1])
    (target_node,), (target_m,) = graph.snap([target[0]], [target[1]])
    times = dijkstra(graph.transpose(mode), directed=True, indices=int(target_node))
    access_s = (access_m + target_m) / speed_kmh(mode) * 3.6
    return times[nodes] + access_s
