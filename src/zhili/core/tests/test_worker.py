"""Background work: enqueue → worker → done, by lane; periodic jobs claimed once."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from zhili.core import context, periodic, tasks_worker
from zhili.core.models import PeriodicSchedule
from zhili.core.queue import TaskResultStatus, enqueue_on_commit, enqueue_with_commit
from zhili.core.tasks import ping, task_claims_recover, task_results_prune
from zhili.core.tests import worker_tasks
from zhili.core.tests.worker_tasks import audited_step, long_job


def test_enqueued_task_runs_in_the_worker(db):
    result = ping.enqueue("zhili")
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.READY
    tasks_worker.drain()
    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value == "pong zhili"


def test_enqueue_on_commit_waits_for_the_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_on_commit(ping, "later")
        assert not DBTaskResult.objects.filter(args_kwargs__args=["later"]).exists()
    assert len(callbacks) == 1
    callbacks[0]()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()


def test_enqueue_with_commit_writes_the_task_in_the_transaction(db):
    with transaction.atomic():
        enqueue_with_commit(ping, "kept")
        assert DBTaskResult.objects.filter(args_kwargs__args=["kept"]).exists()
    try:
        with transaction.atomic():
            enqueue_with_commit(ping, "dropped")
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    assert not DBTaskResult.objects.filter(args_kwargs__args=["dropped"]).exists()


def test_a_due_sweep_is_enqueued_once_per_period(db):
    periodic.load_all()
    name = task_claims_recover.module_path
    now = timezone.now()
    assert name in periodic.enqueue_due(now)
    # A second worker at the same moment finds nothing due.
    assert name not in periodic.enqueue_due(now)
    queued = DBTaskResult.objects.filter(task_path=name, status=TaskResultStatus.READY).count()
    assert queued == 1
    # A minute later (controlled clock, no sleeping) it is due again.
    assert name in periodic.enqueue_due(now + timedelta(minutes=1, seconds=1))
    assert PeriodicSchedule.objects.get(name=name).next_due > now + timedelta(minutes=1)


def _shanghai(*args):
    return datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_nightly_job_first_runs_at_its_time_not_on_deploy(db):
    periodic.load_all()
    name = task_results_prune.module_path  # every night at 03:00, city time
    assert name not in periodic.enqueue_due(_shanghai(2026, 12, 1, 15, 0))
    assert PeriodicSchedule.objects.get(name=name).next_due == _shanghai(2026, 12, 2, 3, 0)
    assert name not in periodic.enqueue_due(_shanghai(2026, 12, 2, 2, 59))
    assert name in periodic.enqueue_due(_shanghai(2026, 12, 2, 3, 0))
    assert name not in periodic.enqueue_due(_shanghai(2026, 12, 2, 3, 1))
    assert PeriodicSchedule.objects.get(name=name).next_due == _shanghai(2026, 12, 3, 3, 0)


def test_nights_missed_while_no_worker_ran_give_one_run(db):
    periodic.load_all()
    name = task_results_prune.module_path
    periodic.enqueue_due(_shanghai(2026, 12, 1, 15, 0))
    # The workers were down from the 1st to the 4th at noon: three nights missed.
    back = _shanghai(2026, 12, 4, 12, 0)
    assert name in periodic.enqueue_due(back)
    assert name not in periodic.enqueue_due(back + timedelta(minutes=1))
    assert DBTaskResult.objects.filter(task_path=name).count() == 1
    assert PeriodicSchedule.objects.get(name=name).next_due == _shanghai(2026, 12, 5, 3, 0)


def test_a_schedule_changed_in_the_code_takes_the_sooner_of_old_and_new(db, monkeypatch):
    periodic.load_all()
    name = task_results_prune.module_path
    nightly = periodic.REGISTRY[name]
    periodic.enqueue_due(_shanghai(2026, 12, 1, 15, 0))  # next run: 03:00 tomorrow

    def deploy(schedule, at):
        monkeypatch.setitem(periodic.REGISTRY, name, periodic.Periodic(
            name=name, task=task_results_prune, schedule=schedule))
        return name in periodic.enqueue_due(at)

    # Every ten minutes now: the next run is ten minutes on, not at once.
    assert not deploy(periodic.Every(timedelta(minutes=10)), _shanghai(2026, 12, 1, 16, 0))
    row = PeriodicSchedule.objects.get(name=name)
    assert (row.spec, row.next_due) == ("every 600s", _shanghai(2026, 12, 1, 16, 10))
    # Old and new code side by side during a deploy, each rewriting the spec on
    # every loop: the job still runs only when due.
    for minute in range(1, 10):
        at = _shanghai(2026, 12, 1, 16, minute)
        assert not deploy(nightly.schedule if minute % 2 else periodic.Every(
            timedelta(minutes=10)), at)
    assert DBTaskResult.objects.filter(task_path=name).count() == 0
    # Weekly on Monday: later than the old plan, so the old plan's run comes first.
    weekly = periodic.Calendar(at=time(3, 0), weekday=0)
    assert not deploy(weekly, _shanghai(2026, 12, 1, 16, 9, 30))
    assert PeriodicSchedule.objects.get(name=name).next_due == _shanghai(2026, 12, 1, 16, 10)
    assert deploy(weekly, _shanghai(2026, 12, 1, 16, 10))
    assert PeriodicSchedule.objects.get(name=name).next_due == _shanghai(2026, 12, 7, 3, 0)


def test_a_worker_enqueues_only_the_periodic_jobs_of_its_lanes(db):
    periodic.load_all()
    now = timezone.now()
    assert periodic.enqueue_due(now, lanes=("notifications",)) == []
    assert task_claims_recover.module_path in periodic.enqueue_due(now, lanes=("sweeps",))


def test_a_worker_runs_only_the_tasks_of_its_lanes(db):
    on_default = ping.enqueue("default lane")
    on_long = long_job.enqueue()
    worker_tasks.LONG_JOB_RELEASE.set()  # the long job returns at once here
    try:
        tasks_worker.drain(lanes=("default", "notifications"))
        assert DBTaskResult.objects.get(id=on_default.id).status == TaskResultStatus.SUCCESSFUL
        assert DBTaskResult.objects.get(id=on_long.id).status == TaskResultStatus.READY
        # Its own job, and whatever long work the demo seed queued (rescue circles).
        assert tasks_worker.drain(lanes=("long",)) >= 1
    finally:
        worker_tasks.LONG_JOB_RELEASE.clear()
    assert DBTaskResult.objects.get(id=on_long.id).status == TaskResultStatus.SUCCESSFUL


def test_the_existing_jobs_sit_in_sensible_lanes():
    from zhili.bundles.tasks import release_application
    from zhili.notifications.tasks import notifications_poll

    periodic.load_all()
    assert release_application.queue_name == "default"
    sweeps = [name for name in periodic.REGISTRY if name.rsplit(".", 1)[1].endswith(
        ("_sweep", "_prune", "_recover"))]
    assert len(sweeps) >= 6
    assert {periodic.REGISTRY[name].lane for name in sweeps} == {"sweeps"}
    assert periodic.POLLERS[f"{notifications_poll.__module__}.notifications_poll"].lane == \
        "notifications"


def test_pollers_run_only_for_their_lane_each_in_its_own_context(monkeypatch):
    seen = []

    def outbox_poll():
        seen.append(context.current())
        return 1

    monkeypatch.setattr(periodic, "POLLERS", {})
    periodic.poller(lane="notifications")(outbox_poll)
    assert periodic.run_pollers(("default",)) == 0
    assert periodic.run_pollers(("notifications",)) == periodic.run_pollers() == 1
    assert len({ctx.request_id for ctx in seen}) == 2
    assert {ctx.channel for ctx in seen} == {"worker"}


def test_a_poller_on_a_lane_no_worker_serves_is_refused():
    with pytest.raises(ValueError, match="'nowhere' is not one of notifications, default"):
        periodic.poller(lane="nowhere")


def test_each_task_run_carries_its_own_id_into_the_audit_log(db):
    from zhili.audit.models import AuditEntry

    first, second = audited_step.enqueue(1), audited_step.enqueue(2)
    tasks_worker.drain()
    rows = {row.object_id: row for row in AuditEntry.objects.filter(action="test.step")}
    assert rows["1"].request_id == str(first.id)
    assert rows["2"].request_id == str(second.id)
    assert {row.channel for row in rows.values()} == {"task"}


def test_prune_sweep_drops_only_old_finished_results(db):
    old = ping.enqueue("old")
    fresh = ping.enqueue("fresh")
    tasks_worker.drain()
    DBTaskResult.objects.filter(id=old.id).update(finished_at=timezone.now() - timedelta(days=8))
    task_results_prune.enqueue()
    tasks_worker.drain()
    assert not DBTaskResult.objects.filter(id=old.id).exists()
    assert DBTaskResult.objects.filter(id=fresh.id).exists()


@pytest.mark.django_db(transaction=True)
def test_worker_command_runs_committed_tasks(reseed_after):
    from django.core.management import call_command

    result = ping.enqueue("committed")
    call_command("worker", "--once")
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL


def test_a_task_left_running_by_a_dead_worker_is_requeued(db):
    result = ping.enqueue("orphan")
    row = DBTaskResult.objects.get(id=result.id)
    row.claim("dead-worker")
    DBTaskResult.objects.filter(id=row.id).update(started_at=timezone.now() - timedelta(hours=1))
    assert task_claims_recover.call() == 1
    tasks_worker.drain()
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL


@pytest.mark.parametrize("lanes", ["nowhere", "default,nowhere", ","])
def test_the_worker_command_refuses_an_unknown_lane(db, lanes):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="lanes are: notifications, default, sweeps, long"):
        call_command("worker", "--once", "--lanes", lanes)


@pytest.mark.parametrize("interval", ["0", "-1", "nan", "inf"])
def test_the_worker_command_refuses_a_senseless_interval(db, interval):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--interval must be between 0 and 3600 seconds"):
        call_command("worker", "--once", "--interval", interval)


def test_the_old_queues_option_still_chooses_lanes(db):
    from django.core.management import call_command

    on_long = long_job.enqueue()
    result = ping.enqueue("still served")
    call_command("worker", "--once", "--queues", "default")
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL
    assert DBTaskResult.objects.get(id=on_long.id).status == TaskResultStatus.READY


def _wait_until(condition, what: str, deadline: float = 60.0):
    """Poll `condition` (a safety deadline only: nothing asserts how long it took)."""
    import time as clock

    give_up = clock.monotonic() + deadline
    while not condition():
        if clock.monotonic() > give_up:
            raise AssertionError(f"gave up waiting: {what}")
        clock.sleep(0.05)


# PostgreSQL: the SQLite test database lives in memory with a shared cache,
# whose table locks refuse a second thread outright instead of waiting (the
# demo's file database in WAL mode waits; see docs/architecture.md).
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_long_job_or_a_slow_poller_holds_up_no_other_lane(reseed_after, monkeypatch):
    import threading

    polled, slow_poller_busy, release_slow_poller = (threading.Event() for _ in range(3))

    def slow_fan_out():
        slow_poller_busy.set()
        release_slow_poller.wait(60)

    monkeypatch.setattr(periodic, "POLLERS", {})
    periodic.poller(lane="notifications")(lambda: polled.set())
    periodic.poller(lane="sweeps")(slow_fan_out)

    def status(result):
        return DBTaskResult.objects.get(id=result.id).status

    stop = threading.Event()
    long_run = long_job.enqueue()
    threads = tasks_worker.start(interval=0.05, stop=stop)
    try:
        _wait_until(lambda: status(long_run) == TaskResultStatus.RUNNING, "the long job starts")
        _wait_until(slow_poller_busy.is_set, "the slow poller starts")
        quick = ping.enqueue("while the model runs")
        _wait_until(lambda: status(quick) == TaskResultStatus.SUCCESSFUL, "the quick task runs")
        polled.clear()
        _wait_until(polled.is_set, "the notifications poller runs")
        # All of that happened while the long job still held its lane (and the
        # slow poller its thread).
        assert status(long_run) == TaskResultStatus.RUNNING
    finally:
        worker_tasks.LONG_JOB_RELEASE.set()
        release_slow_poller.set()
        stop.set()
        for thread in threads:
            thread.join()
        worker_tasks.LONG_JOB_RELEASE.clear()
    assert status(long_run) == TaskResultStatus.SUCCESSFUL
