"""WGS84 ↔ GCJ-02, the offset datum of Chinese phone map APIs.

WeChat `wx.getLocation`, AMap and Tencent return GCJ-02 by default; Zhili stores
WGS84. The forward transform is the widely published one (the same as
`fast_geocn.coord`); it has no closed-form inverse, so GCJ-02 → WGS84 iterates
the forward transform until the residual is below `TOLERANCE` degrees
(1e-9°, about 0.1 mm; the guarantee we test is 1e-7°, about 1 cm).

Outside the rough China box the transform is the identity, as in every
implementation. Functions take scalars or numpy arrays.
"""

from __future__ import annotations

import numpy as np

_A = 6378245.0  # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323  # its eccentricity squared
# The box in which the offset applies (the one fast_geocn uses).
LON_MIN, LON_MAX = 72.0, 137.0
LAT_MIN, LAT_MAX = 0.0, 55.0
TOLERANCE = 1e-9
MAX_ITERATIONS = 30

CRS_CHOICES = ("wgs84", "gcj02")


def out_of_china(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return ~((lon >= LON_MIN) & (lon <= LON_MAX) & (lat >= LAT_MIN) & (lat <= LAT_MAX))


def _transform_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _offset(lon, lat):
    """The GCJ-02 shift (dlon, dlat) in degrees at a WGS84 point."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _result(lon, lat, scalar):
    return (float(lon), float(lat)) if scalar else (lon, lat)


def wgs84_to_gcj02(lon, lat):
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    outside = out_of_china(lon, lat)
    return _result(np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat), scalar)


def gcj02_to_wgs84(lon, lat):
    """Invert by fixed-point iteration: w ← w + (g − forward(w)); converges in ~5 steps."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(MAX_ITERATIONS):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        rlon, rlat = glon - flon, glat - flat
        wlon, wlat = wlon + rlon, wlat + rlat
        if np.all(np.abs(rlon) < TOLERANCE) and np.all(np.abs(rlat) < TOLERANCE):
            break
    outside = out_of_china(glon, glat)
    return _result(np.where(outside, glon, wlon), np.where(outside, glat, wlat), scalar)


def to_wgs84(lon, lat, crs: str):
    """Coordinates in `crs` ("wgs84" or "gcj02") as WGS84."""
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "wgs84":
        return lon, lat
    raise ValueError(f"unknown crs {crs!r}")
