"""Fault: two `zhili worker` processes on one PostgreSQL share lanes and schedules,
and nothing is done twice."""

import os
import select
import signal
import subprocess
import sys
import time as clock
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

import zhili
from zhili.core.models import PeriodicSchedule
from zhili.core.queue import TaskResultStatus
from zhili.core.tasks import task_results_prune
from zhili.core.tests.worker_tasks import RUNS_TABLE, recorded_run

STEPS = 60
ROUNDS = 3


def _wait_until(condition, what: str, deadline: float = 120.0):
    """Poll `condition`; the deadline is a safety net, nothing asserts on time."""
    give_up = clock.monotonic() + deadline
    while not condition():
        if clock.monotonic() > give_up:
            raise AssertionError(f"gave up waiting: {what}")
        clock.sleep(0.1)


def _start_worker(tmp_path: Path, name: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(zhili.__file__).resolve().parent.parent),
        "ZHILI_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "ZHILI_DATA_DIR": str(tmp_path / name),
        "ZHILI_DB_POOL_SIZE": "4",
    }
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "zhili", "worker", "--lanes", "default,sweeps",
         "--interval", "0.1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_start(proc: subprocess.Popen, deadline: float = 120.0) -> None:
    give_up = clock.monotonic() + deadline
    seen = []
    while clock.monotonic() < give_up:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("zhili worker: lanes"):
                return
    proc.kill()
    raise AssertionError("worker did not start:\n" + "".join(seen))


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.stdout.read()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_database_do_nothing_twice(reseed_after, tmp_path):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {RUNS_TABLE} (n integer NOT NULL, pid integer NOT NULL)")
    workers = [_start_worker(tmp_path, "one"), _start_worker(tmp_path, "two")]
    try:
        for proc in workers:
            _wait_for_start(proc)
        # Both are polling: the tasks arrive in one commit and they race for them.
        for n in range(STEPS):
            recorded_run.enqueue(n)
        _wait_until(lambda: not DBTaskResult.objects.filter(
            task_path=recorded_run.module_path).exclude(
            status=TaskResultStatus.SUCCESSFUL).exists(), "every step ran")

        # The nightly job made due again and again: each time one of them takes it.
        prune = task_results_prune.module_path
        _wait_until(lambda: PeriodicSchedule.objects.filter(name=prune).exists(),
                    "the workers register the schedules")
        before = DBTaskResult.objects.filter(task_path=prune).count()
        for _ in range(ROUNDS):
            PeriodicSchedule.objects.filter(name=prune).update(
                next_due=timezone.now() - timedelta(seconds=1))
            _wait_until(lambda: PeriodicSchedule.objects.get(name=prune).next_due
                        > timezone.now(), "a worker claims the due run")
    finally:
        outputs = [_stop(proc) for proc in workers]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT n, pid FROM {RUNS_TABLE}")
            runs = cursor.fetchall()
            cursor.execute(f"DROP TABLE {RUNS_TABLE}")

    assert sorted(n for n, _pid in runs) == list(range(STEPS)), outputs
    # They shared the work: both took some of the steps.
    assert {pid for _n, pid in runs} == {proc.pid for proc in workers}, outputs
    assert DBTaskResult.objects.filter(task_path=prune).count() - before == ROUNDS
