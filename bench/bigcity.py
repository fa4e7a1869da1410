#!/usr/bin/env python
"""The `chongqing` city with 100,000 and with 10,000,000 cases, built once and kept.

    .venv/bin/python bench/bigcity.py [--small N] [--big N]   # build (or finish) both

Shared by bench/scoped_list.py, layers.py and kpis.py: three PostgreSQL
databases, kept between runs under their names.

- `zhili_bench_city`: migrated, the chongqing preset generated (seed 1), the
  category catalogue seeded, a street operator of Yuzhong's central street. The
  template of the other two (`CREATE DATABASE … TEMPLATE`), so their areas
  and ids are the same.
- `zhili_bench_100k` and `zhili_bench_10m`: the city plus its cases, filled
  server-side with one `INSERT … SELECT FROM generate_series` per chunk, every
  chunk its own transaction (an interrupted fill resumes at the next chunk),
  the case table's secondary indexes and constraints dropped before the first
  chunk and rebuilt after the last.

The cases: 20,000 open ones in the last three days (a city's open queue is set
by intake and closing, not by its history), the rest closed or rejected, spread
evenly over the two years before that; grids drawn by a fixed hash of the row
number (two builds are the same). Statuses, steps, levels, on-time flags,
ratings and handling times vary as the real ones do; every NOT NULL column
is filled, `intake_fingerprint` included.

A phase is used with `use(name)`: Django set up on that database (migrated,
so a newer schema is applied), the connection switched when already set up.
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
OUT = ROOT / "bench" / "out" / "bigcity"
PG = os.environ.get("ZHILI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
CITY_DB = "zhili_bench_city"
SMALL, BIG = 100_000, 10_000_000
PHASES = {"small": ("zhili_bench_100k", SMALL), "big": ("zhili_bench_10m", BIG)}
OPEN = 20_000
STREET = "500103001"  # a central street of Yuzhong district
OPERATOR = "bench_street_op"
CHUNK = 500_000


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def admin():
    import psycopg

    return psycopg.connect(f"{PG}/postgres", autocommit=True)


def exists(db: str) -> bool:
    with admin() as con:
        return con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone() \
            is not None


# --- the city (template) ------------------------------------------------------------

def city_ensure() -> None:
    marker = OUT / "city.done"
    if exists(CITY_DB) and marker.exists():
        return
    OUT.mkdir(parents=True, exist_ok=True)
    if not exists(CITY_DB):
        with admin() as con:
            con.execute(f"CREATE DATABASE {CITY_DB}")
    log("· generating the chongqing city (once; kept as a template database) …")
    env = dict(os.environ, ZHILI_DATABASE_URL=f"{PG}/{CITY_DB}", ZHILI_DATA_DIR=str(OUT),
               DJANGO_SETTINGS_MODULE="zhili.settings", ZHILI_LOG_LEVEL="WARNING",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    subprocess.run([sys.executable, __file__, "--prepare-city"], check=True, env=env)
    marker.write_text("ok\n")


def _prepare_city() -> None:
    """Inside a subprocess set up on CITY_DB."""
    import django

    django.setup()
    from django.core.management import call_command

    from zhili.accounts.models import User
    from zhili.accounts.services import role_assign, user_create
    from zhili.geo.models import AreaNode
    from zhili.governance.catalogue import category_seed

    call_command("migrate", verbosity=0)
    if not AreaNode.objects.filter(level="grid").exists():
        subprocess.run([sys.executable, "-m", "zhili", "city", "generate", "--preset",
                        "chongqing", "--seed", "1"], check=True, env=os.environ,
                       stdout=subprocess.DEVNULL)
    category_seed()
    if not User.objects.filter(username=OPERATOR).exists():
        user = user_create(username=OPERATOR, password=None)
        role_assign(user=user, role="street_operator",
                    area=AreaNode.objects.get(code=STREET.ljust(12, "0")))


# --- the cases ----------------------------------------------------------------------

# The grids numbered 1..n (a hash join on k: indexing a 62,000-element array per
# row detoasts it each time, 2,000 rows/s), and the categories likewise.
GRIDS = """
CREATE TEMP TABLE bench_grid AS
SELECT row_number() OVER (ORDER BY id)::int AS k, id, path, centre_lon, centre_lat
FROM geo_areanode WHERE level = 'grid';
CREATE TEMP TABLE bench_category AS
SELECT row_number() OVER (ORDER BY id)::int - 1 AS k, id FROM governance_category;
ANALYZE bench_grid; ANALYZE bench_category;
"""

INSERT = """
INSERT INTO governance_case (
    area_path, tracking_no, category_id, is_dispute, description, address, lon, lat, grid_id,
    channel, anonymous, contact_name, contact_phone, contact_email, media_url, attributes,
    status, step, due_at, escalate_at, current_level, highest_level, resolved_level,
    escalated_at, outcome, reject_reason, rating, rating_comment,
    accept_on_time, arrive_on_time, resolve_on_time, handling_minutes,
    created_at, updated_at, accepted_at, arrived_at, resolved_at, closed_at, version,
    intake_key, intake_scope, intake_fingerprint)
