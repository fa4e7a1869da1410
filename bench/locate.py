#!/usr/bin/env python
"""Bulk locate on the `chongqing` preset: Zhili's index against STRtree and PostGIS.

    .venv/bin/python bench/locate.py [--points N] [--seed S] [--no-postgis]

Builds (once, then reuses) the chongqing preset in SQLite under
bench/out/locate/, draws N random points inside the city (fixed seed), and
measures in the same run:

* zhili: `GridRaster.lookup(lon, lat)` (coordinate arrays in, grid indices out;
  also reported: `LocateIndex.locate_many`, which returns the Located objects);
* strtree: plain `shapely.STRtree(grids).query(points, predicate="within")`,
  with the shapely Points built beforehand (not timed: favours the baseline);
* postgis: one `ST_Contains` join of the points against the grids with a GiST
  index, in a scratch database `zhili_bench` (points loaded beforehand, not
  timed), if PostgreSQL with PostGIS answers at ZHILI_BENCH_PG
  (default postgres://postgres@127.0.0.1:5432/postgres).

Every Zhili answer is checked against the brute-force answer: the lowest-code
grid whose closed polygon holds the point (an exact `intersects` STRtree
query, equivalent to scanning all grids; a sample is also scanned literally).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "locate"
ZHILI = ROOT / ".venv" / "bin" / "zhili"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_city() -> None:
    """The chongqing preset in bench/out/locate/zhili.db, generated once."""
    OUT.mkdir(parents=True, exist_ok=True)
    database = OUT / "zhili.db"
    if database.exists():
        import sqlite3

        with sqlite3.connect(database) as con:
            try:
                grids = con.execute("SELECT count(*) FROM geo_areanode WHERE level='grid'").fetchone()[0]
            except sqlite3.OperationalError:
                grids = 0
        if grids > 50_000:
            return
        database.unlink()
    log("generating the chongqing preset (once) …")
    subprocess.run([str(ZHILI), "city", "generate", "--preset", "chongqing", "--seed", "1"],
                   check=True, env=os.environ.copy(), stdout=sys.stderr)


def best_of(runs: int, fn):
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def random_points_inside(city, n: int, seed: int):
    import numpy as np
    import shapely

    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = city.bounds
    shapely.prepare(city)
    chunks, have = [], 0
    while have < n:
        batch = rng.uniform((minx, miny), (maxx, maxy), size=(n, 2))
        inside = batch[shapely.contains_xy(city, batch[:, 0], batch[:, 1])]
        chunks.append(inside)
        have += len(inside)
    return np.vstack(chunks)[:n]


def postgis_pps(geoms, points, url: str) -> tuple[float | None, str]:
    """Points per second of an ST_Contains join with a GiST index; (None, why) if unavailable."""
    try:
        import psycopg
        import shapely
    except ImportError as exc:  # pragma: no cover
        return None, f"psycopg missing: {exc}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = 'zhili_bench'").fetchone()
            if not exists:
                admin.execute("CREATE DATABASE zhili_bench")
        bench_url = url.rsplit("/", 1)[0] + "/zhili_bench"
        with psycopg.connect(bench_url, autocommit=True) as con:
            try:
                con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except psycopg.Error as exc:
                return None, f"PostGIS is not installed ({exc.diag.message_primary})"
            version = con.execute("SELECT postgis_lib_version()").fetchone()[0]
            con.execute("DROP TABLE IF EXISTS grids, pts")
            con.execute("CREATE TABLE grids (idx integer PRIMARY KEY, geom geometry(Geometry, 4326))")
            con.execute("CREATE TABLE pts (id integer PRIMARY KEY, geom geometry(Point, 4326))")
            with con.cursor() as cur:
                with cur.copy("COPY grids (idx, geom) FROM STDIN") as copy:
                    for i, wkb in enumerate(shapely.to_wkb(geoms, hex=True, include_srid=False)):
                        copy.write_row((i, f"SRID=4326;{wkb}"))
                with cur.copy("COPY pts (id, geom) FROM STDIN") as copy:
                    for i, (x, y) in enumerate(points.tolist()):
                        copy.write_row((i, f"SRID=4326;POINT({x!r} {y!r})"))
            con.execute("CREATE INDEX grids_geom ON grids USING gist (geom)")
            con.execute("ANALYZE grids")
            con.execute("ANALYZE pts")
            query = ("SELECT count(*) FROM pts p JOIN grids g ON ST_Contains(g.geom, p.geom)")
            seconds, found = best_of(2, lambda: con.execute(query).fetchone()[0])
            return len(points) / seconds, f"PostGIS {version}, {found} points matched"
    except psycopg.OperationalError as exc:
        return None, f"PostgreSQL unreachable at {url} ({str(exc).strip().splitlines()[0]})"


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPU, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-postgis", action="store_true")
    args = parser.parse_args()

    os.environ["ZHILI_DATA_DIR"] = str(OUT)
    os.environ["ZHILI_DATABASE_URL"] = f"sqlite:///{OUT / 'zhili.db'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhili.settings")
    ensure_city()

    import django

    django.setup()
    import numpy as np
    import shapely

    from zhili.geo.index import LocateIndex, brute_force
    from zhili.geo.models import AreaNode, Level

    started = time.perf_counter()
    index = LocateIndex.from_database(version=0)
    build_seconds = time.perf_counter() - started
    geoms = index.raster.geoms
    city = AreaNode.objects.get(level=Level.CITY).shape
    points = random_points_inside(city, args.points, args.seed)
    x, y = points[:, 0].copy(), points[:, 1].copy()
    log(f"{len(geoms):,} grids, {len(points):,} points; index built in {build_seconds:.1f} s")

    zhili_s, answer = best_of(3, lambda: index.raster.lookup(x, y))
    # The same with the answers as Located objects (grid, community, street, district).
    objects_s, _ = best_of(3, lambda: index.locate_many(x, y))
    pts = shapely.points(points)
    tree = shapely.STRtree(geoms)
    strtree_s, _ = best_of(3, lambda: tree.query(pts, predicate="within"))

    # Brute force: the lowest grid index whose closed polygon holds each point.
    pi, gi = tree.query(pts, predicate="intersects")
    expected = np.full(len(points), -1, np.int64)
    order = np.lexsort((gi, pi))
    first = np.concatenate(([True], pi[order][1:] != pi[order][:-1]))
    expected[pi[order][first]] = gi[order][first]
    sample = slice(0, 300)
    literal_ok = bool((brute_force(geoms, x[sample], y[sample]) == expected[sample]).all())
    exact = bool((answer == expected).all()) and literal_ok

    pg_pps, pg_note = (None, "skipped (--no-postgis)")
    if not args.no_postgis:
        pg_pps, pg_note = postgis_pps(geoms, points, os.environ.get(
            "ZHILI_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres"))
    log(f"postgis: {pg_note}")

    zhili_pps, strtree_pps = len(points) / zhili_s, len(points) / strtree_s
    print(json.dumps({
        "bench": "locate",
        "points": len(points),
        "grids": len(geoms),
        "zhili_pps": round(zhili_pps),
        "strtree_pps": round(strtree_pps),
        "ratio_vs_strtree": round(zhili_pps / strtree_pps, 2),
        "zhili_with_objects_pps": round(len(points) / objects_s),
        "postgis_pps": round(pg_pps) if pg_pps else None,
        "ratio_vs_postgis": round(zhili_pps / pg_pps, 1) if pg_pps else None,
        "postgis": pg_note,
        "exact": exact,
        "index_build_s": round(build_seconds, 2),
        "index_mb": round(index.raster.nbytes / 1e6, 1),
        "shapely": f"{shapely.__version__} (GEOS {shapely.geos_version_string})",
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
