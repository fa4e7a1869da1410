"""Governance sweeps on the durable queue: thin wrappers over the services."""

from datetime import timedelta

from zhili.core.periodic import periodic
from zhili.core.queue import task


@periodic(every=timedelta(minutes=1))
@task(queue_name="sweeps")
def cases_escalate_sweep() -> int:
    """Escalate open cases whose step limit (or level window) has passed, one rung each."""
    from zhili.governance.services import cases_escalate_overdue

    return cases_escalate_overdue()


@periodic(every=timedelta(minutes=10))
@task(queue_name="sweeps")
def cases_autoclose_sweep() -> int:
    """Close resolved cases left unrated past the reopen period."""
    from zhili.governance.services import cases_autoclose

    return cases_autoclose()
