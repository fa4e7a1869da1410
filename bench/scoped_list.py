#!/usr/bin/env python
"""A street operator's first page of open cases: 100,000 cases against 10 million.

    .venv/bin/python bench/scoped_list.py [--big N] [--rounds R]

The issue's promise: on the `chongqing` city, the first page of a street
operator's open cases costs the same with 10 million cases as with 100,000
(at most 1.5x), because it is an index range on the area path, not a scan.

Both sizes are measured in one run on one PostgreSQL database
(`zhili_bench_cases`, kept between runs under the name; the city is generated
once): first 100,000 cases, then the history is grown to `--big` cases and
the same page is timed again. The open backlog is the same in both (20,000
open cases, the most recent ones): a city's open queue is set by how fast
cases arrive and are closed, not by how many years of closed cases lie
behind it. The page is read exactly as the API reads it
(`selectors.case_list(open=True)` + `paginate`: one COUNT and one SELECT of
50 rows), R times each, and its plan is printed with EXPLAIN (ANALYZE,
BUFFERS). The first page of *all* the street's cases (open and closed) is
timed too, as a second figure: it grows with the street's history.

Prints one JSON line (the plans go into it as text).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "scoped_list"
PG = os.environ.get("ZHILI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DB = "zhili_bench_cases"
SMALL = 100_000
OPEN = 20_000
STREET = "500103001"  # a central street of Yuzhong district
CHUNK = 1_000_000
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
    from zhili.accounts.models import User
    from zhili.accounts.services import role_assign, user_create
    from zhili.geo.models import AreaNode
    from zhili.governance.catalogue import category_seed

    if not AreaNode.objects.filter(level="grid").exists():
        log("· generating the chongqing city (once; kept in the database) …")
        subprocess.run([str(ROOT / ".venv" / "bin" / "zhili"), "city", "generate", "--preset",
                        "chongqing", "--seed", "1"], check=True, env=os.environ,
                       stdout=subprocess.DEVNULL)
    category_seed()
    user = User.objects.filter(username="bench_street_op").first()
    if user is None:
        user = user_create(username="bench_street_op", password=None)
        role_assign(user=user, role="street_operator",
                    area=AreaNode.objects.get(code=STREET.ljust(12, "0")))
    return User.objects.get(pk=user.pk)


INSERT = """
WITH g AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(path ORDER BY id) AS paths,
                  count(*) AS n FROM geo_areanode WHERE level = 'grid'),
     c AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM governance_category)
INSERT INTO governance_case (
    area_path, tracking_no, category_id, is_dispute, description, address, lon, lat, grid_id,
    channel, anonymous, contact_name, contact_phone, contact_email, media_url, attributes,
    status, step, due_at, escalate_at, current_level, highest_level, resolved_level, outcome,
    reject_reason, rating_comment, created_at, updated_at, closed_at, resolved_at, version,
    intake_key, intake_scope)
SELECT g.paths[k], 'B' || lpad(i::text, 12, '0'), c.ids[1 + (i %% c.n)], false,
       'bench case', '', 106.5, 29.5, g.ids[k], 'resident', false, '', '', '', '', '{}',
       CASE WHEN open THEN (ARRAY['reported','accepted','dispatched','on_site'])[1 + i %% 4]
            ELSE 'closed' END,
       CASE WHEN open THEN 'resolve' ELSE '' END,
       CASE WHEN open THEN at + interval '2 days' END,
       CASE WHEN open THEN at + interval '2 days' END,
       'grid', 'grid', CASE WHEN open THEN '' ELSE 'grid' END,
       CASE WHEN open THEN '' ELSE 'fixed' END, '', '', at, at,
       CASE WHEN open THEN NULL ELSE at + interval '1 day' END,
       CASE WHEN open THEN NULL ELSE at + interval '1 day' END, 1, '', ''