SELECT g.path, 'B' || lpad(i::text, 12, '0'), c.id, false,
       'bench case', '', g.centre_lon, g.centre_lat, g.id,
       (ARRAY['resident','resident','resident','patrol','patrol','api','open311'])[1 + i %% 7],
       i %% 11 = 0, '', '', '', '', '{}',
       status,
       CASE status WHEN 'reported' THEN 'accept' WHEN 'accepted' THEN 'arrive'
                   WHEN 'dispatched' THEN 'arrive' WHEN 'on_site' THEN 'resolve' ELSE '' END,
       CASE WHEN open THEN at + interval '2 days' END,
       CASE WHEN open THEN at + interval '1 day' END,
       CASE WHEN open THEN level ELSE 'grid' END, level,
       CASE WHEN status = 'closed' THEN level ELSE '' END,
       CASE WHEN level <> 'grid' THEN at + interval '6 hours' END,
       CASE WHEN status = 'closed' THEN (CASE WHEN i %% 23 = 0 THEN 'not_fixed' ELSE 'fixed' END)
            ELSE '' END,
       CASE WHEN status = 'rejected' THEN 'not a matter for the grid' ELSE '' END,
       CASE WHEN status = 'closed' AND i %% 3 <> 0 THEN 1 + (i / 3) %% 5 END, '',
       CASE WHEN status <> 'reported' THEN i %% 10 <> 0 END,
       CASE WHEN status IN ('on_site', 'closed') THEN i %% 7 <> 0 END,
       CASE WHEN status = 'closed' THEN i %% 9 <> 0 END,
       CASE WHEN status = 'closed' THEN minutes END,
       at, COALESCE(at + minutes * interval '1 minute', at),
       CASE WHEN status <> 'reported' THEN at + interval '20 minutes' END,
       CASE WHEN status IN ('on_site', 'closed') THEN at + interval '2 hours' END,
       CASE WHEN status = 'closed' THEN at + minutes * interval '1 minute' END,
       CASE WHEN NOT open THEN at + minutes * interval '1 minute' END,
       CASE WHEN open THEN 1 + i %% 3 ELSE 5 END, '', '', ''
