"""Core's own background jobs."""

from datetime import timedelta

from django.utils import timezone

from zhili.core.periodic import periodic
from zhili.core.queue import task

FINISHED_RESULT_RETENTION = timedelta(days=7)


@periodic(at="03:00")  # every night, city time
@task(queue_name="sweeps")
def task_results_prune() -> int:
    """Drop finished task results older than a week; the queue table stays small."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - FINISHED_RESULT_RETENTION
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


@task()
def ping(value: str) -> str:
    """A no-op round trip, used by `zhili worker` health checks and tests."""
    return f"pong {value}"


# A worker killed mid-task leaves its claim RUNNING; after this lease the task is
# put back on the queue. Tasks are written to be idempotent, so a rerun is safe.
CLAIM_LEASE = timedelta(minutes=15)


@periodic(every=timedelta(minutes=1))
@task(queue_name="sweeps")
def task_claims_recover() -> int:
    """Requeue tasks whose worker died while running them."""
    from django_tasks_db.models import DBTaskResult

    from zhili.core.queue import TaskResultStatus

    stale = DBTaskResult.objects.running().filter(started_at__lt=timezone.now() - CLAIM_LEASE)
    return stale.update(status=TaskResultStatus.READY, started_at=None)
