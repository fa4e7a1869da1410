"""A worker SIGKILLed in the middle of a report: the old report stays, the run is failed.

A real process is started on the test database, stopped for good while it
renders, and the stale-run sweep (what `report_runs_stale_sweep` runs) then
finds its run without a heartbeat. PostgreSQL only: both processes must see
the same committed rows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

CHILD = """
import sys, time
import django
django.setup()
from zhili.supervision.models import ReportSeries
from zhili.supervision.reports import render
from zhili.supervision.reports.pipeline import report_generate
from datetime import date

def hang(data, language):
    print("rendering", flush=True)
    time.sleep(600)

render.report_pdf = hang
report_generate(series=ReportSeries.objects.get(pk=int(sys.argv[1])),
                period_start=date.fromisoformat(sys.argv[2]))
"""


def test_sigkill_mid_report_keeps_the_old_one(tmp_path, settings, city, city_admin, english):
    from django.db import connection

    from zhili.notifications.models import Message
    from zhili.supervision import periods as P
    from zhili.supervision.models import Report, ReportRun
    from zhili.supervision.reports.pipeline import (
        STALE_AFTER,
        report_generate,
        runs_stale_fail,
        series_for,
    )

    settings.MEDIA_ROOT = tmp_path / "media"
    series = series_for("city_overview", city)
    series.owner = city_admin
    series.save()
    start = P.last_complete("month")
    assert report_generate(series=series, period_start=start).status == "succeeded"
    old = Report.objects.get(series=series)

    db = connection.settings_dict
    env = dict(os.environ, ZHILI_DATA_DIR=str(tmp_path),
               ZHILI_DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
               DJANGO_SETTINGS_MODULE="zhili.settings")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(series.pk), start.isoformat()],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()  # it is inside the render, its run row committed
        assert line.strip() == "rendering", child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    run = ReportRun.objects.exclude(pk=old.run_id).get(series=series)
    assert run.status == "running"  # nobody could say otherwise: the process is gone

    assert runs_stale_fail(now=timezone.now() + STALE_AFTER + timedelta(seconds=5)) == 1
    run.refresh_from_db()
    assert run.status == "failed" and "worker stopped" in run.error
    kept = Report.objects.get(series=series)
    assert (kept.revision, kept.pdf_zh, kept.pdf_en) == (old.revision, old.pdf_zh, old.pdf_en)
    from django.core.files.storage import default_storage

    assert default_storage.exists(kept.pdf_en)
    assert Message.objects.filter(kind="report.failed", deliveries__user=city_admin).count() == 1
