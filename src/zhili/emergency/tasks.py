"""Emergency tasks: the rescue-circle recomputation on the long lane."""

from __future__ import annotations

from zhili.core.queue import task


@task(queue_name="long")
def coverage_recompute(*, reason: str = "", requested_at: str | None = None) -> int | None:
    from zhili.emergency.coverage import coverage_compute

    run = coverage_compute(reason=reason, requested_at=requested_at)
    return run.pk if run else None
