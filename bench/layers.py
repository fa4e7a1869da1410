#!/usr/bin/env python
"""The one map's live-case layer for a street: 100,000 cases against 10 million.

    .venv/bin/python bench/layers.py [--big N] [--rounds R]

The issue's promise: a street's live-case layer costs the same with
10,000,000 cases in the `chongqing` city as with 100,000 (at most 1.5x),
because it reads the open queue's partial index on the area path, not the
city's history.

The data are bench/bigcity.py's two databases (the same city with 100,000
and with 10,000,000 cases, built once and kept): 20,000 open cases in both
phases, the rest closed history. The layer is built exactly as the
page serves it (`cockpit.selectors.cases_geojson` + `json.dumps`), R times
at each size, and its plan printed with EXPLAIN (ANALYZE, BUFFERS).

Prints one JSON line.
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

import bigcity  # noqa: E402  (the two databases, built once)
from bigcity import log  # noqa: E402


def street_viewport():
    """What the page asks for: the street's box at zoom 14 (its own map's zoom)."""
    from zhili.geo.models import AreaNode
    from zhili.geo.viewport import Viewport

    node = AreaNode.objects.get(code=bigcity.STREET.ljust(12, "0"))
    return Viewport(node.min_lon, node.min_lat, node.max_lon, node.max_lat, 14)


def city_operator():
    """A city operator (made once in the phase's database) and the city's box at zoom 8:
    the whole open queue, counted into clusters."""
    from zhili.accounts.models import User
    from zhili.accounts.services import role_assign, user_create
    from zhili.geo.models import AreaNode
    from zhili.geo.viewport import Viewport

    city = AreaNode.objects.get(code="50".ljust(12, "0"))
    user = User.objects.filter(username="bench_city_op").first()
    if user is None:
        user = user_create(username="bench_city_op", password=None)
        role_assign(user=user, role="city_operator", area=city)
    return (User.objects.get(pk=user.pk),
            Viewport(city.min_lon, city.min_lat, city.max_lon, city.max_lat, 8))


def measure(actor, rounds: int, viewport=None) -> dict:
    from zhili.cockpit.selectors import cases_geojson
    from zhili.governance.selectors import CaseFilters, case_list

    for _ in range(10):
        body = json.dumps(cases_geojson(actor=actor, viewport=viewport))
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        body = json.dumps(cases_geojson(actor=actor, viewport=viewport))
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    cases = case_list(actor=actor, filters=CaseFilters(open=True))
    plan = (viewport.within(cases) if viewport else cases)[:2000].explain(analyze=True,
                                                                          buffers=True)
    return {"p50_ms": round(statistics.median(timings), 3),
            "p95_ms": round(timings[int(len(timings) * 0.95)], 3),
            "features": len(json.loads(body)["features"]), "bytes": len(body), "plan": plan}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", type=int, default=bigcity.BIG, help="cases in the big phase")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    bigcity.phase_ensure("big", args.big)  # the long part first, before any timing
    bigcity.use("small")
    from locate import machine

    log("· timing the street's live-case layer at 100,000 cases …")
    small = measure(bigcity.operator(), args.rounds)
    small_box = measure(bigcity.operator(), args.rounds, street_viewport())
    small_city = measure(*city_operator()[:1], args.rounds, city_operator()[1])
    log(f"  p50 {small['p50_ms']} ms, {small['features']} features, {small['bytes']:,} bytes; "
        f"for the map's box {small_box['p50_ms']} ms")
    bigcity.use("big", args.big)
    big_count = bigcity.count(bigcity.PHASES["big"][0])
    log(f"· timing it at {big_count:,} cases …")
    big = measure(bigcity.operator(), args.rounds)
    big_box = measure(bigcity.operator(), args.rounds, street_viewport())
    big_city = measure(*city_operator()[:1], args.rounds, city_operator()[1])
    print(json.dumps({
        "bench": "layers",
        "layer": "cockpit live cases",
        "database": "postgresql",
        "city": "chongqing",
        "street": bigcity.STREET,
        "cases_small": bigcity.SMALL,
        "cases_big": big_count,
        "open_cases": bigcity.OPEN,
        "layer_small_ms": small["p50_ms"],
        "layer_big_ms": big["p50_ms"],
        "ratio": round(big["p50_ms"] / small["p50_ms"], 3),
        # As the page asks since the layer takes the map's box (bbox, zoom 14).
        "layer_small_box_ms": small_box["p50_ms"],
        "layer_big_box_ms": big_box["p50_ms"],
        "ratio_box": round(big_box["p50_ms"] / small_box["p50_ms"], 3),
        # A city operator's map of the whole city at zoom 8: the open queue in clusters.
        "city_clusters_small_ms": small_city["p50_ms"],
        "city_clusters_big_ms": big_city["p50_ms"],
        "ratio_city_clusters": round(big_city["p50_ms"] / small_city["p50_ms"], 3),
        "city_clusters_features": big_city["features"],
        "city_clusters_bytes": big_city["bytes"],
        "promise": "ratio <= 1.5",
        "p95_ms": {"small": small["p95_ms"], "big": big["p95_ms"]},
        "features": {"small": small["features"], "big": big["features"]},
        "bytes": {"small": small["bytes"], "big": big["bytes"]},
        "plan_big": big["plan"],
        "plan_big_box": big_box["plan"],
        "rounds": args.rounds,
        "load_average": os.getloadavg(),
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
