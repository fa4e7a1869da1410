"""Early-warning sweeps on the durable queue: thin wrappers over the services."""

from datetime import timedelta

from zhili.core.periodic import periodic
from zhili.core.queue import task


@periodic(every=timedelta(minutes=1))
@task(queue_name="sweeps")
def sensors_silent_sweep() -> int:
    """Raise a warning for each sensor that has stopped reporting (the silent-sensor rule)."""
    from zhili.warning.services import sensors_silent_check

    return sensors_silent_check()


@periodic(every=timedelta(minutes=1))
@task(queue_name="sweeps")
def warnings_escalate_sweep() -> int:
    """Tell the next tier up about warnings nobody acknowledged in time."""
    from zhili.warning.reach import warnings_escalate_unacknowledged

    return warnings_escalate_unacknowledged()


@periodic(every=timedelta(hours=6))
@task(queue_name="sweeps")
def readings_partitions_sweep() -> dict:
    """Reading partitions for this month and the next ones; retention enforced."""
    from zhili.warning.partitions import readings_partitions_maintain

    done = readings_partitions_maintain()
    return {"created": len(done["created"]), "dropped": len(done["dropped"]),
            "deleted": done["deleted"]}
