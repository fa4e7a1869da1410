"""Tasks the worker tests enqueue (module level, so a worker process can import them)."""

import os
import threading

from django.db import connection

from zhili.core.queue import task

# The long job holds its lane until a test sets this: a long run without a clock.
LONG_JOB_RELEASE = threading.Event()
RUNS_TABLE = "zhili_test_worker_runs"


@task(queue_name="long")
def long_job() -> str:
    """Stands for a two-minute model run: busy until released (or a safety minute)."""
    LONG_JOB_RELEASE.wait(60)
    return "done"


@task()
def audited_step(n: int) -> int:
    from zhili.audit.services import audit_record

    audit_record(actor=None, action="test.step", object_type="test", object_id=n)
    return n


@task()
def recorded_run(n: int) -> int:
    """Write down who ran step `n`, in a table the test made (see test_two_workers…)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {RUNS_TABLE} (n, pid) VALUES (%s, %s)", [n, os.getpid()])
    threading.Event().wait(0.02)  # a little work, so both workers get a share
    return n
