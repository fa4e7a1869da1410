#!/usr/bin/env python
"""Case intake over HTTP against a bare one-row insert, side by side (PostgreSQL).

    .venv/bin/python bench/intake.py [--seconds S] [--concurrency C] [--workers W] [--rounds R]

The issue's promise: an HTTP POST of a case (validated, located, deduplicated,
dispatched, committed — with its timeline, audit row and notification) runs at
no less than half the throughput of a bare endpoint that inserts one row into
the same database; and under a steady load at half the measured maximum, its
p99 latency stays within 3x its p50.

Both endpoints are served by the same uvicorn process(es) on 127.0.0.1 running
the real project (middleware, auth, ninja): `POST /api/v1/governance/cases`
with a bearer token and an Idempotency-Key, and `POST /bench/bare`, a plain
Django view that parses the same JSON body and inserts one row with one SQL
statement. The load is loopback only, bounded in time and count, and stops
by itself:

1. maximum: C closed-loop clients, S seconds per endpoint cut into R
   alternating slices (requests/s); the ratio is the median of the R
   per-round ratios, so drifting noise on a shared machine cancels out;
2. steady: an open-loop schedule at half of each endpoint's maximum for S
   seconds (latency p50, p99 measured from the scheduled send time, so a
   stalled server cannot hide its queue).

Data: a scratch PostgreSQL database `zhili_bench_intake` with the small demo
city and its users (no demo cases), rebuilt on every run. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "intake"
PG = os.environ.get("ZHILI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DB = "zhili_bench_intake"
HOST, PORT = "127.0.0.1", 8765
MAX_REQUESTS = 200_000  # a hard bound on the whole run, whatever the options say
ERRORS: list[str] = []  # the first few error answers, for the log
sys.path.insert(0, str(ROOT / "bench"))

URLS_MODULE = '''
"""Bench-only URLs: the project's own, plus a bare one-row insert."""
import json

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from zhili.urls import urlpatterns as project


