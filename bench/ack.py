#!/usr/bin/env python
"""Acknowledgements over HTTP, audited, against a bare one-row insert (PostgreSQL, uvicorn).

    .venv/bin/python bench/ack.py [--seconds S] [--concurrency C] [--workers W]
                                  [--rounds R] [--warnings N] [--recipients K]

The issue's promise: a responsible person's acknowledgement runs at no less
than half the throughput of a bare endpoint inserting one row, measured as
bench/intake.py measures: closed-loop clients in R rounds of alternating
slices (the ratio is the median of the per-round ratios), then an open-loop
steady load at half of each maximum for p50/p99.

Two acknowledgements are measured, side by side with the bare insert:

- `link`: the notifications link's button, `POST /n/ack/<token>/` (signed
  token checked, the delivery marked by a conditional UPDATE, the warning
  moved on its first acknowledgement, one audit row, the page rendered);
- `responder`: the button of the warning's responder page, `POST
  /warning/r/<token>/` with `action=ack`, the page a warning's SMS links to
  (the same service, plus the warning the page shows; it answers with a
  redirect to itself, and the GET after it is a page view, not measured).

Each POST uses a fresh token (a second press changes nothing and would be
cheaper); the client holds a CSRF cookie from one GET of the page, as a
phone does. A client idle longer than the server's keep-alive (uvicorn: 5 s)
opens a new connection first, as a browser does, instead of failing on the
closed one. Data: a scratch database `zhili_bench_ack` with N yellow warnings
on N risk points, each told to K responsible persons by SMS (deliveries made
by the real fan-out), so the acknowledgements of one warning come together as
in a real storm. Prints one JSON line.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "ack"
PG = os.environ.get("ZHILI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("ZHILI_BENCH_DB", "zhili_bench_ack")
sys.path.insert(0, str(ROOT / "bench"))
import intake  # noqa: E402  (the same closed- and open-loop drivers)

HOST = intake.HOST
# Not intake.py's port: another session may run that bench at the same time.
PORT = int(os.environ.get("ZHILI_BENCH_ACK_PORT", "8768"))
KINDS = ("bare", "link", "responder")
PATHS = {"link": "/n/ack/{}/", "responder": "/warning/r/{}/"}
BODIES = {"link": "ack=1", "responder": "action=ack"}
OK = {"bare": 201, "link": 200, "responder": 302}
KEEP_ALIVE = 4.0  # seconds a client trusts an idle connection (uvicorn closes it at 5)
BIN = Path(sys.executable).parent

URLS_MODULE = '''
"""Bench-only URLs: the project's own, plus a bare one-row insert."""
from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from zhili.urls import urlpatterns as project