FROM (
    SELECT i, k, open, at,
           CASE WHEN open THEN (ARRAY['reported','accepted','dispatched','on_site'])[1 + i %% 4]
                WHEN i %% 50 = 0 THEN 'rejected' ELSE 'closed' END AS status,
           (ARRAY['grid','grid','grid','grid','grid','grid','community','community',
                  'street','district'])[1 + (i / 7) %% 10] AS level,
           15 + ((i::bigint * 7919) %% 4000) * ((i::bigint * 7919) %% 4000) / 1000 AS minutes
    FROM (
        SELECT i, 1 + ((i::bigint * 2654435761) %% %(grids)s)::int AS k, i <= %(open)s AS open,
               CASE WHEN i <= %(open)s
                    THEN %(now)s::timestamptz - (i::float / %(open)s) * interval '3 days'
                    ELSE %(now)s::timestamptz - interval '3 days'
                         - ((i::bigint * 40503) %% 63072000) * interval '1 second'
               END AS at
        FROM generate_series(%(first)s, %(last)s) AS i
    ) AS y
) AS x
JOIN bench_grid AS g ON g.k = x.k
JOIN bench_category AS c ON c.k = x.i %% %(categories)s
"""


def _connect(db: str):
    import psycopg

    return psycopg.connect(f"{PG}/{db}", autocommit=True)


def _saved(db: str) -> dict:
    """The case table's secondary indexes and constraints (all but the primary key),
    saved before they are dropped, so an interrupted build restores them."""
    path = OUT / f"{db}.schema.json"
    if path.exists():
        return json.loads(path.read_text())
    with _connect(db) as con:
        constraints = con.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
            "'governance_case'::regclass AND contype IN ('f', 'u')").fetchall()
        indexes = con.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'governance_case' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = "
            "'governance_case'::regclass)").fetchall()
    saved = {"constraints": constraints, "indexes": indexes}
    path.write_text(json.dumps(saved, indent=1))
    return saved


def _restore(db: str) -> None:
    saved = _saved(db)
    with _connect(db) as con:
        con.execute("SET maintenance_work_mem = '512MB'")
        have_c = {r[0] for r in con.execute("SELECT conname FROM pg_constraint WHERE conrelid "
                                            "= 'governance_case'::regclass")}
        have_i = {r[0] for r in con.execute("SELECT indexname FROM pg_indexes WHERE "
                                            "tablename = 'governance_case'")}
        todo = [n for n, _ in saved["indexes"] if n not in have_i] + \
               [n for n, _ in saved["constraints"] if n not in have_c]
        if todo:
            log(f"  rebuilding {len(todo)} indexes and constraints …")
        for name, definition in saved["indexes"]:
            if name not in have_i:
                started = time.perf_counter()
                con.execute(definition)
                log(f"    {name} ({time.perf_counter() - started:.0f} s)")
        for name, definition in saved["constraints"]:
            if name not in have_c:
                started = time.perf_counter()
                con.execute(f'ALTER TABLE governance_case ADD CONSTRAINT "{name}" {definition}')
                log(f"    {name} ({time.perf_counter() - started:.0f} s)")
    (OUT / f"{db}.schema.json").unlink()


def _drop(db: str) -> None:
    saved = _saved(db)
    with _connect(db) as con:
        for name, _ in saved["constraints"]:
            con.execute(f'ALTER TABLE governance_case DROP CONSTRAINT IF EXISTS "{name}"')
        for name, _ in saved["indexes"]:
            con.execute(f'DROP INDEX IF EXISTS "{name}"')
        con.execute("ALTER TABLE governance_case SET (autovacuum_enabled = false)")


def count(db: str) -> int:
    with _connect(db) as con:
        return con.execute("SELECT count(*) FROM governance_case").fetchone()[0]


def phase_ensure(name: str, total: int | None = None) -> str:
    """The phase's database with exactly its cases, indexes in place; its name."""
    db, default = PHASES[name]
    total = total or default
    city_ensure()
    if not exists(db):
        with admin() as con:
            con.execute(f"CREATE DATABASE {db} TEMPLATE {CITY_DB}")
    meta = OUT / f"{db}.json"
    info = json.loads(meta.read_text()) if meta.exists() else {}
    if info.get("total") != total or "now" not in info:
        info = {"total": total, "now": time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())}
        if count(db):
            log(f"· {db}: another size was asked for: starting over …")
            with _connect(db) as con:
                con.execute("TRUNCATE governance_case CASCADE")
        meta.write_text(json.dumps(info))
    have = count(db)
    if have < total or (OUT / f"{db}.schema.json").exists():
        if have < total:
            log(f"· {db}: filling {total - have:,} cases (of {total:,}; indexes off) …")
            _drop(db)
            started = time.perf_counter()
            with _connect(db) as con:
                con.execute("SET synchronous_commit = off")
                con.execute(GRIDS)
                grids = con.execute("SELECT count(*) FROM bench_grid").fetchone()[0]
                categories = con.execute("SELECT count(*) FROM bench_category").fetchone()[0]
                for first in range(have + 1, total + 1, CHUNK):
                    last = min(first + CHUNK - 1, total)
                    con.execute(INSERT, {"open": OPEN, "first": first, "last": last,
                                         "now": info["now"], "grids": grids,
                                         "categories": categories})
                    rate = (last - have) / max(1e-9, time.perf_counter() - started)
                    log(f"  {last:,} rows ({time.perf_counter() - started:.0f} s, "
                        f"{rate:,.0f} rows/s)")
        _restore(db)
        with _connect(db) as con:
            con.execute("ALTER TABLE governance_case RESET (autovacuum_enabled)")
            log("  VACUUM ANALYZE …")
            con.execute("VACUUM ANALYZE governance_case")
    return db


# --- Django on a phase ----------------------------------------------------------------

def use(name: str, total: int | None = None) -> str:
    """Django's default database switched to the phase (set up on first call)."""
    db = phase_ensure(name, total)
    os.environ.update(ZHILI_DATA_DIR=str(OUT), ZHILI_DATABASE_URL=f"{PG}/{db}",
                      DJANGO_SETTINGS_MODULE="zhili.settings", ZHILI_LOG_LEVEL="WARNING")
    sys.path.insert(0, str(ROOT / "src"))
    from django.apps import apps

    if apps.ready:
        from django.db import connections

        connections.close_all()
        for alias in connections:
            connections[alias].settings_dict["NAME"] = db
            if hasattr(connections[alias], "close_pool"):
                connections[alias].close_pool()  # made again, on the new database
    else:
        import django

        django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone()[0] == db, "the connection did not switch databases"
    return db


def operator():
    from zhili.accounts.models import User

    return User.objects.get(username=OPERATOR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=SMALL)
    parser.add_argument("--big", type=int, default=BIG)
    parser.add_argument("--prepare-city", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare_city:
        return _prepare_city()
    phase_ensure("small", args.small)
    phase_ensure("big", args.big)
    log("· both phases ready")


if __name__ == "__main__":
    main()