@csrf_exempt
def bare(request):
    data = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare (category, description, lon, lat, created_at) "
                       "VALUES (%s, %s, %s, %s, now()) RETURNING id",
                       [data["category"], data["description"], data["lon"], data["lat"]])
        row_id = cursor.fetchone()[0]
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [path("bench/bare", bare)] + project
'''

SETTINGS_MODULE = '''
from zhili.settings import *  # noqa: F401,F403
ROOT_URLCONF = "bench_intake_urls"
'''


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def env() -> dict:
    return dict(os.environ, ZHILI_DATA_DIR=str(OUT), ZHILI_DATABASE_URL=f"{PG}/{DB}",
                ZHILI_DEMO_CASES="0", ZHILI_LOG_LEVEL="WARNING",
                DJANGO_SETTINGS_MODULE="bench_intake_settings",
                PYTHONPATH=os.pathsep.join([str(OUT), str(ROOT / "src")]))


def prepare() -> tuple[str, list[tuple[float, float]], list[str]]:
    """A fresh database with the small city and its users; a token; points and categories."""
    import psycopg

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    (OUT / "bench_intake_urls.py").write_text(URLS_MODULE)
    (OUT / "bench_intake_settings.py").write_text(SETTINGS_MODULE)
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        con.execute(f"CREATE DATABASE {DB}")
    script = """
import random, shapely, sys
import django; django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from zhili.core.seeding import seed_demo
seed_demo(seed=1, log=lambda *a: print(*a, file=sys.stderr))
with connection.cursor() as c:
    c.execute("CREATE TABLE bench_bare (id bigserial PRIMARY KEY, category varchar(48) NOT NULL, "
              "description text NOT NULL, lon double precision NOT NULL, "
              "lat double precision NOT NULL, created_at timestamptz NOT NULL)")
from datetime import time
from zhili.geo.models import AreaNode
from zhili.governance.models import Category, DutyShift
from zhili.accounts.models import User
from zhili.accounts.services import role_assign, token_create, user_create
from zhili.governance.services import duty_shift_set
# A worker on every grid, on duty all day: every case is dispatched and notified.
for grid in AreaNode.objects.filter(level="grid").exclude(
        pk__in=DutyShift.objects.values("grid_id")):
    user = user_create(username=f"bench-{grid.code}", password=None)
    role_assign(user=user, role="grid_worker", area=grid)
    duty_shift_set(actor=None, grid=grid, user=user, start=time(0, 0), end=time(23, 59, 59))
_, raw = token_create(user=User.objects.get(username="resident1"), name="bench", days=1)
rng = random.Random(7)
points = []
for grid in AreaNode.objects.filter(level="grid").order_by("code"):
    shape = grid.shape
    x0, y0, x1, y1 = shape.bounds
    while True:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(shape, x, y):
            points.append((x, y)); break
codes = list(Category.objects.filter(is_dispute=False, attributes=[]).values_list("code", flat=True))
# Fresh statistics, as autovacuum keeps them on a live database: without them
# the planner takes the 500 users just made for 20 and scans them on every join.
with connection.cursor() as c:
    c.execute("VACUUM ANALYZE")
import json
print(json.dumps({"token": raw, "points": points, "codes": codes}))
"""
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", script], env=env(),
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(f"preparing the database failed:\n{done.stderr[-3000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return data["token"], [tuple(p) for p in data["points"]], data["codes"]


def serve(workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "uvicorn"), "zhili.asgi:application", "--host", HOST,
         "--port", str(PORT), "--workers", str(workers), "--log-level", "warning",
         "--lifespan", "off", "--no-access-log"],
        env=env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(400):  # up to two minutes: a loaded machine imports Django slowly
        try:
            con = http.client.HTTPConnection(HOST, PORT, timeout=2)
            con.request("GET", "/api/v1/governance/categories")
            if con.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    sys.exit("the server did not start:\n" + (server.stderr.read() if server.stderr else ""))


class Client:
    """One keep-alive connection; `send()` returns (status, seconds)."""

    def __init__(self, token: str, points, codes, seed: int):
        self.con = http.client.HTTPConnection(HOST, PORT, timeout=30)
        self.token, self.points, self.codes = token, points, codes
        self.rng = random.Random(seed)

    def body(self) -> bytes:
        lon, lat = self.rng.choice(self.points)
        return json.dumps({"category": self.rng.choice(self.codes), "lon": lon, "lat": lat,
                           "description": "bench: 路灯不亮，夜里看不清台阶",
                           "channel": "resident"}).encode()

    def send(self, kind: str) -> int:
        if kind == "intake":
            path = "/api/v1/governance/cases"
            headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": uuid.uuid4().hex,
                       "Content-Type": "application/json"}
        else:
            path, headers = "/bench/bare", {"Content-Type": "application/json"}
        try:
            self.con.request("POST", path, self.body(), headers)
            response = self.con.getresponse()
            content = response.read()
            if response.status >= 300 and len(ERRORS) < 5:
                ERRORS.append(f"{kind} {response.status}: {content[:300]!r}")
            return response.status
        except (OSError, http.client.HTTPException):
            self.con.close()
            self.con = http.client.HTTPConnection(HOST, PORT, timeout=30)
            return 599


def maximum(kind: str, seconds: float, clients: list[Client], budget: list[int]) -> dict:
    """Closed loop: every client sends its next request as soon as the last one returns."""
    stop = time.perf_counter() + seconds
    counts, errors = [0] * len(clients), [0] * len(clients)

    def run(i):
        while time.perf_counter() < stop and budget[0] > 0:
            budget[0] -= 1
            status = clients[i].send(kind)
            counts[i] += 1
            errors[i] += status >= 300

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"rps": round(sum(counts) / elapsed, 1), "requests": sum(counts),
            "errors": sum(errors)}


def steady(kind: str, rate: float, seconds: float, clients: list[Client],
           budget: list[int]) -> dict:
    """Open loop at `rate`/s: latency counts from the scheduled time, not the send time."""
    total = min(int(rate * seconds), budget[0])
    budget[0] -= total
    start = time.perf_counter() + 0.2
    schedule = [start + i / rate for i in range(total)]
    latencies, errors = [], [0]
    lock = threading.Lock()
    cursor = [0]

    def run(client):
        while True:
            with lock:
                if cursor[0] >= total:
                    return
                due = schedule[cursor[0]]
                cursor[0] += 1
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            status = client.send(kind)
            done = time.perf_counter()
            with lock:
                latencies.append(done - due)
                errors[0] += status >= 300

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return {"rate": round(rate, 1), "requests": total, "errors": errors[0],
            "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
            "p99_over_p50": round(p99 / p50, 2) if p50 else None,
            "mean_ms": round(statistics.fmean(latencies) * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase (default 15)")
    parser.add_argument("--concurrency", type=int, default=8, help="clients (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    parser.add_argument("--rounds", type=int, default=8,
                        help="alternating bare/intake slices in the maximum phase (default 8)")
    args = parser.parse_args()
    from locate import machine

    log("· preparing the scratch database (small city, demo users) …")
    token, points, codes = prepare()
    server = serve(args.workers)
    budget = [MAX_REQUESTS]
    try:
        clients = [Client(token, points, codes, seed=i) for i in range(args.concurrency)]
        for kind in ("bare", "intake"):  # warm both (index build, connections)
            for c in clients[:2]:
                c.send(kind)
        log(f"· maximum throughput, side by side ({args.rounds} rounds) …")
        # Short slices, alternating which goes first: noise from other tenants of
        # the machine drifts over seconds, so each round's ratio compares like
        # with like, and the median of the rounds is the figure.
        slices: dict[str, list[dict]] = {"bare": [], "intake": []}
        ratios = []
        for r in range(args.rounds):
            order = ("bare", "intake") if r % 2 == 0 else ("intake", "bare")
            got = {kind: maximum(kind, args.seconds / args.rounds, clients, budget)
                   for kind in order}
            for kind in order:
                slices[kind].append(got[kind])
            ratios.append(got["intake"]["rps"] / got["bare"]["rps"] if got["bare"]["rps"] else 0)
            log(f"  round {r + 1}: bare {got['bare']['rps']} req/s, intake "
                f"{got['intake']['rps']} req/s, ratio {ratios[-1]:.3f}")
        best = {kind: {"rps": round(statistics.median(x["rps"] for x in slices[kind]), 1),
                       "requests": sum(x["requests"] for x in slices[kind]),
                       "errors": sum(x["errors"] for x in slices[kind])}
                for kind in slices}
        log("· steady load at half the maximum …")
        load = {}
        for kind in ("bare", "intake"):
            load[kind] = steady(kind, best[kind]["rps"] / 2, args.seconds, clients, budget)
            log(f"  {kind}: {load[kind]}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    for line in ERRORS:
        log("  error: " + line)
    ratio = statistics.median(ratios)
    print(json.dumps({
        "bench": "intake",
        "database": "postgresql",
        "intake_rps": best["intake"]["rps"],
        "bare_rps": best["bare"]["rps"],
        "ratio": round(ratio, 3),
        "ratio_rounds": [round(x, 3) for x in ratios],
        "promise": "ratio >= 0.5 and intake p99 <= 3 x p50 at half the maximum",
        "intake_steady": load["intake"],
        "bare_steady": load["bare"],
        "errors": best["intake"]["errors"] + best["bare"]["errors"],
        "concurrency": args.concurrency,
        "workers": args.workers,
        "seconds_per_phase": args.seconds,
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
