#!/usr/bin/env python
"""A street operator's first page of open cases: 100,000 cases against 10 million.

    .venv/bin/python bench/scoped_list.py [--big N] [--rounds R]

The issue's promise: on the `chongqing` city, the first page of a street
operator's open cases costs the same with 10 million cases as with 100,000
(at most 1.5x), because it is an index range on the area path, not a scan.

Both sizes are measured in one run, on bench/bigcity.py's two databases (the
same city with 100,000 and with `--big` cases, built once and kept). The open backlog is the same in both (20,000
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
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bigcity  # noqa: E402  (the two databases, built once)
from bigcity import log  # noqa: E402


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
    parser.add_argument("--big", type=int, default=bigcity.BIG, help="cases in the big phase")
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    bigcity.phase_ensure("big", args.big)  # the long part first, before any timing
    bigcity.use("small")
    from locate import machine

    log("· timing the first page at 100,000 cases …")
    small_open = measure(bigcity.operator(), args.rounds, open_only=True)
    small_all = measure(bigcity.operator(), args.rounds // 3, open_only=False)
    bigcity.use("big", args.big)
    big_count = bigcity.count(bigcity.PHASES["big"][0])
    log(f"· timing the first page at {big_count:,} cases …")
    big_open = measure(bigcity.operator(), args.rounds, open_only=True)
    big_all = measure(bigcity.operator(), args.rounds // 3, open_only=False)
    ratio = big_open["p50_ms"] / small_open["p50_ms"]
    print(json.dumps({
        "bench": "scoped_list",
        "database": "postgresql",
        "city": "chongqing",
        "street": bigcity.STREET,
        "cases_small": bigcity.SMALL,
        "cases_big": big_count,
        "open_cases": bigcity.OPEN,
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
        "load_average": os.getloadavg(),
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
