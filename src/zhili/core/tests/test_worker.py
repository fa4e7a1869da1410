"""Background work: enqueue → worker → done, and periodic sweeps claimed once."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from zhili.core import periodic, tasks_worker
from zhili.core.models import PeriodicSchedule
from zhili.core.queue import TaskResultStatus, enqueue_on_commit, enqueue_with_commit
from zhili.core.tasks import ping, task_results_prune


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
    name = task_results_prune.module_path
    now = timezone.now()
    assert name in periodic.enqueue_due(now)
    # A second worker at the same moment finds nothing due.
    assert name not in periodic.enqueue_due(now)
    queued = DBTaskResult.objects.filter(task_path=name, status=TaskResultStatus.READY).count()
    assert queued == 1
    # An hour later (controlled clock, no sleeping) it is due again.
    assert name in periodic.enqueue_due(now + timedelta(hours=1, seconds=1))
    assert PeriodicSchedule.objects.get(name=name).next_due > now + timedelta(hours=1)


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
    from zhili.core.tasks import task_claims_recover

    result = ping.enqueue("orphan")
    row = DBTaskResult.objects.get(id=result.id)
    row.claim("dead-worker")
    DBTaskResult.objects.filter(id=row.id).update(started_at=timezone.now() - timedelta(hours=1))
    assert task_claims_recover.call() == 1
    tasks_worker.drain()
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL
