"""Emergency tasks: the rescue-circle recomputation on the long lane, and the sweep for
runs whose process died."""

from __future__ import annotations

from datetime import timedelta

from zhili.core.periodic import periodic
from zhili.core.queue import task


@task(queue_name="long")
def coverage_recompute(*, reason: str = "", requested_at: str | None = None) -> int | None:
    from zhili.emergency.coverage import coverage_compute

    run = coverage_compute(reason=reason, requested_at=requested_at)
    return run.pk if run else None


@periodic(every=timedelta(minutes=1))
@task(queue_name="sweeps")
def coverage_runs_stale_sweep() -> int:
    from zhili.emergency.coverage import coverage_runs_stale_fail

    return coverage_runs_stale_fail()
