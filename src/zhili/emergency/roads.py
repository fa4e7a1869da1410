"""Road networks from OpenStreetMap (pyosmium) and a synthetic generator.

OSM: every way with a `highway` tag of the table below becomes segments between
consecutive nodes, with the class's speed (or `maxspeed` when it parses),
one-way as OSM says (`oneway=yes|true|1|-1|reverse`, `junction=roundabout|circular`,
and motorways, unless `oneway=no`), walking as the class allows (`foot=yes|no`
overrides; `access=no` closes it to both, `motor_vehicle=no` to cars).

Synthetic: a jittered lattice over a bounding box with an arterial every few
streets, some one-way side streets in alternating directions and a few missing
blocks: plausible for a demo and for benchmarks, and labelled synthetic.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from zhili.emergency.graph import RoadGraph, Segments, haversine_m

# highway=* -> (km/h when driving, 0: no cars; walking allowed)
HIGHWAYS: dict[str, tuple[float, bool]] = {
    "motorway": (100, False), "motorway_link": (60, False),
    "trunk": (80, False), "trunk_link": (50, False),
    "primary": (60, True), "primary_link": (40, True),
    "secondary": (50, True), "secondary_link": (40, True),
    "tertiary": (40, True), "tertiary_link": (30, True),
    "unclassified": (30, True), "residential": (30, True), "road": (30, True),
    "living_street": (10, True), "service": (20, True), "track": (15, True),
    "pedestrian": (0, True), "footway": (0, True), "path": (0, True), "steps": (0, True),
    "cycleway": (0, True), "bridleway": (0, True),
}
_MAXSPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*$")


class RoadsError(ValueError):
    """A road file that cannot be read, or holds no roads."""


def maxspeed_kmh(value: str | None) -> float | None:
    match = _MAXSPEED.match(value or "")
    if not match:
        return None
    speed = float(match.group(1)) * (1.609344 if match.group(2) == "mph" else 1)
    return speed if 0 < speed <= 200 else None


def way_rules(tags) -> tuple[float, int, bool] | None:
    """(km/h, oneway, walkable) of a way's tags; None if it is no road."""
    highway = tags.get("highway")
    if highway not in HIGHWAYS:
        return None
    speed, walk = HIGHWAYS[highway]
    if speed:
        speed = maxspeed_kmh(tags.get("maxspeed")) or speed
    oneway_tag = (tags.get("oneway") or "").lower()
    if oneway_tag in ("yes", "true", "1"):
        oneway = 1
    elif oneway_tag in ("-1", "reverse"):
        oneway = -1
    elif oneway_tag == "no":
        oneway = 0
    else:
        oneway = 1 if (tags.get("junction") in ("roundabout", "circular")
                       or highway == "motorway") else 0
    foot = tags.get("foot")
    if foot in ("yes", "designated", "permissive"):
        walk = True
    elif foot == "no":
        walk = False
    if tags.get("access") in ("no", "private"):
        speed, walk = 0, walk and foot in ("yes", "designated")
    if tags.get("motor_vehicle") == "no" or tags.get("motorcar") == "no":
        speed = 0
    if not speed and not walk:
        return None
    return float(speed), oneway, walk


