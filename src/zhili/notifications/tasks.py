"""Delivery of the notifications outbox: after each commit, and a sweep as a safety net."""

from datetime import timedelta

from zhili.core.periodic import periodic
from zhili.core.queue import task


@task()
def notifications_deliver() -> int:
    """Enqueued when a transaction that wrote notifications commits."""
    from zhili.notifications.services import notifications_deliver_pending

    return notifications_deliver_pending()


@periodic(every=timedelta(minutes=1))
@task(queue_name="sweeps")
def notifications_sweep() -> int:
    """Retries due after back-off, and rows whose delivery task was lost."""
    from zhili.notifications.services import notifications_deliver_pending

    return notifications_deliver_pending()
