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
1/1000 of recomputing the roll-ups from scratch (`zhili supervision rebuild`),
`incremental_vs_full`. A second baseline is printed beside it: recomputing the
same district-month figures live from the case table
(`incremental_vs_live_district_month`).

On PostgreSQL, scratch database `zhili_bench_kpis` (kept between runs). The
city is the `small` preset (one district, 480 grids): a chongqing-sized city
with 10 million cases would make the grid-level roll-up rows sparse (about one
case per grid and day), which `docs/supervision.md` discusses; the district
read is the same index range either way. Cases are inserted as
bench/scoped_list.py does (one INSERT … SELECT generate_series per million),
spread over the 12 months before the measured one and the measured month
itself, with varied on-time flags, levels, ratings and handling times.

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "kpis"
PG = os.environ.get("ZHILI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DB = "zhili_bench_kpis"
SMALL = 100_000
CHUNK = 1_000_000
DISTRICT = "50/500103/"
sys.path.insert(0, str(ROOT / "bench"))


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def setup_django():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
        if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            con.execute(f"CREATE DATABASE {DB}")
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.update(ZHILI_DATA_DIR=str(OUT), ZHILI_DATABASE_URL=f"{PG}/{DB}",
                      DJANGO_SETTINGS_MODULE="zhili.settings", ZHILI_LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def prepare_city():
    from zhili.geo.models import AreaNode
    from zhili.governance.catalogue import category_seed

    if not AreaNode.objects.filter(level="grid").exists():
        log("· generating the small city (once; kept in the database) …")
        python = Path(sys.executable)
        subprocess.run([str(python), "-m", "zhili", "city", "generate", "--preset", "small",
                        "--seed", "1"], check=True, env=os.environ, stdout=subprocess.DEVNULL)
    category_seed()


# Cases spread over 13 months ending with the measured month (`month_end`); every
# figure the KPIs read varies with i (a fixed, seedless pattern: two runs do the same).
INSERT = """
WITH g AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(path ORDER BY id) AS paths,
                  count(*) AS n FROM geo_areanode WHERE level = 'grid'),
     c AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM governance_category)
INSERT INTO governance_case (
    area_path, tracking_no, category_id, is_dispute, description, address, lon, lat, grid_id,
    channel, anonymous, contact_name, contact_phone, contact_email, media_url, attributes,
    status, step, current_level, highest_level, resolved_level, outcome, reject_reason,
    rating, rating_comment, accept_on_time, arrive_on_time, resolve_on_time, handling_minutes,
    created_at, updated_at, closed_at, resolved_at, version, intake_key, intake_scope,
    intake_fingerprint)
SELECT g.paths[k], 'K' || lpad(i::text, 12, '0'), c.ids[1 + (i %% c.n)], false,
       'bench case', '', 106.5, 29.5, g.ids[k], 'resident', false, '', '', '', '', '{}',
       CASE WHEN open THEN 'accepted' ELSE 'closed' END, CASE WHEN open THEN 'resolve' ELSE '' END,
       'grid', (ARRAY['grid','grid','grid','community','street'])[1 + i %% 5],
       CASE WHEN open THEN '' ELSE (ARRAY['grid','community','street','district'])[1 + i %% 4] END,
       CASE WHEN open THEN '' ELSE 'fixed' END, '',
       CASE WHEN open OR i %% 3 = 0 THEN NULL ELSE 1 + i %% 5 END, '',
       i %% 10 <> 0, i %% 7 <> 0, CASE WHEN open THEN NULL ELSE i %% 9 <> 0 END,
       CASE WHEN open THEN NULL ELSE 15 + (i * 37) %% 5000 END,
       at, at, CASE WHEN open THEN NULL ELSE at + interval '1 day' END,
       CASE WHEN open THEN NULL ELSE at + interval '1 day' END, 1, '', '', ''
FROM g, c, LATERAL (
    SELECT i, 1 + ((i::bigint * 2654435761) %% g.n)::int AS k, i %% 17 = 0 AS open,
           %(end)s::timestamptz - ((i::bigint * 40503) %% 34214400) * interval '1 second' AS at
    FROM generate_series(%(first)s, %(last)s) AS i
) AS x
"""


def execute(sql: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def count() -> int:
    return execute("SELECT count(*) FROM governance_case")[0][0]


def grow_to(target: int, month_end) -> None:
    have = count()
    if have >= target:
        return
    log(f"· adding {target - have:,} cases …")
    execute("ALTER TABLE governance_case SET (autovacuum_enabled = false)")
    started = time.perf_counter()
    for first in range(have + 1, target + 1, CHUNK):
        last = min(first + CHUNK - 1, target)
        execute(INSERT, {"first": first, "last": last, "end": month_end})
        log(f"  {last:,} rows ({time.perf_counter() - started:.0f} s)")
    execute("ALTER TABLE governance_case RESET (autovacuum_enabled)")
    execute("VACUUM ANALYZE governance_case")


def rebuild() -> float:
    from zhili.supervision.rollups import rebuild as full

    started = time.perf_counter()
    full(["governance.cases"])
    execute("VACUUM ANALYZE supervision_rollupcell")
    return time.perf_counter() - started


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
    from zhili.governance.selectors import cases_for_rollup
    from zhili.supervision.periods import day_bounds, period_end

    start, end = day_bounds(month)[0], day_bounds(period_end("month", month))[0]
    started = time.perf_counter()
    kpis.aggregate(cases_for_rollup(start=start, end=end).filter(area_path__startswith=DISTRICT))
    return time.perf_counter() - started


def incremental(changes: int) -> dict:
    """Change `changes` cases (one event each, as a service would) and time the poller."""
    from django.db import transaction

    from zhili.governance.models import Case, CaseEvent
    from zhili.supervision.rollups import poll_source

    picked = list(Case.objects.order_by("-id").values_list("id", flat=True)[:changes * 50:50])
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
    parser.add_argument("--big", type=int, default=10_000_000, help="cases in the big phase")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    setup_django()
    from locate import machine

    from zhili.supervision.periods import period_start, today

    prepare_city()
    month = period_start("month", today())
    month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    end_sql = f"{month_end.isoformat()} 00:00:00+08"
    if count() != SMALL:
        log("· resetting the case table …")
        execute("TRUNCATE governance_case CASCADE")
        grow_to(SMALL, end_sql)
    log("· roll-ups at 100,000 cases …")
    rebuild_small = rebuild()
    small = read_district_month(month, args.rounds)
    grow_to(args.big, end_sql)
    log(f"· roll-ups at {count():,} cases (full rebuild) …")
    rebuild_big = rebuild()
    cells = execute("SELECT count(*) FROM supervision_rollupcell")[0][0]
    big = read_district_month(month, args.rounds)
    live = live_district_month(month)
    log("· incremental updates …")
    inc = incremental(args.changes)
    print(json.dumps({
        "bench": "kpis",
        "database": "postgresql",
        "city": "small (one district, 480 grids)",
        "cases_small": SMALL,
        "cases_big": count(),
        "district_month_ms": {"small": small["p50_ms"], "big": big["p50_ms"]},
        "district_month_p95_ms": {"small": small["p95_ms"], "big": big["p95_ms"]},
        "ratio_10m_vs_100k": round(big["p50_ms"] / small["p50_ms"], 3),
        "promise_read": "ratio_10m_vs_100k <= 1.5",
        "cases_in_month": {"small": small["cases"], "big": big["cases"]},
        "full_rebuild_s": {"small": round(rebuild_small, 2), "big": round(rebuild_big, 2)},
        "rollup_cells_big": cells,
        "incremental_per_change_ms": round(inc["per_change_ms"], 3),
        "incremental_changes": inc["changes"],
        "incremental_vs_full": round(inc["per_change_ms"] / 1000 / rebuild_big, 7),
        "promise_incremental": "incremental_vs_full <= 0.001",
        "live_district_month_s": round(live, 3),
        "incremental_vs_live_district_month": round(inc["per_change_ms"] / 1000 / live, 5),
        "rounds": args.rounds,
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
