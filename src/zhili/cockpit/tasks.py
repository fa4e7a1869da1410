"""The live event log is kept for replay only as long as a reconnect needs it."""

from datetime import timedelta

from zhili.core.periodic import periodic
from zhili.core.queue import task


@periodic(every=timedelta(minutes=10))
@task(queue_name="sweeps")
def live_events_prune() -> int:
    from zhili.cockpit.live import events_prune

    return events_prune()