def read_osm(path: Path) -> RoadGraph:
    """The routable graph of an .osm or .osm.pbf file; RoadsError if it is unreadable."""
    import osmium

    path = Path(path)
    if not path.is_file():
        raise RoadsError(f"no such file: {path}")
    index: dict[int, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    u: list[int] = []
    v: list[int] = []
    speed: list[float] = []
    oneway: list[int] = []
    walk: list[bool] = []
    try:
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        for way in processor.with_locations():
            if not way.is_way():
                continue
            rules = way_rules(way.tags)
            if rules is None:
                continue
            previous = None
            for node in way.nodes:
                location = node.location
                if not location.valid():
                    previous = None  # a node missing from the file: the way breaks there
                    continue
                i = index.get(node.ref)
                if i is None:
                    i = index[node.ref] = len(lon)
                    lon.append(location.lon)
                    lat.append(location.lat)
                if previous is not None and previous != i:
                    u.append(previous)
                    v.append(i)
                    speed.append(rules[0])
                    oneway.append(rules[1])
                    walk.append(rules[2])
                previous = i
    except RuntimeError as exc:  # osmium's errors for a bad or truncated file
        raise RoadsError(f"cannot read {path.name}: {exc}") from None
    if not u:
        raise RoadsError(f"{path.name} holds no roads (no way with a highway tag osmium could place)")
    lon_a, lat_a = np.array(lon), np.array(lat)
    u_a, v_a = np.array(u), np.array(v)
    seg = Segments(u=u_a, v=v_a, length_m=haversine_m(lon_a[u_a], lat_a[u_a], lon_a[v_a], lat_a[v_a]),
                   drive_kmh=np.array(speed), oneway=np.array(oneway, dtype=np.int8),
                   walk=np.array(walk, dtype=bool))
    return RoadGraph.from_segments(lon_a, lat_a, seg)


def synthetic_network(bbox: tuple[float, float, float, float], nodes: int, seed: int = 0,
                      arterial_every: int = 8, oneway_share: float = 0.3,
                      missing_share: float = 0.04, inside=None) -> RoadGraph:
    """About `nodes` junctions on a jittered lattice over (min_lon, min_lat, max_lon, max_lat);
    with `inside(lon, lat) -> bool array`, only the streets with both ends inside."""
    min_lon, min_lat, max_lon, max_lat = bbox
    rng = np.random.default_rng(seed)
    aspect = (max_lon - min_lon) * np.cos(np.radians((min_lat + max_lat) / 2)) / max(
        max_lat - min_lat, 1e-9)
    cols = max(2, int(round(np.sqrt(nodes * aspect))))
    rows = max(2, int(round(nodes / cols)))
    dx, dy = (max_lon - min_lon) / (cols - 1), (max_lat - min_lat) / (rows - 1)
    r, c = np.divmod(np.arange(rows * cols), cols)
    lon = min_lon + c * dx + rng.uniform(-0.25, 0.25, r.size) * dx
    lat = min_lat + r * dy + rng.uniform(-0.25, 0.25, r.size) * dy
    ids = np.arange(rows * cols).reshape(rows, cols)
    # Horizontal pieces (along a row) and vertical ones (along a column).
    hu, hv = ids[:, :-1].ravel(), ids[:, 1:].ravel()
    vu, vv = ids[:-1, :].ravel(), ids[1:, :].ravel()
    h_row, v_col = np.divmod(hu, cols)[0], np.divmod(vu, cols)[1]
    h_art, v_art = h_row % arterial_every == 0, v_col % arterial_every == 0
    u, v = np.concatenate([hu, vu]), np.concatenate([hv, vv])
    arterial = np.concatenate([h_art, v_art])
    line = np.concatenate([h_row, v_col + rows])  # one id per street: its row or column
    street_oneway = rng.random(rows + cols) < oneway_share
    oneway = np.where(arterial | ~street_oneway[line], 0, np.where(line % 2 == 0, 1, -1))
    keep = arterial | (rng.random(u.size) >= missing_share)
    if inside is not None:
        within = np.asarray(inside(lon, lat), dtype=bool)
        keep &= within[u] & within[v]
    u, v, arterial, oneway = u[keep], v[keep], arterial[keep], oneway[keep]
    used = np.unique(np.concatenate([u, v]))
    renumber = np.full(lon.size, -1, dtype=np.int64)
    renumber[used] = np.arange(used.size)
    u, v, lon, lat = renumber[u], renumber[v], lon[used], lat[used]
    seg = Segments(u=u, v=v, length_m=haversine_m(lon[u], lat[u], lon[v], lat[v]) * 1.1,
                   drive_kmh=np.where(arterial, 60.0, 30.0), oneway=oneway.astype(np.int8),
                   walk=np.ones(u.size, dtype=bool))
    return RoadGraph.from_segments(lon, lat, seg, synthetic=True)
