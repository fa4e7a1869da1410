"""Background jobs: thin wrappers around `release` (each idempotent, safe to rerun).

`services` enqueues these, so they import `release`, never `services`.
"""

from datetime import timedelta

from zhili.bundles.models import Task, TaskStatus
from zhili.bundles.release import application_release, overdue_flag
from zhili.core.periodic import periodic
from zhili.core.queue import task


@task()
def release_application(application_id: int) -> int:
    return application_release(application_id=application_id)


@periodic(every=timedelta(minutes=5))
@task(queue_name="sweeps")
def release_sweep() -> int:
    """Re-run the release for applications with blocked tasks (repairs any lost release)."""
    ids = (Task.objects.filter(status=TaskStatus.BLOCKED).values_list("application_id", flat=True)
           .distinct()[:500])
    return sum(application_release(application_id=i) for i in ids)


@periodic(every=timedelta(minutes=10))
@task(queue_name="sweeps")
def overdue_sweep() -> int:
    return overdue_flag()
