#!/usr/bin/env python
"""Audited writes against the same writes without their audit row (PostgreSQL).

    .venv/bin/python bench/audit.py [--writers W] [--seconds S] [--rounds R]

The issue's promise: with 8 concurrent writers, a write with its audit row
(`audit.services.audit_record` in the same transaction) runs at no less than
0.7x the throughput of the same write without it; and the sequencing lag
(from an entry's append to its place in the signed chain) is reported at
that load.

W writer processes (not threads: the GIL would hide the database's part)
each run transactions in a closed loop, one domain-ish row per transaction,
with or without `audit_record` for it. The row is written the way services
write theirs, `Model.objects.create()` in `transaction.atomic()`
(`--write orm`, the default), or by one hand-written INSERT (`--write sql`,
the cheapest write there is, so the audit row's share is largest). S seconds per kind, cut into R alternating slices;
the ratio is the median of the per-round ratios, so drift on a shared
machine cancels out. Meanwhile one more process runs the sequencer as the
worker does: the audit poller, then a one-second wait. At the end the
sequencer catches up, `audit_verify` checks the whole chain, and the lag of
every bench entry (its tree head's time minus its own) gives p50, p99, max.

Data: a scratch PostgreSQL database `zhili_bench_audit`, migrated and empty,
rebuilt on every run. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "audit"
PG = os.environ.get("ZHILI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DB = "zhili_bench_audit"
WORKER_INTERVAL_S = 1.0  # core.tasks_worker.run_forever's default
sys.path.insert(0, str(ROOT / "bench"))


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def setup_env() -> None:
    os.environ.update(ZHILI_DATA_DIR=str(OUT), ZHILI_DATABASE_URL=f"{PG}/{DB}",
                      ZHILI_LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="zhili.settings",
                      PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    sys.path.insert(0, str(ROOT / "src"))


def django_ready() -> None:
    import django

    django.setup()


def prepare() -> None:
    """A fresh database, migrated, with the bench's own domain table."""
    import psycopg

    OUT.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        con.execute(f"CREATE DATABASE {DB}")
    django_ready()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as c:
        c.execute("CREATE TABLE bench_write (id bigserial PRIMARY KEY, area_path varchar(96) NOT NULL, "
                  "kind varchar(32) NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL)")
    connection.close()


_MODEL = None


def bench_model():
    """The domain row as a model, as a service would write it (the table is the bench's own)."""
    global _MODEL
    if _MODEL is None:
        from django.db import models
        from django.utils import timezone

        class BenchWrite(models.Model):
            area_path = models.CharField(max_length=96)
            kind = models.CharField(max_length=32)
            payload = models.TextField()
            created_at = models.DateTimeField(default=timezone.now)

            class Meta:
                app_label = "core"
                db_table = "bench_write"
                managed = False

            def __str__(self):
                return f"bench row {self.pk}"

        _MODEL = BenchWrite
    return _MODEL


def write_loop(kind: str, seconds: float, n: int, style: str) -> int:
    """Transactions completed in `seconds` by this writer."""
    from django.db import connection, transaction

    from zhili.audit.services import audit_record

    area = f"500103{n:03d}001001"
    payload = "bench: 路灯不亮，夜里看不清台阶"
    model = bench_model()
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with transaction.atomic():
            if style == "orm":
                row_id = model.objects.create(area_path=area, kind="inspection", payload=payload).pk
            else:
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO bench_write (area_path, kind, payload, created_at) "
                                   "VALUES (%s, %s, %s, now()) RETURNING id",
                                   [area, "inspection", payload])
                    row_id = cursor.fetchone()[0]
            if kind == "audited":
                audit_record(actor=None, action="bench.write", object_type="bench.write",
                             object_id=row_id, area_path=area, purpose="bench",
                             detail={"kind": "inspection", "writer": n})
        done += 1
    return done


def writer(n: int, style: str, jobs, results, barrier) -> None:
    django_ready()
    write_loop("unaudited", 0.3, n, style)  # warm: connection, imports
    write_loop("audited", 0.3, n, style)
    results.put(("ready", n, 0))
    while (job := jobs.get()) is not None:
        kind, seconds = job
        barrier.wait()
        results.put((kind, n, write_loop(kind, seconds, n, style)))


