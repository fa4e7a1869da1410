"""Placeholder until the emergency app's road-network routing lands (branch h/emergency).

Same signature as the real one: seconds from each origin to the target, inf when
unreachable. This one is straight-line (haversine) distance at 30 km/h; the real
module replaces this file at merge.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
SPEED_M_S = {"drive": 30 / 3.6, "walk": 5 / 3.6}


def travel_seconds(origins, target, mode: str = "drive") -> np.ndarray:
    """origins: (n, 2) lon/lat (WGS84); target: (lon, lat). Seconds, shape (n,)."""
    points = np.asarray(origins, dtype=float).reshape(-1, 2)
    if points.size == 0:
        return np.empty(0)
    lon1, lat1 = np.radians(points[:, 0]), np.radians(points[:, 1])
    lon2, lat2 = np.radians(float(target[0])), np.radians(float(target[1]))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    return metres / SPEED_M_S.get(mode, SPEED_M_S["drive"])
