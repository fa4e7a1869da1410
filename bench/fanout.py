#!/usr/bin/env python
"""Fan-out of one message to 1,020,000 registry persons, and its delivery (PostgreSQL).

    .venv/bin/python bench/fanout.py [--persons N] [--rounds R] [--batch B]

The issue's promises, each a ratio measured in this run on the same data:

- `ratio_vs_copy`: the fan-out (`message_fanout_run`: INSERT … SELECT … ON
  CONFLICT DO NOTHING, chunk by chunk, each its own transaction with the
  message's progress) takes at most 2x the time of a COPY of the same
  delivery rows into the same table (same indexes and constraints; the table
  is truncated before each, and a CHECKPOINT precedes each timed step).
- `delivery_ratio`: delivery with the logging channel
  (`notifications_deliver_pending`: claim and commit, send outside any
  transaction, record each gateway call) runs at no less than 0.5x the rate
  of a bare claim loop: the same claim statement (`UPDATE … RETURNING`,
  `FOR UPDATE SKIP LOCKED`, the same batch size) over the same rows, each an
  autocommit statement, nothing sent and nothing recorded.

Each figure is the median of R rounds. Data: a scratch database
`zhili_bench_fanout`, rebuilt on every run (migrations, one grid, N persons
by COPY). Prints one JSON line; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "fanout"
PG = os.environ.get("ZHILI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DB = "zhili_bench_fanout"
DELIVERY_COLUMNS = ("message_id, person_id, channel, address, status, attempts, next_attempt_at,"
                    " acknowledged_via, provider_ref, last_error")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def machine() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from locate import machine as described

    return described()


def setup_django() -> None:
    import psycopg

    OUT.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        con.execute(f"CREATE DATABASE {DB}")
    os.environ.update(DJANGO_SETTINGS_MODULE="zhili.settings", ZHILI_DATA_DIR=str(OUT),
                      ZHILI_DATABASE_URL=f"{PG}/{DB}", ZHILI_DB_POOL="0")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # The logging channel, cheap: the log level hides its lines (as in a city that
    # has not configured an SMS gateway yet), it only counts.
    settings.ZHILI_NOTIFICATION_CHANNELS = {"sms": "zhili.notifications.channels.LogChannel"}
    logging.getLogger("zhili.notifications").setLevel(logging.WARNING)


def make_persons(count: int) -> None:
    from django.db import connection

    from zhili.geo.models import AreaNode
    from zhili.registry.models import Person

    grid = AreaNode.objects.create(code="500103001001", level="grid", name="网格", path="500103001001",
                                   geometry=b"", min_lon=106.5, min_lat=29.5, max_lon=106.6,
                                   max_lat=29.6, centre_lon=106.55, centre_lat=29.55)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {Person._meta.db_table} (id_number, name, phone, address,"
                         " household_no, grid_id, area_path, created_at, updated_at) FROM STDIN") as copy:
            for i in range(count):
                copy.write_row((f"5001{i:014d}", f"居民{i}", f"139{i:08d}", "", "", grid.pk,
                                grid.path, "2026-12-01 00:00+00", "2026-12-01 00:00+00"))
        cursor.execute(f"ANALYZE {Person._meta.db_table}")
    log(f"{count:,} persons by COPY in {time.perf_counter() - started:.1f}s")


def sql(statement: str, params=()):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def settle(table: str) -> None:
    sql(f"VACUUM ANALYZE {table}")
    sql("CHECKPOINT")


def time_fanout(message_id: int) -> float:
    from zhili.notifications.models import Message
    from zhili.notifications.services import message_fanout_run

    Message.objects.filter(pk=message_id).update(fanout_state="running", fanout_cursor=0,
                                                 fanout_count=0, fanout_lease_until=None)
    started = time.perf_counter()
    inserted = message_fanout_run(message_id=message_id)
    took = time.perf_counter() - started
    assert Message.objects.get(pk=message_id).fanout_state == "done"
    return took, inserted


def time_copy(table: str, data: bytes) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({DELIVERY_COLUMNS}) FROM STDIN") as copy:
            view = memoryview(data)
            for start in range(0, len(view), 1 << 20):
                copy.write(view[start:start + (1 << 20)])
    return time.perf_counter() - started


def reset_pending(table: str) -> None:
    sql(f"UPDATE {table} SET status = 'pending', attempts = 0, sent_at = NULL,"
        " next_attempt_at = now() - interval '1 minute'")
    settle(table)


def time_bare_claims(table: str, batch: int) -> tuple[float, int]:
    from django.db import connection
    from django.utils import timezone

    from zhili.notifications.delivery import claim_sql, lease

    statement = claim_sql("postgresql")
    claimed = 0
    started = time.perf_counter()
    while True:
        now = timezone.now()
        with connection.cursor() as cursor:  # autocommit: one round trip, as delivery's claim
            cursor.execute(statement, [now + lease(), "sms", now, batch])
            rows = cursor.fetchall()
        if not rows:
            break
        claimed += len(rows)
    return time.perf_counter() - started, claimed


def time_delivery(batch: int) -> tuple[float, int]:
    from zhili.notifications import channels
    from zhili.notifications.services import notifications_deliver_pending

    channels.reset()
    sent = 0
    started = time.perf_counter()
    while True:
        done = notifications_deliver_pending(batch=batch, max_batches=1000)
        if not done:
            break
        sent += done
    return time.perf_counter() - started, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_020_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500, help="claim batch (default 500)")
    args = parser.parse_args()

    setup_django()
    make_persons(args.persons)
    from django.db import connection

    from zhili.notifications.models import Delivery
    from zhili.notifications.services import message_broadcast
    from zhili.registry.models import Person

    table = Delivery._meta.db_table
    message = message_broadcast(actor=None, recipients=Person.objects.all(),
                                kind="warning.issued", title="暴雨红色预警",
                                body="请立即转移到安全地带", dedupe="bench:fanout", channels=("sms",))
    took, inserted = time_fanout(message.pk)  # warm-up; also the rows the COPY will write
    assert inserted == args.persons, inserted
    log(f"warm-up fan-out: {inserted:,} deliveries in {took:.1f}s")
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY (SELECT {DELIVERY_COLUMNS} FROM {table} ORDER BY id) TO STDOUT") as copy:
            for chunk in copy:
                buffer.write(chunk)
    data = buffer.getvalue()

    fanouts, copies = [], []
    for round_ in range(args.rounds):
        sql(f"TRUNCATE {table}")
        settle(table)
        copies.append(time_copy(table, data))
        sql(f"TRUNCATE {table}")
        settle(table)
        took, inserted = time_fanout(message.pk)
        assert inserted == args.persons
        fanouts.append(took)
        log(f"round {round_ + 1}: COPY {copies[-1]:.1f}s, fan-out {fanouts[-1]:.1f}s")

    bares, deliveries = [], []
    for round_ in range(args.rounds):
        reset_pending(table)
        took, claimed = time_bare_claims(table, args.batch)
        assert claimed == args.persons, claimed
        bares.append(claimed / took)
        reset_pending(table)
        took, sent = time_delivery(args.batch)
        assert sent == args.persons, sent
        assert Delivery.objects.filter(status="sent").count() == args.persons
        deliveries.append(sent / took)
        log(f"round {round_ + 1}: bare claims {bares[-1]:,.0f}/s, delivery {deliveries[-1]:,.0f}/s")

    fanout_s, copy_s = statistics.median(fanouts), statistics.median(copies)
    bare_rate, delivery_rate = statistics.median(bares), statistics.median(deliveries)
    print(json.dumps({
        "bench": "fanout",
        "recipients": args.persons,
        "fanout_seconds": round(fanout_s, 2),
        "copy_seconds": round(copy_s, 2),
        "ratio_vs_copy": round(fanout_s / copy_s, 3),
        "delivery_per_second": round(delivery_rate),
        "bare_claim_per_second": round(bare_rate),
        "delivery_ratio": round(delivery_rate / bare_rate, 3),
        "batch": args.batch,
        "rounds": args.rounds,
        "postgres": connection.cursor().connection.info.server_version,
        "machine": machine(),
    }))


if __name__ == "__main__":
    main()