def sequencer(stop) -> None:
    """What a worker does for the audit log: the poller, then its loop's wait."""
    django_ready()
    from django.db import close_old_connections

    from zhili.audit.tasks import audit_sequence_poll

    while not stop.is_set():
        audit_sequence_poll()
        close_old_connections()
        stop.wait(WORKER_INTERVAL_S)
    close_old_connections()


def lags() -> dict:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("""
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag), count(*)
            FROM (SELECT extract(epoch FROM h.at - e.at) AS lag
                  FROM audit_auditentry e
                  JOIN audit_auditsequence s ON s.entry_id = e.id
                  CROSS JOIN LATERAL (SELECT at FROM audit_audittreehead
                                      WHERE last_seq >= s.seq ORDER BY last_seq LIMIT 1) h
                  WHERE e.action = 'bench.write') x""")
        p50, p99, worst, count = c.fetchone()
    return {"p50": round(float(p50), 3), "p99": round(float(p99), 3), "max": round(float(worst), 3),
            "entries": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8, help="concurrent writer processes (default 8)")
    parser.add_argument("--seconds", type=float, default=24, help="seconds per kind (default 24)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternating unaudited/audited slices (default 4)")
    parser.add_argument("--write", choices=("orm", "sql"), default="orm",
                        help="the domain row by the ORM, as services write it (default), or by "
                             "one hand-written INSERT (the cheapest write there is)")
    args = parser.parse_args()
    from locate import machine

    setup_env()
    log(f"· preparing the scratch database {DB} …")
    prepare()
    ctx = mp.get_context("spawn")
    jobs = [ctx.Queue() for _ in range(args.writers)]
    results = ctx.Queue()
    barrier = ctx.Barrier(args.writers)
    stop = ctx.Event()
    writers = [ctx.Process(target=writer, args=(n, args.write, jobs[n], results, barrier))
               for n in range(args.writers)]
    seq = ctx.Process(target=sequencer, args=(stop,))
    for p in [*writers, seq]:
        p.start()
    for _ in writers:
        results.get(timeout=120)
    log(f"· {args.writers} writers, {args.rounds} rounds of {args.seconds / args.rounds:.1f} s per kind …")
    tps: dict[str, list[float]] = {"unaudited": [], "audited": []}
    ratios = []
    try:
        for r in range(args.rounds):
            order = ("unaudited", "audited") if r % 2 == 0 else ("audited", "unaudited")
            got = {}
            for kind in order:
                for q in jobs:
                    q.put((kind, args.seconds / args.rounds))
                total = sum(results.get(timeout=300)[2] for _ in writers)
                got[kind] = total / (args.seconds / args.rounds)
                tps[kind].append(got[kind])
            ratios.append(got["audited"] / got["unaudited"] if got["unaudited"] else 0)
            log(f"  round {r + 1}: unaudited {got['unaudited']:.0f}/s, audited "
                f"{got['audited']:.0f}/s, ratio {ratios[-1]:.3f}")
    finally:
        for q in jobs:
            q.put(None)
        for p in writers:
            p.join(timeout=60)

    django_ready()
    from django.db import close_old_connections

    from zhili.audit.services import audit_verify, unsequenced_entries

    log("· the sequencer catches up …")
    while unsequenced_entries().exists():
        time.sleep(0.5)
        close_old_connections()
    stop.set()
    seq.join(timeout=60)
    lag = lags()
    log("· verify …")
    result = audit_verify()
    print(json.dumps({
        "bench": "audit",
        "database": "postgresql",
        "audited_tps": round(statistics.median(tps["audited"]), 1),
        "unaudited_tps": round(statistics.median(tps["unaudited"]), 1),
        "ratio": round(statistics.median(ratios), 3),
        "ratio_rounds": [round(x, 3) for x in ratios],
        "lag_s": lag,
        "promise": "ratio >= 0.7 with 8 writers; lag reported",
        "verified": {"entries": result.checked, "ok": result.ok, "unsequenced": result.unsequenced},
        "write": args.write,
        "writers": args.writers,
        "seconds_per_kind": args.seconds,
        "sequencer": f"one process, the audit poller every {WORKER_INTERVAL_S:g} s (the worker's loop)",
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
