"""Supervision's jobs: the roll-up poller; reports on the `long` lane by the city's
calendar; sweeps.

Monday 08:00 (city time) makes last week's weekly reports, the first of the
month at 08:00 last month's monthly ones: one task per series, so several
`zhili worker --lanes long` processes share them.
"""

from datetime import date, timedelta

from zhili.core.periodic import periodic, poller
from zhili.core.queue import task


@task(queue_name="long")
def report_generate_task(series_id: int, period_start: str, trigger: str = "schedule",
                         requested_by_id: int | None = None, run_id: int | None = None) -> str:
    from zhili.accounts.models import User
    from zhili.supervision.models import ReportSeries
    from zhili.supervision.reports.pipeline import report_generate

    series = ReportSeries.objects.select_related("area").filter(pk=series_id).first()
    if series is None:
        return "gone"
    user = User.objects.filter(pk=requested_by_id).first() if requested_by_id else None
    run = report_generate(series=series, period_start=date.fromisoformat(period_start),
                          trigger=trigger, requested_by=user, run_id=run_id)
    return run.status


def _schedule(cadence: str) -> int:
    from zhili.supervision import periods as P
    from zhili.supervision.reports.pipeline import series_due

    start = P.last_complete(cadence).isoformat()
    series = series_due(cadence)
    for s in series:
        report_generate_task.enqueue(s.pk, start)
    return len(series)


@periodic(at="08:00", weekday=0)
@task(queue_name="long")
def reports_weekly() -> int:
    return _schedule("week")


@periodic(at="08:00", day=1)
@task(queue_name="long")
def reports_monthly() -> int:
    return _schedule("month")


@periodic(every=timedelta(minutes=5))
@task(queue_name="sweeps")
def report_runs_stale_sweep() -> int:
    """Runs whose worker died, or whose queued task was lost: failed, the owner told,
    the old report kept."""
    from zhili.supervision.reports.pipeline import runs_lost_fail, runs_stale_fail

    return runs_stale_fail() + runs_lost_fail()


@periodic(every=timedelta(hours=1))
@task(queue_name="sweeps")
def report_orphans_sweep() -> int:
    """Report files a killed run wrote but never committed: deleted after an hour."""
    from zhili.supervision.reports.pipeline import orphan_files_sweep

    return orphan_files_sweep()


@periodic(at="07:00")
@task(queue_name="sweeps")
def problem_rules_sweep() -> int:
    """Evaluate the KPI rules each morning; one problem per breach."""
    from zhili.supervision.problems.rules import rules_evaluate

    return rules_evaluate()


@poller(lane="default")
def rollups_poll() -> int:
    """Roll up the apps' new events (cases, applications, warnings) into the KPI tables,
    each source at most every `rollups.interval()` (5 s)."""
    from zhili.supervision.rollups import interval, poll_all

    return poll_all(every=interval())
