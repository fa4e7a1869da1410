"""Flood runs on the long lane, and the sweep for runs whose process died."""

from datetime import timedelta

from zhili.core.periodic import periodic
from zhili.core.queue import task


@task(queue_name="long")
def flood_run_task(run_id: int) -> str:
    """One forecast run: the engine in its own process (idempotent: a claimed run is skipped)."""
    from zhili.flood.runs import flood_run_execute

    run = flood_run_execute(run_id=run_id)
    return run.status if run else "skipped"


@periodic(every=timedelta(minutes=1))
@task(queue_name="sweeps")
def flood_runs_stale_sweep() -> int:
    from zhili.flood.runs import flood_runs_stale_fail

    return flood_runs_stale_fail()
