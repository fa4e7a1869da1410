"""A queued report run whose task left the queue untaken is failed and its owner told."""

from datetime import timedelta

import pytest
from django.utils import timezone

from zhili.supervision import periods as P

pytestmark = pytest.mark.django_db


def test_a_queued_run_without_its_task_is_failed_once(street, street_operator, english):
    from django_tasks_db.models import DBTaskResult

    from zhili.notifications.models import Message
    from zhili.supervision import tasks
    from zhili.supervision.models import ReportRun
    from zhili.supervision.reports.pipeline import LOST_AFTER, runs_lost_fail
    from zhili.supervision.reports.services import report_regenerate

    run = report_regenerate(actor=street_operator, kind="grid_weekly", area=street.code,
                            period_start=P.last_complete("week"))
    later = timezone.now() + LOST_AFTER + timedelta(seconds=5)
    assert runs_lost_fail(now=timezone.now()) == 0  # young: not looked at
    assert runs_lost_fail(now=later) == 0  # its task still waits in the lane
    run.refresh_from_db()
    assert run.status == "queued"

    DBTaskResult.objects.filter(task_path=tasks.report_generate_task.module_path).delete()
    assert runs_lost_fail(now=later) == 1
    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at is not None
    assert "no longer in the queue" in run.error and run.error_msgid
    assert Message.objects.filter(kind="report.failed",
                                  deliveries__user=street_operator).count() == 1
    assert runs_lost_fail(now=later) == 0  # once
    assert ReportRun.objects.filter(status="failed").count() == 1


def test_the_sweep_task_runs_both_checks(street, street_operator):
    from zhili.supervision import tasks

    assert tasks.report_runs_stale_sweep.call() == 0
