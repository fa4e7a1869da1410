#!/usr/bin/env python
"""Fan-out of a city-wide red warning to 1,020,000 responsible persons (PostgreSQL).

    .venv/bin/python bench/warning_fanout.py [--persons N] [--rounds R]

bench/fanout.py's measurement, on a warning's own message: N registry
persons are the responsible persons (all five tiers) of one risk point; an
operator raises a red warning there, which — through `warning_raise` and
`warning_notify` — broadcasts one SMS message with an acknowledgement link to
all of them (`message_broadcast`, recipients: the point's responsible persons
with a phone). The worker's fan-out (`message_fanout_run`) then writes one
delivery per person. `ratio_vs_copy` is its time over a COPY of the same
delivery rows into the same table (truncated and checkpointed before each),
the median of R rounds; the promise is at most 2.

Data: a scratch database `zhili_bench_warning_fanout`, rebuilt on every run.
Prints one JSON line; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fanout  # noqa: E402  (its database set-up, COPY and timing)

fanout.DB = "zhili_bench_warning_fanout"
fanout.OUT = fanout.ROOT / "bench" / "out" / "warning_fanout"
log = fanout.log


def red_warning(persons: int):
    import shapely

    from zhili.geo.models import AreaNode
    from zhili.governance.catalogue import category_seed
    from zhili.notifications.models import Message
    from zhili.warning.catalogue import catalogue_seed
    from zhili.warning.models import ResponsiblePerson, RiskCategory, RiskPoint
    from zhili.warning.services import warning_raise

    category_seed()
    catalogue_seed()
    grid = AreaNode.objects.get()
    # fanout.py's grid has no outline; a warning's case is located on it.
    grid.geometry = shapely.box(106.5, 29.5, 106.6, 29.6).wkb
    grid.path = "50/500103/500103001/500103001001/500103001001001/"
    grid.save(update_fields=["geometry", "path"])
    point = RiskPoint.objects.create(code="CITY-RAIN", name="全市暴雨", grid=grid,
                                     category=RiskCategory.objects.get(code="rainstorm"),
                                     lon=106.55, lat=29.55, area_path=grid.path, synthetic=True)
    fanout.sql(f"INSERT INTO {ResponsiblePerson._meta.db_table} (risk_point_id, tier, person_id)"
               " SELECT %s, (ARRAY['owner','grid','street','district','department'])"
               "[1 + id %% 5], id FROM registry_person", [point.pk])
    fanout.sql(f"ANALYZE {ResponsiblePerson._meta.db_table}")
    started = time.perf_counter()
    warning = warning_raise(risk_point=point, level=4, source="operator",
                            condition="bench:city-red", note="bench")
    log(f"red warning {warning.number} raised and broadcast queued in "
        f"{time.perf_counter() - started:.2f}s")
    # The persons' message (the staff's in-app one, if any, has no fan-out query).
    return Message.objects.get(object_type="warning.warning", object_id=str(warning.pk),
                               dedupe_key__endswith=":persons")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_020_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    fanout.setup_django()
    fanout.make_persons(args.persons)
    from django.db import connection

    from zhili.notifications.models import Delivery

    message = red_warning(args.persons)
    table = Delivery._meta.db_table
    took, inserted = fanout.time_fanout(message.pk)  # warm-up; the rows the COPY will write
    assert inserted == args.persons, inserted
    log(f"warm-up fan-out: {inserted:,} deliveries in {took:.1f}s")
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY (SELECT {fanout.DELIVERY_COLUMNS} FROM {table} ORDER BY id)"
                         " TO STDOUT") as copy:
            for chunk in copy:
                buffer.write(chunk)
    data = buffer.getvalue()

    fanouts, copies = [], []
    for round_ in range(args.rounds):
        fanout.sql(f"TRUNCATE {table}")
        fanout.settle(table)
        copies.append(fanout.time_copy(table, data))
        fanout.sql(f"TRUNCATE {table}")
        fanout.settle(table)
        took, inserted = fanout.time_fanout(message.pk)
        assert inserted == args.persons
        fanouts.append(took)
        log(f"round {round_ + 1}: COPY {copies[-1]:.1f}s, fan-out {fanouts[-1]:.1f}s")
    assert Delivery.objects.filter(message=message).count() == args.persons
    fanout_s, copy_s = statistics.median(fanouts), statistics.median(copies)
    print(json.dumps({
        "bench": "warning_fanout",
        "recipients": args.persons,
        "fanout_seconds": round(fanout_s, 2),
        "copy_seconds": round(copy_s, 2),
        "ratio_vs_copy": round(fanout_s / copy_s, 3),
        "promise": "ratio_vs_copy <= 2",
        "rounds": args.rounds,
        "postgres": connection.cursor().connection.info.server_version,
        "machine": fanout.machine(),
    }))


if __name__ == "__main__":
    main()
