#!/usr/bin/env python
"""The base map and boundary layers on the `chongqing` preset: bytes per zoom and tile times.

    .venv/bin/python bench/basemap.py [--zooms 7,8,9,10] [--district 500101]

Builds (once, then reuses) the chongqing preset with its synthetic roads in
SQLite under bench/out/basemap/, then measures, in the same run:

* the boundary layer of a whole district as the area map fetches it (its
  streets, `GET /api/v1/geo/nodes/{code}/children?zoom=z`, simplified for the
  zoom) for every district at each low zoom: the largest in bytes, against
  the same features unsimplified at full precision (the baseline, `ratio`);
  and the city's 38 districts the same way. The promise: under 500 KB.
* the vector base tiles (`/geo/base/z/x/y.json`): at zoom ≤ 10 all those
  covering the largest district; from zoom 11 a 5 × 5 block at the centre of
  the urban core (渝中, the densest areas and roads): count, total and
  largest bytes, render time per tile (median, p95), against serving the
  same tiles from the disk cache.

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "basemap"
LIMIT = 500_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from locate import machine as described

    return described()


def ensure_city() -> None:
    import sqlite3

    OUT.mkdir(parents=True, exist_ok=True)
    database = OUT / "zhili.db"
    env = dict(os.environ, ZHILI_DATA_DIR=str(OUT), ZHILI_DATABASE_URL=f"sqlite:///{database}")
    grids = roads = 0
    if database.exists():
        with sqlite3.connect(database) as con:
            try:
                grids = con.execute("SELECT count(*) FROM geo_areanode WHERE level='grid'").fetchone()[0]
                roads = con.execute("SELECT count(*) FROM geo_road").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    if grids < 50_000:
        database.unlink(missing_ok=True)
        log("generating the chongqing preset (once) …")
        subprocess.run([sys.executable, "-m", "zhili", "city", "generate", "--preset", "chongqing",
                        "--seed", "1"], check=True, env=env, stdout=sys.stderr)
    if not roads:
        log("generating its synthetic roads (once) …")
        subprocess.run([sys.executable, "-m", "zhili", "city", "roads"], check=True, env=env,
                       stdout=sys.stderr)


def setup_django() -> None:
    os.environ["ZHILI_DATA_DIR"] = str(OUT)
    os.environ["ZHILI_DATABASE_URL"] = f"sqlite:///{OUT / 'zhili.db'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhili.settings")
    os.environ.pop("ZHILI_TILE_URL", None)
    os.environ.pop("ZHILI_TILES_FILE", None)
    import django

    django.setup()


def dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def children_bytes(node, zoom) -> tuple[int, int]:
    """(bytes as the map gets them at `zoom`, bytes unsimplified at full precision)."""
    import shapely

    from zhili.geo import geojson, selectors
    from zhili.geo.models import AreaNode

    shown = geojson.feature_collection([f for _, _, f in selectors._children_features(node, zoom)])
    raw = geojson.feature_collection([
        geojson.feature(shapely.from_wkb(bytes(c.geometry)), {
            "code": c.code, "name": c.name, "name_en": c.name_en, "level": c.level,
            "synthetic": c.synthetic})
        for c in AreaNode.objects.filter(parent=node).order_by("code")])
    return len(dumps(shown)), len(dumps(raw))


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


def tiles_covering(node, z, core=None):
    from zhili.geo import basemap

    if z > 10 and core is not None:
        cx, cy = basemap.tile_of(core.centre_lon, core.centre_lat, z)
        return [(z, x, y) for x in range(cx - 2, cx + 3) for y in range(cy - 2, cy + 3)]
    x0, y0 = basemap.tile_of(node.min_lon, node.max_lat, z)
    x1, y1 = basemap.tile_of(node.max_lon, node.min_lat, z)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zooms", default="7,8,9,10,12,14,16")
    parser.add_argument("--district", help="the district whose base tiles are timed "
                                           "(default: the largest by area)")
    args = parser.parse_args()
    zooms = [int(z) for z in args.zooms.split(",")]
    ensure_city()
    setup_django()

    import shutil

    from django.core.cache import cache

    from zhili.geo import basemap, geojson
    from zhili.geo.models import AreaNode, Level, Road

    districts = list(AreaNode.objects.filter(level=Level.DISTRICT).order_by("code"))
    city = AreaNode.objects.get(level=Level.CITY)
    largest = (AreaNode.objects.get(code=args.district.ljust(12, "0")) if args.district
               else max(districts, key=lambda d: d.shape.area))
    core = AreaNode.objects.get(code="500103000000")
    log(f"{len(districts)} districts, {Road.objects.count():,} roads; tiles over {largest.name}")

    layers = {}
    for z in sorted({z for z in zooms if z <= 10} | {geojson.zoom_to_fit(
            (largest.min_lon, largest.min_lat, largest.max_lon, largest.max_lat))}):
        cache.clear()
        sizes = {d.code: children_bytes(d, z) for d in districts}
        worst = max(sizes, key=lambda c: sizes[c][0])
        city_shown, city_raw = children_bytes(city, z)
        layers[z] = {"district_max_bytes": sizes[worst][0], "district_max_code": worst,
                     "district_max_raw_bytes": sizes[worst][1],
                     "ratio": round(sizes[worst][0] / sizes[worst][1], 4),
                     "city_districts_bytes": city_shown, "city_districts_raw_bytes": city_raw}
        log(f"z{z}: largest district layer {sizes[worst][0]:,} B ({worst}); "
            f"city {city_shown:,} B")

    tiles = {}
    for z in zooms:
        todo = tiles_covering(largest, z, core)
        shutil.rmtree(basemap.cache_dir(), ignore_errors=True)
        render, cached, sizes = [], [], []
        for tile in todo:
            started = time.perf_counter()
            body, _ = basemap.tile_bytes(*tile)
            render.append(time.perf_counter() - started)
            sizes.append(len(body))
        for tile in todo:
            started = time.perf_counter()
            basemap.tile_bytes(*tile)
            cached.append(time.perf_counter() - started)
        tiles[z] = {"tiles": len(todo), "total_bytes": sum(sizes), "max_bytes": max(sizes),
                    "render_ms_p50": round(percentile(render, 0.5) * 1000, 2),
                    "render_ms_p95": round(percentile(render, 0.95) * 1000, 2),
                    "cached_ms_p50": round(percentile(cached, 0.5) * 1000, 3),
                    "ratio_render_vs_cached": round(percentile(render, 0.5)
                                                    / max(percentile(cached, 0.5), 1e-9), 1)}
        log(f"z{z}: {len(todo)} tiles, {sum(sizes):,} B, render p50 "
            f"{tiles[z]['render_ms_p50']} ms")

    low = [v["district_max_bytes"] for z, v in layers.items() if z <= 10]
    print(json.dumps({
        "bench": "basemap",
        "district_layer_max_bytes_low_zoom": max(low) if low else None,
        "under_500kb": bool(low) and max(low) < LIMIT,
        "boundary_layers": layers,
        "base_tiles": {"district": largest.code, "core_from_zoom_11": core.code, "by_zoom": tiles},
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