FROM g, c, LATERAL (
    SELECT i, 1 + ((i::bigint * 2654435761) %% g.n)::int AS k, i <= %(open)s AS open,
           CASE WHEN i <= %(open)s
                THEN now() - (i::float / %(open)s) * interval '3 days'
                ELSE now() - interval '3 days' - (i::float / %(total)s) * interval '3 years'
           END AS at
    FROM generate_series(%(first)s, %(last)s) AS i
) AS x
"""


def insert(first: int, last: int, total_last: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(INSERT, {"open": OPEN, "first": first, "last": last,
                                "total": total_last})


def secondary_indexes() -> list[tuple[str, str]]:
    """The case table's own indexes, as the migrations made them. Saved on first sight,
    so a run interrupted while they were dropped rebuilds them next time."""
    from django.db import connection

    saved = OUT / "indexes.json"
    if saved.exists():
        return [tuple(x) for x in json.loads(saved.read_text())]
    with connection.cursor() as cursor:
        # Not the ones backing a constraint (the primary key, unique tracking numbers).
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                       "'governance_case' AND indexname NOT IN (SELECT conname FROM "
                       "pg_constraint WHERE conrelid = 'governance_case'::regclass)")
        found = cursor.fetchall()
    saved.write_text(json.dumps(found))
    return found


def indexes_ensure() -> None:
    for _name, definition in secondary_indexes():
        # Partial unique constraints are plain unique indexes on PostgreSQL.
        execute(definition.replace(" INDEX ", " INDEX IF NOT EXISTS ", 1))


def execute(sql: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)


def count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM governance_case")
        return cursor.fetchone()[0]


def grow_to(target: int, total_for_dates: int) -> None:
    """Add closed history up to `target` rows, indexes dropped and rebuilt around it."""
    have = count()
    if have >= target:
        return
    indexes = secondary_indexes()
    log(f"· adding {target - have:,} cases (indexes off, {len(indexes)} to rebuild) …")
    for name, _ in indexes:
        execute(f'DROP INDEX IF EXISTS "{name}"')  # faster to build once after the load
    execute("ALTER TABLE governance_case SET (autovacuum_enabled = false)")
    started = time.perf_counter()
    for first in range(have + 1, target + 1, CHUNK):
        last = min(first + CHUNK - 1, target)
        insert(first, last, total_for_dates)
        log(f"  {last:,} rows ({time.perf_counter() - started:.0f} s)")
    execute("SET maintenance_work_mem = '1GB'")
    log("  rebuilding the indexes …")
    indexes_ensure()
    execute("ALTER TABLE governance_case RESET (autovacuum_enabled)")
    execute("VACUUM ANALYZE governance_case")
    log(f"  done in {time.perf_counter() - started:.0f} s")


def measure(actor, rounds: int, *, open_only: bool) -> dict:
    from zhili.core.pagination import PageParams, paginate
    from zhili.governance.selectors import CaseFilters, case_list

    filters = CaseFilters(open=True if open_only else None)
    params = PageParams(page=1, page_size=50)

    def page():
        return paginate(case_list(actor=actor, filters=filters), params)

    for _ in range(10):
        result = page()
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = page()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    plan = case_list(actor=actor, filters=filters)[:50].explain(analyze=True, buffers=True)
    return {"p50_ms": round(statistics.median(timings), 3),
            "p95_ms": round(timings[int(len(timings) * 0.95)], 3),
            "rows_in_street": result["count"], "page_rows": len(result["items"]),
            "plan": plan}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", type=int, default=10_000_000, help="cases in the big phase")
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    setup_django()
    from locate import machine

    actor = prepare_city()
    secondary_indexes()  # remember them while they are all there
    indexes_ensure()
    if count() != SMALL:  # start over from exactly SMALL rows (a rerun after a big phase)
        log("· resetting the case table …")
        execute("TRUNCATE governance_case CASCADE")
        grow_to(SMALL, args.big)
    log("· timing the first page at 100,000 cases …")
    small_open = measure(actor, args.rounds, open_only=True)
    small_all = measure(actor, args.rounds // 3, open_only=False)
    grow_to(args.big, args.big)
    log(f"· timing the first page at {count():,} cases …")
    big_open = measure(actor, args.rounds, open_only=True)
    big_all = measure(actor, args.rounds // 3, open_only=False)
    ratio = big_open["p50_ms"] / small_open["p50_ms"]
    print(json.dumps({
        "bench": "scoped_list",
        "database": "postgresql",
        "city": "chongqing",
        "street": STREET,
        "cases_small": SMALL,
        "cases_big": count(),
        "open_cases": OPEN,
        "open_first_page_small_ms": small_open["p50_ms"],
        "open_first_page_big_ms": big_open["p50_ms"],
        "ratio": round(ratio, 3),
        "promise": "ratio <= 1.5",
        "open_p95_ms": {"small": small_open["p95_ms"], "big": big_open["p95_ms"]},
        "open_rows_in_street": {"small": small_open["rows_in_street"],
                                "big": big_open["rows_in_street"]},
        "all_first_page_ms": {"small": small_all["p50_ms"], "big": big_all["p50_ms"]},
        "all_rows_in_street": {"small": small_all["rows_in_street"],
                               "big": big_all["rows_in_street"]},
        "plan_open_big": big_open["plan"],
        "plan_all_big": big_all["plan"],
        "rounds": args.rounds,
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
