#!/usr/bin/env python
"""A district's monthly KPIs from the roll-ups: 100,000 cases against 10 million; and the
incremental roll-up per case change against a full recomputation.

    .venv/bin/python bench/kpis.py [--big N] [--rounds R] [--changes K]

Promises (issue 12): reading a district's monthly KPIs (every governance KPI,
`supervision.selectors.kpi_values`) costs at most 1.5x with 10,000,000 cases
what it costs with 100,000, because it sums the district's ~30 day rows of
the roll-up table whatever the history behind them (`ratio_10m_vs_100k`); and
rolling up one case change (the worker's poller: the case's grid-day bucket
recomputed, the difference added to the grid and its ancestors) costs at most
1/1000 of recomputing the same KPIs from scratch (`incremental_vs_full`).

The data are bench/bigcity.py's two databases: the `chongqing` city (38
districts, 62,000 grids) with 100,000 and with 10,000,000 cases over two
years. The city's roll-ups whole would be some 450 million cells at 10M
cases (about one case per grid and day: ~15 cells per case at grid level,
as many again above; docs/supervision.md), far past the bench's disk, so
the roll-ups are built (set-based, `rollups.rebuild(within=…)`) for the
measured district, Yuzhong, in both phases, and the full recomputation is
timed as the components of all 10,000,000 cases computed by the rebuild's
own SQL (`full_recompute_s`, the reading half of a whole-city rebuild: a
lower bound of its cost). The district's own rebuild is printed beside it,
and a third baseline: the same district-month figures computed live from the
case table (`incremental_vs_live_district_month`).

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRICT = "50/500103/"  # Yuzhong
sys.path.insert(0, str(ROOT / "bench"))

import bigcity  # noqa: E402  (the two databases, built once)
from bigcity import log  # noqa: E402


def execute(sql: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def rebuild() -> float:
    """The district's roll-ups from scratch (set-based); seconds."""
    from zhili.supervision.rollups import rebuild as full

    started = time.perf_counter()
    full(["governance.cases"], within=DISTRICT)
    seconds = time.perf_counter() - started
    execute("VACUUM ANALYZE supervision_rollupcell")
    return seconds


def full_recompute() -> dict:
    """The components of every case of the city, by the rebuild's own SQL (not written)."""
    from zhili.supervision.rollups import own_cells_sql

    started = time.perf_counter()
    cells = total = 0
    for sql, params in own_cells_sql("governance.cases"):
        n, s = execute(f"SELECT count(*), sum(value) FROM ({sql}) AS o", params)[0]
        cells, total = cells + n, total + int(s or 0)
    return {"seconds": time.perf_counter() - started, "own_cells": cells}


def codes() -> list[str]:
    from zhili.supervision.selectors import kpi_registry

    return [k.code for k in kpi_registry() if k.source == "governance.cases"]


def read_district_month(month: date, rounds: int) -> dict:
    from zhili.supervision.selectors import kpi_values

    for _ in range(10):
        values = kpi_values(codes(), DISTRICT, "month", month)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        values = kpi_values(codes(), DISTRICT, "month", month)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 3),
            "p95_ms": round(timings[int(len(timings) * 0.95)], 3),
            "cases": values["governance.cases"].value,
            "on_time_resolve": values["governance.on_time_resolve"].value}


def live_district_month(month: date) -> float:
    """The same figures computed live from the case table (no roll-up)."""
    from zhili.governance import kpis
    from zhili.supervision.periods import day_bounds, period_end

    start, end = day_bounds(month)[0], day_bounds(period_end("month", month))[0]
    started = time.perf_counter()
    kpis.components(area_path=DISTRICT, start=start, end=end)
    return time.perf_counter() - started


def incremental(changes: int) -> dict:
    """Change `changes` cases (one event each, as a service would) and time the poller."""
    from django.db import transaction

    from zhili.governance.models import Case, CaseEvent
    from zhili.supervision.rollups import poll_source

    picked = list(Case.objects.filter(area_path__startswith=DISTRICT).order_by("-id")
                  .values_list("id", flat=True)[:changes * 50:50])
    with transaction.atomic():
        for n, case_id in enumerate(picked):
            Case.objects.filter(pk=case_id).update(rating=1 + n % 5, resolve_on_time=n % 2 == 0)
        CaseEvent.objects.bulk_create([CaseEvent(case_id=c, kind="rated") for c in picked])
    started = time.perf_counter()
    taken = 0
    while (n := poll_source("governance.cases", limit=changes)):
        taken += n
    seconds = time.perf_counter() - started
    return {"changes": taken, "seconds": seconds, "per_change_ms": 1000 * seconds / max(1, taken)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", type=int, default=bigcity.BIG, help="cases in the big phase")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    bigcity.phase_ensure("big", args.big)  # the long part first, before any timing
    bigcity.use("small")
    from locate import machine

    from zhili.supervision.periods import period_start, today

    # The last whole month (the cases end three days before the build).
    month = period_start("month", period_start("month", today()) - timedelta(days=1))
    log(f"· district roll-ups at {bigcity.SMALL:,} cases …")
    rebuild_small = rebuild()
    small = read_district_month(month, args.rounds)
    bigcity.use("big", args.big)
    big_count = bigcity.count(bigcity.PHASES["big"][0])
    log(f"· district roll-ups at {big_count:,} cases (set-based rebuild) …")
    rebuild_big = rebuild()
    cells = execute("SELECT count(*) FROM supervision_rollupcell")[0][0]
    big = read_district_month(month, args.rounds)
    live = live_district_month(month)
    log("· the whole city's components (full recomputation) …")
    full = full_recompute()
    log("· incremental updates …")
    inc = incremental(args.changes)
    print(json.dumps({
        "bench": "kpis",
        "database": "postgresql",
        "city": "chongqing (38 districts, 62,000 grids)",
        "district": DISTRICT,
        "month": month.isoformat(),
        "cases_small": bigcity.SMALL,
        "cases_big": big_count,
        "district_month_ms": {"small": small["p50_ms"], "big": big["p50_ms"]},
        "district_month_p95_ms": {"small": small["p95_ms"], "big": big["p95_ms"]},
        "ratio_10m_vs_100k": round(big["p50_ms"] / small["p50_ms"], 3),
        "promise_read": "ratio_10m_vs_100k <= 1.5",
        "cases_in_month": {"small": small["cases"], "big": big["cases"]},
        "district_rebuild_s": {"small": round(rebuild_small, 2), "big": round(rebuild_big, 2)},
        "rollup_cells_big": cells,
        "full_recompute_s": round(full["seconds"], 2),
        "full_own_cells": full["own_cells"],
        "incremental_per_change_ms": round(inc["per_change_ms"], 3),
        "incremental_changes": inc["changes"],
        "incremental_vs_full": round(inc["per_change_ms"] / 1000 / full["seconds"], 7),
        "promise_incremental": "incremental_vs_full <= 0.001",
        "incremental_vs_district_rebuild": round(inc["per_change_ms"] / 1000 / rebuild_big, 6),
        "live_district_month_s": round(live, 3),
        "incremental_vs_live_district_month": round(inc["per_change_ms"] / 1000 / live, 5),
        "rounds": args.rounds,
        "load_average": os.getloadavg(),
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
