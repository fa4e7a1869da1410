#!/usr/bin/env python
"""One notice + one form: build time of a 15-matter bundle against a 1-matter bundle.

    .venv/bin/python bench/bundles.py [--rounds N]

Builds a fresh demo database under bench/out/bundles/ (SQLite; the small city,
the demo seeders, and a synthetic catalogue of a 1-matter and a 15-matter
bundle with chained dependencies), then times `notice_build` + `form_build`
for a resident who consented to prefill. Warm: the bundle's plan is cached
(the normal state of a running server); cold: the plan is reloaded every
time. The issue's promise: the 15-matter bundle takes at most 3x the
1-matter one, warm. Prints one JSON line; the query counts are printed too
(they must be equal for both sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "bundles"
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    os.environ.update(ZHILI_DATA_DIR=str(OUT), ZHILI_DATABASE_URL=f"sqlite:///{OUT / 'zhili.db'}",
                      DJANGO_SETTINGS_MODULE="zhili.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from locate import machine

    from zhili.accounts.models import User
    from zhili.bundles import selectors, services
    from zhili.bundles.catalogue import catalogue_import
    from zhili.bundles.plan import plan_forget
    from zhili.bundles.synthetic import synthetic_doc
    from zhili.core.seeding import seed_demo

    call_command("migrate", verbosity=0, skip_checks=True)
    seed_demo(seed=1, log=lambda *a: print(*a, file=sys.stderr))
    report = catalogue_import(actor=None, doc=synthetic_doc((1, 15)), commit=True)
    assert report.ok, report.errors
    user = User.objects.get(username="resident1")
    services.consent_give(actor=user, data_items=["person.name"])

    def build(code: str):
        selectors.notice_build(actor=user, bundle=code)
        selectors.form_build(actor=user, bundle=code)

    def timed(code: str, *, cold: bool) -> float:
        samples = []
        build(code)  # warm the interpreter and (for warm runs) the plan cache
        for _ in range(args.rounds):
            if cold:
                plan_forget()
            started = time.perf_counter()
            build(code)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    def queries(code: str) -> int:
        plan_forget()
        with CaptureQueriesContext(connection) as ctx:
            build(code)
        return len(ctx)

    result = {"bench": "bundles.notice_form"}
    for mode in ("warm", "cold"):
        one = timed("syn-1", cold=mode == "cold")
        fifteen = timed("syn-15", cold=mode == "cold")
        result[f"{mode}_ms_1_matter"] = round(one * 1000, 2)
        result[f"{mode}_ms_15_matters"] = round(fifteen * 1000, 2)
        result[f"{mode}_ratio"] = round(fifteen / one, 2)
    result["queries_1_matter"] = queries("syn-1")
    result["queries_15_matters"] = queries("syn-15")
    result["target"] = "warm_ratio <= 3"
    result["ok"] = result["warm_ratio"] <= 3 and result["queries_1_matter"] == result["queries_15_matters"]
    result["rounds"] = args.rounds
    result["machine"] = machine()
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
