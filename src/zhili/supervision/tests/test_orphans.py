"""Report files a killed run wrote but never committed: the hourly sweep deletes them."""

from __future__ import annotations

import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from zhili.supervision import periods as P
from zhili.supervision.models import Report
from zhili.supervision.reports.pipeline import orphan_files_sweep, report_generate, series_for

pytestmark = pytest.mark.django_db


def _aged(name: str, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(default_storage.path(name), (then, then))


def test_old_unnamed_files_go_named_and_fresh_ones_stay(city):
    series = series_for("city_overview", city)
    assert report_generate(series=series, period_start=P.last_complete("month")).status == \
        "succeeded"
    report = Report.objects.get(series=series)
    named = [n for n in (report.pdf_zh, report.pdf_en, report.csv) if n]
    # What a SIGKILL between the writes and the commit leaves: files no row names.
    orphan = default_storage.save("supervision/reports/city_overview/50/2001-01-01.en-x.pdf",
                                  ContentFile(b"%PDF-1.4 orphan"))
    fresh = default_storage.save("supervision/reports/city_overview/50/2001-02-01.en-y.pdf",
                                 ContentFile(b"%PDF-1.4 being written"))
    elsewhere = default_storage.save("supervision/evidence/old.jpg", ContentFile(b"x"))
    for name in (*named, orphan, elsewhere):
        _aged(name, 2 * 3600)
    _aged(fresh, 60)

    assert orphan_files_sweep() == 1
    assert not default_storage.exists(orphan)
    assert all(default_storage.exists(n) for n in (*named, fresh, elsewhere))
    assert orphan_files_sweep() == 0  # idempotent


def test_no_reports_directory_is_nothing_to_do():
    assert orphan_files_sweep() == 0


def test_the_sweep_is_an_hourly_job_on_the_sweeps_lane():
    from zhili.core import periodic
    from zhili.supervision import tasks

    periodic.load_all()
    job = periodic.REGISTRY[tasks.report_orphans_sweep.module_path]
    assert job.lane == "sweeps"
