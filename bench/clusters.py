#!/usr/bin/env python
"""The risk-point layer of the one map over the seed's 520,000 risk points.

    .venv/bin/python bench/clusters.py [--points N] [--rounds R]

A city operator's map of the whole city (zoom 8) and a district operator's of
their district (zoom 11), built exactly as the page serves them
(`warning.selectors.risk_points_geojson` with the map's viewport, then
`json.dumps`): every point of the area counted into screen cells by one
GROUP BY. Baseline, in the same run on the same rows: a bare
`SELECT count(*)` over the same area's points (the least any answer that
counts them all must read). Also shown: the layer as it was before clusters
(the first 5,000 points of the area, all the browser got).

The data: bench/bigcity.py's `chongqing` city (kept as a template database)
copied into `zhili_bench_clusters`, with N risk points spread over its grids
by a fixed hash, filled server-side once and kept.

Prints one JSON line: `ratio_city` and `ratio_district` (the layer's p50 over
the bare count's p50), the features and bytes of each answer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import bigcity  # noqa: E402
from bigcity import log  # noqa: E402

DB = "zhili_bench_clusters"
DISTRICT = "500103"  # Yuzhong, as in the other benches

FILL = """
INSERT INTO warning_riskpoint (area_path, code, name, category_id, risk_level, description,
                               lon, lat, geometry, grid_id, measures, synthetic, created_at,
                               updated_at)
SELECT g.path, 'BRP' || lpad(i::text, 8, '0'), 'bench point ' || i, c.id, 1 + i % 4, '',
       g.centre_lon + ((i::bigint * 7919) % 1000 - 500) * 0.000004,
       g.centre_lat + ((i::bigint * 104729) % 1000 - 500) * 0.000004,
       NULL, g.id, '{}', true, now(), now()
FROM generate_series(%(first)s, %(last)s) AS i
JOIN bench_grid AS g ON g.k = 1 + ((i::bigint * 2654435761) %% %(grids)s)::int
JOIN bench_category AS c ON c.k = i %% %(categories)s
"""


def ensure(points: int) -> None:
    bigcity.city_ensure()
    if not bigcity.exists(DB):
        with bigcity.admin() as con:
            con.execute(f"CREATE DATABASE {DB} TEMPLATE {bigcity.CITY_DB}")
    os.environ.update(ZHILI_DATA_DIR=str(bigcity.OUT), ZHILI_DATABASE_URL=f"{bigcity.PG}/{DB}",
                      DJANGO_SETTINGS_MODULE="zhili.settings", ZHILI_LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from zhili.warning.catalogue import catalogue_seed

    catalogue_seed()
    with bigcity._connect(DB) as con:
        have = con.execute("SELECT count(*) FROM warning_riskpoint").fetchone()[0]
        if have >= points:
            return
        log(f"· filling {points - have:,} risk points …")
        con.execute("""
            CREATE TEMP TABLE bench_grid AS
            SELECT row_number() OVER (ORDER BY id)::int AS k, id, path, centre_lon, centre_lat
            FROM geo_areanode WHERE level = 'grid';
            CREATE TEMP TABLE bench_category AS
            SELECT row_number() OVER (ORDER BY id)::int - 1 AS k, id FROM warning_riskcategory;
            ANALYZE bench_grid; ANALYZE bench_category;""")
        grids = con.execute("SELECT count(*) FROM bench_grid").fetchone()[0]
        categories = con.execute("SELECT count(*) FROM bench_category").fetchone()[0]
        for first in range(have + 1, points + 1, 100_000):
            last = min(first + 99_999, points)
            con.execute(FILL.replace("%(first)s", str(first)).replace("%(last)s", str(last))
                        .replace("%(grids)s", str(grids))
                        .replace("%(categories)s", str(categories)).replace("%%", "%"))
            log(f"  {last:,} points")
        con.execute("VACUUM ANALYZE warning_riskpoint")


def viewer(username: str, role: str, code: str):
    from zhili.accounts.models import User
    from zhili.accounts.services import role_assign, user_create
    from zhili.geo.models import AreaNode

    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(username=username, password=None)
        role_assign(user=user, role=role, area=AreaNode.objects.get(code=code.ljust(12, "0")))
    return User.objects.get(pk=user.pk)  # fresh: no cached scope


def p50(fn, rounds: int) -> tuple[float, object]:
    result = fn()
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = fn()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def bare_count(actor):
    from zhili.warning.models import RiskPoint

    return lambda: RiskPoint.objects.restrict(actor, "warning.view_warning").count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=520_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    ensure(args.points)

    from django.db.models import Max, Min

    from zhili.geo.viewport import Viewport
    from zhili.warning.models import RiskPoint
    from zhili.warning.selectors import risk_points_geojson

    out = {"bench": "clusters", "points": RiskPoint.objects.count(), "rounds": args.rounds}
    for name, username, role, code, zoom in (
            ("city", "bench_city_op", "city_operator", "50", 8),
            ("district", "bench_district_op", "district_operator", DISTRICT, 11)):
        actor = viewer(username, role, code)
        area = RiskPoint.objects.restrict(actor, "warning.view_warning")
        e = area.aggregate(Min("lon"), Max("lon"), Min("lat"), Max("lat"))
        viewport = Viewport.from_query({"bbox": f"{e['lon__min']},{e['lat__min']},"
                                                f"{e['lon__max']},{e['lat__max']}",
                                        "zoom": str(zoom)})
        layer_ms, body = p50(lambda a=actor, v=viewport: json.dumps(
            risk_points_geojson(actor=a, viewport=v)), args.rounds)
        count_ms, total = p50(bare_count(actor), args.rounds)
        before_ms, before = p50(lambda a=actor: json.dumps(risk_points_geojson(actor=a)),
                                args.rounds)
        answer = json.loads(body)
        assert answer["total"] == total, (answer["total"], total)
        out.update({
            f"{name}_points": total, f"{name}_zoom": zoom,
            f"{name}_features": len(answer["features"]), f"{name}_kb": round(len(body) / 1024, 1),
            f"{name}_p50_ms": round(layer_ms, 1), f"{name}_count_p50_ms": round(count_ms, 1),
            f"ratio_{name}": round(layer_ms / count_ms, 2),
            f"{name}_capped_list_p50_ms": round(before_ms, 1),
            f"{name}_capped_list_kb": round(len(before) / 1024, 1),
            f"{name}_capped_list_points": len(json.loads(before)["features"]),
        })
        log(f"· {name}: {total:,} points → {len(answer['features'])} features, "
            f"{layer_ms:.1f} ms (bare count {count_ms:.1f} ms)")
    try:
        out["load"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