@csrf_exempt
def bare(request, token):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare (token, created_at) VALUES (%s, now()) "
                       "RETURNING id", [token[:200]])
        row_id = cursor.fetchone()[0]
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [path("bench/bare/<str:token>/", bare)] + project
'''

SETTINGS_MODULE = '''
from zhili.settings import *  # noqa: F401,F403
ROOT_URLCONF = "bench_ack_urls"
'''

PREPARE = """
import json, sys
import django; django.setup()
import shapely
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
call_command("migrate", verbosity=0)
from zhili.geo.models import AreaNode
from zhili.governance.catalogue import category_seed
from zhili.notifications.acklinks import ack_token
from zhili.notifications.models import Delivery, Message
from zhili.notifications.services import message_fanout_run
from zhili.registry.models import Person
from zhili.warning.catalogue import catalogue_seed
from zhili.warning.models import ResponsiblePerson, RiskCategory, RiskPoint
from zhili.warning.services import warning_raise
N, K = int(sys.argv[1]), int(sys.argv[2])
category_seed(); catalogue_seed()
grid = AreaNode.objects.create(code="500103001001001", level="grid", name="网格",
    path="50/500103/500103001/500103001001/500103001001001/",
    geometry=shapely.box(106.5, 29.5, 106.6, 29.6).wkb, min_lon=106.5, min_lat=29.5,
    max_lon=106.6, max_lat=29.6, centre_lon=106.55, centre_lat=29.55)
category = RiskCategory.objects.get(code="landslide")
now = timezone.now()
with connection.cursor() as c:
    c.execute("CREATE TABLE bench_bare (id bigserial PRIMARY KEY, token text NOT NULL, "
              "created_at timestamptz NOT NULL)")
    with c.copy("COPY registry_person (id_number, name, phone, address, household_no, grid_id,"
                " area_path, created_at, updated_at) FROM STDIN") as copy:
        for i in range(N * K):
            copy.write_row((f"A{i:017d}", f"示例·{i}", f"1009{i:07d}", "", "", grid.pk,
                            grid.path, now, now))
persons = list(Person.objects.order_by("id").values_list("id", flat=True))
for w in range(N):
    point = RiskPoint.objects.create(code=f"A-RP-{w:05d}", name=f"示例·点{w}", category=category,
        lon=106.55, lat=29.55, grid=grid, area_path=grid.path, synthetic=True)
    ResponsiblePerson.objects.bulk_create([ResponsiblePerson(risk_point=point, tier="owner",
        person_id=p) for p in persons[w * K:(w + 1) * K]])
    warning_raise(risk_point=point, level=2, source="operator", condition=f"bench:{w}")
for message in Message.objects.filter(object_type="warning.warning"):
    message_fanout_run(message_id=message.pk)
tokens = [ack_token(d) for d in Delivery.objects.filter(channel="sms").values_list("id", flat=True)]
with connection.cursor() as c:
    c.execute("VACUUM ANALYZE")
print(json.dumps({"tokens": tokens}))
"""


def env() -> dict:
    return dict(os.environ, ZHILI_DATA_DIR=str(OUT), ZHILI_DATABASE_URL=f"{PG}/{DB}",
                ZHILI_LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="bench_ack_settings",
                PYTHONPATH=os.pathsep.join([str(OUT), str(ROOT / "src")]))


RESET = """
import json
import django; django.setup()
from django.db import connection
from zhili.notifications.acklinks import ack_token
from zhili.notifications.models import Delivery
with connection.cursor() as c:
    c.execute("UPDATE notifications_delivery SET acknowledged_at = NULL, acknowledged_via = '' "
              "WHERE acknowledged_at IS NOT NULL")
    c.execute("UPDATE warning_warning SET status = 'notified' WHERE status = 'acknowledged'")
    c.execute("DELETE FROM warning_warningevent WHERE kind = 'acknowledged'")
    c.execute("TRUNCATE bench_bare")
    c.execute("VACUUM ANALYZE")
tokens = [ack_token(d) for d in Delivery.objects.filter(channel="sms").values_list("id", flat=True)]
print(json.dumps({"tokens": tokens}))
"""


def reset() -> list[str] | None:
    """`--reuse`: the database of an earlier run with its acknowledgements undone."""
    if not (OUT / "bench_ack_settings.py").exists():
        return None
    done = subprocess.run([sys.executable, "-c", RESET], env=env(), capture_output=True,
                          text=True, cwd=ROOT)
    if done.returncode:
        intake.log(f"  cannot reuse the database ({done.stderr.strip()[-300:]}): preparing it")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])["tokens"]


def prepare(warnings: int, recipients: int) -> list[str]:
    import psycopg

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    (OUT / "bench_ack_urls.py").write_text(URLS_MODULE)
    (OUT / "bench_ack_settings.py").write_text(SETTINGS_MODULE)
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        con.execute(f"CREATE DATABASE {DB}")
    done = subprocess.run([sys.executable, "-c", PREPARE, str(warnings), str(recipients)],
                          env=env(), capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(f"preparing the database failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["tokens"]


def serve(workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "zhili.asgi:application", "--host", HOST, "--port", str(PORT),
         "--workers", str(workers), "--log-level", "warning", "--lifespan", "off",
         "--no-access-log"],
        env=env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180  # a loaded machine imports Django slowly
    while time.monotonic() < deadline and server.poll() is None:
        try:
            con = http.client.HTTPConnection(HOST, PORT, timeout=10)
            con.request("POST", "/bench/bare/warm/")
            if con.getresponse().status == 201:
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    sys.exit("the server did not start:\n" + (server.stderr.read() if server.stderr else ""))


class Client:
    """One keep-alive connection with its CSRF cookie; each ack takes a fresh token."""

    def __init__(self, kind: str, tokens: list[str], csrf_from: str):
        self.kind, self.tokens = kind, tokens  # shared; list.pop is atomic under the GIL
        self.con = http.client.HTTPConnection(HOST, PORT, timeout=30)
        self.con.request("GET", PATHS.get(kind, PATHS["link"]).format(csrf_from))
        response = self.con.getresponse()
        response.read()
        cookie = response.headers.get("Set-Cookie", "")
        self.csrf = cookie.split("csrftoken=", 1)[1].split(";", 1)[0] if "csrftoken=" in cookie \
            else ""
        self.acks = 0
        self.last = time.perf_counter()

    def send(self, kind: str) -> int:
        """Status 200 for what the endpoint answers when it worked, else its status."""
        token = self.tokens.pop()
        if kind == "bare":
            path, headers, body = f"/bench/bare/{token}/", {}, ""
        else:
            path, body = PATHS[kind].format(token), BODIES[kind]
            headers = {"Cookie": f"csrftoken={self.csrf}", "X-CSRFToken": self.csrf,
                       "Content-Type": "application/x-www-form-urlencoded"}
        if time.perf_counter() - self.last > KEEP_ALIVE:
            self.con.close()  # the server may have closed it: the next request reconnects
        try:
            self.con.request("POST", path, body, headers)
            response = self.con.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.con.close()
            self.con = http.client.HTTPConnection(HOST, PORT, timeout=30)
            if len(intake.ERRORS) < 5:
                intake.ERRORS.append(f"{kind}: {type(exc).__name__}: {exc}")
            return 599
        finally:
            self.last = time.perf_counter()
        if response.status != OK[kind]:
            if len(intake.ERRORS) < 5:
                intake.ERRORS.append(f"{kind} {response.status}: {content[:300]!r}")
            return response.status or 599
        self.acks += kind != "bare"
        return 200


def audit_mark() -> int:
    """The last audit entry before the run (the log is append-only: a reused database
    keeps its earlier runs' entries)."""
    import psycopg

    with psycopg.connect(f"{PG}/{DB}") as con:
        return con.execute("SELECT coalesce(max(id), 0) FROM audit_auditentry").fetchone()[0]


def check(acks: int, mark: int) -> dict:
    """The acknowledgements are in the database, each with its one audit row."""
    import psycopg

    with psycopg.connect(f"{PG}/{DB}") as con:
        acknowledged = con.execute("SELECT count(*) FROM notifications_delivery "
                                   "WHERE acknowledged_at IS NOT NULL").fetchone()[0]
        audited = con.execute("SELECT count(*) FROM audit_auditentry WHERE id > %s "
                              "AND action = 'notification.acknowledge'", [mark]).fetchone()[0]
        warned = con.execute("SELECT count(*) FROM warning_warning "
                             "WHERE status = 'acknowledged'").fetchone()[0]
        firsts = con.execute("SELECT count(*) FROM warning_warningevent "
                             "WHERE kind = 'acknowledged'").fetchone()[0]
    return {"acknowledged": acknowledged, "audited": audited, "warnings_acknowledged": warned,
            "timeline_acknowledged": firsts,
            "ok": acknowledged == audited == acks and firsts == warned}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=16.0,
                        help="per phase and endpoint (default 16)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    parser.add_argument("--rounds", type=int, default=8,
                        help="alternating slices in the maximum phase (default 8)")
    parser.add_argument("--warnings", type=int, default=40)
    parser.add_argument("--recipients", type=int, default=500, help="per warning (default 500)")
    parser.add_argument("--reuse", action="store_true",
                        help="undo the acknowledgements of the last run's database instead of "
                             "building it again (while developing)")
    args = parser.parse_args()
    from locate import machine

    log = intake.log
    log("· preparing the scratch database (warnings, deliveries, tokens) …")
    tokens = (args.reuse and reset()) or prepare(args.warnings, args.recipients)
    mark = audit_mark()
    random.Random(7).shuffle(tokens)
    log(f"  {len(tokens):,} acknowledgement tokens")
    half = len(tokens) // 2
    pools = {"link": tokens[:half], "responder": tokens[half:],
             "bare": [f"bare-{i}" for i in range(len(tokens) * 4)]}
    server = serve(args.workers)
    try:
        # Each client's CSRF cookie comes from a GET of a page (a token no POST uses).
        clients = {kind: [Client(kind, pools[kind], pools["link" if kind == "bare" else kind][0])
                          for _ in range(args.concurrency)] for kind in KINDS}
        for kind in ("link", "responder"):  # the page a POST would fetch is never pressed
            del pools[kind][0]
        # Budgets: each acknowledgement consumes a token; stop before they run out.
        budget = {kind: [len(pools[kind]) - 2 * args.concurrency] for kind in KINDS}
        for kind in KINDS:  # warm each endpoint (imports, templates, pool connections)
            for c in clients[kind][:2]:
                for _ in range(3):
                    c.send(kind)
        log(f"· maximum throughput, side by side ({args.rounds} rounds) …")
        slices = {kind: [] for kind in KINDS}
        ratios = {"link": [], "responder": []}
        for r in range(args.rounds):
            # Rotate which goes first: drift on a shared machine then cancels out.
            order = KINDS[r % 3:] + KINDS[:r % 3]
            if r % 2:
                order = order[::-1]
            got = {kind: intake.maximum(kind, args.seconds / args.rounds, clients[kind],
                                        budget[kind]) for kind in order}
            for kind in KINDS:
                slices[kind].append(got[kind]["rps"])
            for kind in ratios:
                ratios[kind].append(got[kind]["rps"] / got["bare"]["rps"]
                                    if got["bare"]["rps"] else 0)
            log(f"  round {r + 1}: bare {got['bare']['rps']} req/s, link {got['link']['rps']}"
                f" ({ratios['link'][-1]:.3f}), responder {got['responder']['rps']}"
                f" ({ratios['responder'][-1]:.3f})")
        best = {kind: statistics.median(v) for kind, v in slices.items()}
        log("· steady load at half the maximum …")
        steady = {}
        for kind in KINDS:
            steady[kind] = intake.steady(kind, best[kind] / 2, args.seconds, clients[kind],
                                         budget[kind])
            log(f"  {kind}: {steady[kind]}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    for line in intake.ERRORS:
        log("  error: " + line)
    checked = check(sum(c.acks for kind in ("link", "responder") for c in clients[kind]),
                    mark)
    load = os.getloadavg()
    print(json.dumps({
        "bench": "ack",
        "database": "postgresql",
        "ack_rps": round(best["link"], 1),
        "responder_rps": round(best["responder"], 1),
        "bare_rps": round(best["bare"], 1),
        "ratio": round(statistics.median(ratios["link"]), 3),
        "ratio_rounds": [round(x, 3) for x in ratios["link"]],
        "responder_ratio": round(statistics.median(ratios["responder"]), 3),
        "responder_ratio_rounds": [round(x, 3) for x in ratios["responder"]],
        "p50_ms": steady["link"]["p50_ms"],
        "p99_ms": steady["link"]["p99_ms"],
        "responder_p50_ms": steady["responder"]["p50_ms"],
        "responder_p99_ms": steady["responder"]["p99_ms"],
        "ack_steady": steady["link"],
        "responder_steady": steady["responder"],
        "bare_steady": steady["bare"],
        "checked": checked,
        "promise": "ratio >= 0.5 (and responder_ratio), p50/p99 reported",
        "concurrency": args.concurrency,
        "workers": args.workers,
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "load_average_at_end": [round(x, 2) for x in load],
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
