#!/usr/bin/env python
"""Roll-ups keeping up with case intake: intake over HTTP with the supervision poller
running, against the bare one-row insert; and each case change's lag to its roll-up.

    .venv/bin/python bench/rollups.py [--seconds S] [--concurrency C] [--workers W] [--rounds R]

The issue's promise (12): roll-ups keep up with case intake at the rate
bench/intake.py reaches, with intake still at or above 0.5 of the bare insert
while they run.

bench/intake.py's server, clients and database (`zhili_bench_intake`, the
small demo city, rebuilt on every run) are used as they are; beside the
server runs the poller as the worker runs it: `rollups_poll` once a second (each
source rolled up at most every `ZHILI_ROLLUP_INTERVAL`, 5 s), in its own process. The load is
intake.py's maximum phase: C closed-loop clients, bare and intake slices
alternating over R rounds, the ratio the median of the per-round ratios
(`intake_ratio_with_rollups`), first without the poller (the same figure as
intake.py's, `intake_ratio_without_rollups`: on a shared machine the two side
by side tell the poller's share from the machine's), then with it. Meanwhile a sampler reads the roll-up cursor
every 0.1 s; after the load (and up to 60 s for the poller to finish) each case
event's lag is the first sample at which the cursor had passed it minus the
event's time (`rollup_lag_s`: p50, p99, max; resolution 0.1 s), and
`not_rolled_up` counts the events it never passed.

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import intake  # noqa: E402  (its server, clients and database)
from intake import log  # noqa: E402

POLLER = """
import time
import django; django.setup()
from zhili.supervision.tasks import rollups_poll
while True:  # as `zhili worker` calls its pollers: every second
    rollups_poll()
    time.sleep(1.0)
"""


def poller() -> subprocess.Popen:
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "-c", POLLER],
                            env=intake.env(), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


class Sampler(threading.Thread):
    """(time, cursor last_id) every 0.1 s, on its own connection."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self):
        import psycopg

        with psycopg.connect(f"{intake.PG}/{intake.DB}", autocommit=True) as con:
            while not self.stop.is_set():
                row = con.execute("SELECT last_id FROM supervision_rollupcursor "
                                  "WHERE source = 'governance.cases'").fetchone()
                self.samples.append((time.time(), row[0] if row else 0))
                time.sleep(0.1)


def events_after(first_id: int) -> list[tuple[int, float]]:
    import psycopg

    with psycopg.connect(f"{intake.PG}/{intake.DB}", autocommit=True) as con:
        return con.execute("SELECT id, extract(epoch FROM at)::float8 FROM "
                           "governance_caseevent WHERE id > %s ORDER BY id",
                           [first_id]).fetchall()


def last_event_id() -> int:
    return (events_after(-1) or [(0, 0.0)])[-1][0]


def lags(events, samples) -> tuple[list[float], int]:
    """Each event's lag: the first sample whose cursor passed it, minus its time."""
    ids = [last_id for _, last_id in samples]
    out, missed = [], 0
    for event_id, at in events:
        i = bisect.bisect_left(ids, event_id)  # last_id only grows
        if i == len(ids):
            missed += 1
        else:
            out.append(max(0.0, samples[i][0] - at))
    return sorted(out), missed


def rounds(args, clients, budget) -> tuple[dict[str, list[float]], list[float]]:
    """intake.py's maximum phase: alternating bare/intake slices; rps and ratios."""
    slices: dict[str, list[float]] = {"bare": [], "intake": []}
    ratios = []
    for r in range(args.rounds):
        order = ("bare", "intake") if r % 2 == 0 else ("intake", "bare")
        got = {kind: intake.maximum(kind, args.seconds / args.rounds, clients, budget)
               for kind in order}
        for kind in order:
            slices[kind].append(got[kind]["rps"])
        ratios.append(got["intake"]["rps"] / got["bare"]["rps"] if got["bare"]["rps"] else 0)
        log(f"  round {r + 1}: bare {got['bare']['rps']} req/s, intake "
            f"{got['intake']['rps']} req/s, ratio {ratios[-1]:.3f}")
    return slices, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="load, all rounds (30)")
    parser.add_argument("--concurrency", type=int, default=8, help="clients (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    parser.add_argument("--rounds", type=int, default=8, help="bare/intake slices (8)")
    args = parser.parse_args()
    from locate import machine

    log("· preparing intake.py's scratch database …")
    token, points, codes = intake.prepare()
    server = intake.serve(args.workers)
    worker = None
    sampler = Sampler()
    budget = [intake.MAX_REQUESTS]
    try:
        clients = [intake.Client(token, points, codes, seed=i) for i in range(args.concurrency)]
        for kind in ("bare", "intake"):
            for c in clients[:2]:
                c.send(kind)
        log(f"· maximum throughput without the poller ({args.rounds} rounds) …")
        without = rounds(args, clients, budget)
        worker = poller()
        time.sleep(5)  # the poller rolls up what is there first
        first = last_event_id()
        sampler.start()
        log(f"· maximum throughput with the poller running ({args.rounds} rounds) …")
        slices, ratios = rounds(args, clients, budget)
        high = last_event_id()
        log("· waiting for the poller to pass the last event …")
        deadline = time.time() + 60
        while time.time() < deadline and (not sampler.samples or sampler.samples[-1][1] < high):
            time.sleep(0.2)
        caught_up_s = round(max(0.0, time.time() - (deadline - 60)), 1)
        sampler.stop.set()
        sampler.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
    for line in intake.ERRORS:
        log("  error: " + line)
    events = [e for e in events_after(first) if e[0] <= high]
    lag, missed = lags(events, sampler.samples)

    def pick(q):
        return round(lag[min(len(lag) - 1, int(len(lag) * q))], 2) if lag else None

    print(json.dumps({
        "bench": "rollups",
        "database": "postgresql",
        "intake_rps_with_rollups": round(statistics.median(slices["intake"]), 1),
        "bare_rps_with_rollups": round(statistics.median(slices["bare"]), 1),
        "intake_ratio_with_rollups": round(statistics.median(ratios), 3),
        "ratio_rounds": [round(x, 3) for x in ratios],
        "intake_ratio_without_rollups": round(statistics.median(without[1]), 3),
        "intake_rps_without_rollups": round(statistics.median(without[0]["intake"]), 1),
        "promise": "intake_ratio_with_rollups >= 0.5 and the poller keeps up",
        "rollup_lag_s": {"p50": pick(0.5), "p99": pick(0.99), "max": lag[-1] if lag else None},
        "events": len(events),
        "not_rolled_up": missed,
        "caught_up_after_load_s": caught_up_s,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "seconds": args.seconds,
        "load_average": os.getloadavg(),
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
