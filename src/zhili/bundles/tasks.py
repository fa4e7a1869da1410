"""Background jobs: thin wrappers around services (each idempotent, safe to rerun)."""

from datetime import timedelta

from zhili.core.periodic import periodic
from zhili.core.queue import task


@task()
def release_application(application_id: int) -> int:
    from zhili.bundles.services import application_release

    return application_release(application_id=application_id)


@periodic(every=timedelta(minutes=5))
@task(queue_name="sweeps")
def release_sweep() -> int:
    """Re-run the release for applications with blocked tasks (repairs any lost release)."""
    from zhili.bundles.models import Task, TaskStatus
    from zhili.bundles.services import application_release

    ids = (Task.objects.filter(status=TaskStatus.BLOCKED).values_list("application_id", flat=True)
           .distinct()[:500])
    return sum(application_release(application_id=i) for i in ids)


@periodic(every=timedelta(minutes=10))
@task(queue_name="sweeps")
def overdue_sweep() -> int:
    from zhili.bundles.services import overdue_flag

    return overdue_flag()
