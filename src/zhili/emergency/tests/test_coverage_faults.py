"""Faults of the rescue-circle recomputation: a run whose process died is failed, not left
running; two recomputations never interleave, and a burst of them becomes one run that
reads the latest resources."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time as clock
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

import zhili
from zhili.emergency import coverage
from zhili.emergency.coverage import (
    STALE_AFTER,
    CoverageBusy,
    coverage_compute,
    coverage_runs_stale_fail,
)
from zhili.emergency.models import CoverageRun, PointCoverage, RescueResource
from zhili.emergency.tasks import coverage_recompute

pytestmark = pytest.mark.django_db


@pytest.fixture
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


def _running(*, beat_ago: timedelta, reason: str = "resource") -> CoverageRun:
    beat = timezone.now() - beat_ago
    return CoverageRun.objects.create(reason=reason, started_at=beat, heartbeat_at=beat)


def _retries() -> list:
    return [r for r in DBTaskResult.objects.filter(task_path=coverage_recompute.module_path)
            if r.args_kwargs["kwargs"].get("reason") == coverage.RETRY_REASON]


def test_a_run_without_heartbeat_is_failed_and_recomputed_once(english):
    DBTaskResult.objects.filter(task_path=coverage_recompute.module_path).delete()
    dead = _running(beat_ago=STALE_AFTER + timedelta(seconds=30))
    assert coverage_runs_stale_fail() == 1
    dead.refresh_from_db()
    assert dead.status == "failed" and "no heartbeat for" in dead.error and dead.finished_at
    assert len(_retries()) == 1  # the change it was computing is not lost
    # The retry itself dies too: failed, and not retried again (no loop on a run that
    # kills its process every time).
    again = _running(beat_ago=STALE_AFTER * 2, reason=coverage.RETRY_REASON)
    assert coverage_runs_stale_fail() == 1
    again.refresh_from_db()
    assert again.status == "failed" and len(_retries()) == 1


def test_a_beating_run_is_left_alone():
    alive = _running(beat_ago=timedelta(seconds=5))
    assert coverage_runs_stale_fail() == 0
    alive.refresh_from_db()
    assert alive.status == "running"


def test_a_dead_holder_does_not_block_the_next_run():
    dead = _running(beat_ago=STALE_AFTER + timedelta(seconds=1))
    run = coverage_compute(reason="test")
    dead.refresh_from_db()
    assert dead.status == "failed" and run.status == "done"
    assert PointCoverage.objects.filter(run=run).exists()


def test_a_second_run_waits_for_the_first(monkeypatch):
    _running(beat_ago=timedelta(seconds=1))
    monkeypatch.setattr(coverage, "WAIT_LIMIT", timedelta(0))
    with pytest.raises(CoverageBusy):
        coverage_compute(reason="test")
    assert CoverageRun.objects.filter(status="running").count() == 1


def test_a_run_failed_by_the_sweep_meanwhile_keeps_that_answer(monkeypatch, english):
    real = coverage.class_times

    def swept(*args, **kwargs):
        out = real(*args, **kwargs)
        CoverageRun.objects.filter(status="running").update(
            heartbeat_at=timezone.now() - STALE_AFTER * 2)
        coverage_runs_stale_fail()
        return out

    monkeypatch.setattr(coverage, "class_times", swept)
    with pytest.raises(RuntimeError, match="failed by the sweep"):
        coverage_compute(reason="test")
    run = CoverageRun.objects.order_by("-id").first()
    assert run.status == "failed" and "no heartbeat" in run.error
    assert not PointCoverage.objects.filter(run=run).exists()


def test_the_heartbeat_beats_while_the_run_computes(monkeypatch):
    monkeypatch.setattr(coverage, "HEARTBEAT_EVERY", 0.05)
    beats = []
    real = coverage.class_times

    def slow(*args, **kwargs):
        clock.sleep(0.5)
        beats.append(CoverageRun.objects.get(status="running").heartbeat_at)
        return real(*args, **kwargs)

    monkeypatch.setattr(coverage, "class_times", slow)
    run = coverage_compute(reason="test")
    assert run.status == "done" and len(beats) == 1
    # On SQLite's in-memory test database the thread may meet the test's lock and skip a
    # beat (it logs and tries again); the run still finishes.


# -- real processes (PostgreSQL: each process must see the others' committed rows) --------

CHILD = """
import sys, time
import django
django.setup()
from zhili.emergency import coverage

real = coverage.class_times
slow = float(sys.argv[2])

def class_times(*args, **kwargs):
    print("computing", flush=True)
    time.sleep(slow)
    return real(*args, **kwargs)

coverage.class_times = class_times
run = coverage.coverage_compute(reason=sys.argv[1], requested_at=sys.argv[3] or None)
print("done", run.pk if run else "skipped", flush=True)
"""


def _child(reason: str, *, slow: float, requested_at: str = "") -> subprocess.Popen:
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ,
               PYTHONPATH=str(Path(zhili.__file__).resolve().parent.parent),
               ZHILI_DATA_DIR=str(settings.DATA_DIR),  # where the seeded road graph lies
               ZHILI_DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
               DJANGO_SETTINGS_MODULE="zhili.settings")
    return subprocess.Popen([sys.executable, "-u", "-c", CHILD, reason, str(slow), requested_at],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _line(child: subprocess.Popen) -> str:
    line = child.stdout.readline().strip()
    assert line, child.stderr.read()
    return line


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_killed_run_is_failed_by_the_sweep(reseed_after, english):
    before = CoverageRun.objects.filter(status="done").order_by("-id").first()
    child = _child("killed", slow=600)
    try:
        assert _line(child) == "computing"  # its run row is committed and beating
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    run = CoverageRun.objects.get(reason="killed")
    assert run.status == "running"  # nobody could say otherwise: the process is gone
    assert coverage_runs_stale_fail(now=timezone.now() + STALE_AFTER + timedelta(seconds=5)) == 1
    run.refresh_from_db()
    assert run.status == "failed" and "no heartbeat" in run.error
    if before is not None:  # the last good run's results stay
        assert PointCoverage.objects.filter(run=before).exists()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_recomputations_in_three_processes_never_interleave_and_coalesce(reseed_after):
    first = _child("first", slow=3)
    try:
        assert _line(first) == "computing"
        # Resources change twice while it computes: two more recomputations are asked for,
        # from two more processes, after the change.
        ground = RescueResource.objects.filter(kind="fire_station", availability="available")
        busy = list(ground.values_list("pk", flat=True)[:2])
        RescueResource.objects.filter(pk__in=busy).update(availability="busy")
        requested = timezone.now().isoformat()
        others = [_child(f"later-{n}", slow=0.5, requested_at=requested) for n in (1, 2)]
        outputs = []
        for child in [first, *others]:
            out, err = child.communicate(timeout=300)
            assert child.returncode == 0, err
            outputs.append(out.split())
    finally:
        for child in [first, *locals().get("others", [])]:
            if child.poll() is None:
                child.kill()
    runs = list(CoverageRun.objects.filter(reason__in=["first", "later-1", "later-2"])
                .order_by("started_at"))
    # One of the two later requests ran, the other was coalesced into it.
    assert [r.reason for r in runs][0] == "first" and len(runs) == 2
    assert sum(o[-1] == "skipped" for o in outputs) == 1
    one, two = runs
    assert one.status == two.status == "done"
    assert two.started_at >= one.finished_at  # serialised: never two at once
    # The second saw the latest data: two ground resources fewer.
    assert two.resources["ground"] == one.resources["ground"] - 2
