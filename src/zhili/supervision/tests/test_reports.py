"""Reports: PDF text for the demo city, atomic replace, failures kept apart, scheduling."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from zhili.supervision import periods as P
from zhili.supervision.models import Report, ReportRun
from zhili.supervision.reports import pipeline
from zhili.supervision.reports.pipeline import report_generate, runs_stale_fail, series_for

pytestmark = pytest.mark.django_db

# The KPI roll-ups of the seeded city are built by the demo step (as the worker keeps them).


def pdf_text(name: str) -> str:
    from pypdf import PdfReader

    with default_storage.open(name, "rb") as f:
        reader = PdfReader(io.BytesIO(f.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def overview(city, city_admin):
    series = series_for("city_overview", city)
    series.owner = city_admin
    series.save()
    return series


def _inbox(user, kind: str) -> list:
    from zhili.notifications.models import Message

    return list(Message.objects.filter(deliveries__user=user, kind=kind).distinct())


def test_city_overview_pdf_for_the_demo_city(overview):
    start = P.last_complete("month")
    run = report_generate(series=overview, period_start=start)
    assert run.status == "succeeded", run.error
    assert run.duration_ms is not None and run.finished_at
    report = Report.objects.get(series=overview, period_start=start)
    figures = {f["label"]["en"]: f["value"] for f in report.data["figures"]}
    english = pdf_text(report.pdf_en)
    assert "City overview" in english and "Cases reported" in english
    assert f"Cases reported {figures['Cases reported']}" in english
    assert "Page 1 /" in english  # the footer, in a margin box
    chinese = pdf_text(report.pdf_zh)
    assert overview.area.name in chinese  # 重庆市: the CJK font is used, not boxes
    assert start.isoformat() in chinese


def test_area_and_period_without_data_say_so(overview):
    start = date(2001, 1, 1)
    run = report_generate(series=overview, period_start=start)
    assert run.status == "succeeded"
    report = Report.objects.get(series=overview, period_start=start)
    assert report.empty and report.csv == ""
    assert "No cases were reported in the city in this period." in pdf_text(report.pdf_en)


def test_every_template_renders_for_its_area(city, district, street):
    from zhili.supervision.kinds import KINDS
    from zhili.supervision.reports.builders import report_build
    from zhili.supervision.reports.render import report_document

    areas = {"city": city, "district": district, "street": street}
    for kind in KINDS.values():
        data = report_build(kind.code, areas[kind.level], P.last_complete(kind.cadence))
        html = report_document(data, "en")
        assert data["title"]["en"] in html
        assert data["empty"] or data["figures"], kind.code


def test_regenerating_replaces_the_report_whole(overview, city_admin):
    start = P.last_complete("month")
    report_generate(series=overview, period_start=start)
    first = Report.objects.get(series=overview, period_start=start)
    old_files = [first.pdf_zh, first.pdf_en]
    run = report_generate(series=overview, period_start=start, trigger="manual",
                          requested_by=city_admin)
    assert run.status == "succeeded"
    second = Report.objects.get(series=overview, period_start=start)
    assert second.pk == first.pk and second.revision == 2 and second.run_id == run.pk
    assert {second.pdf_zh, second.pdf_en}.isdisjoint(old_files)
    assert all(default_storage.exists(n) for n in (second.pdf_zh, second.pdf_en))


def test_a_failed_run_keeps_the_old_report_and_tells_the_owner(overview, city_admin,
                                                              monkeypatch):
    from zhili.supervision.reports import render

    start = P.last_complete("month")
    report_generate(series=overview, period_start=start)
    before = Report.objects.get(series=overview, period_start=start)
    calls = []

    def broken(data, language):
        calls.append(language)
        if len(calls) == 2:  # the first PDF is written, the second fails
            raise RuntimeError("pango went away")
        return b"%PDF-1.4 partial"

    monkeypatch.setattr(render, "report_pdf", broken)
    run = report_generate(series=overview, period_start=start)
    assert run.status == "failed" and "pango went away" in run.error
    after = Report.objects.get(series=overview, period_start=start)
    assert (after.revision, after.pdf_zh, after.pdf_en) == (before.revision, before.pdf_zh,
                                                            before.pdf_en)
    assert default_storage.exists(after.pdf_zh)
    notices = _inbox(city_admin, "report.failed")
    assert len(notices) == 1 and "pango went away" in notices[0].body


def test_a_killed_run_is_failed_by_the_sweep_and_the_old_report_stays(overview, city_admin,
                                                                       english):
    start = P.last_complete("month")
    report_generate(series=overview, period_start=start)
    kept = Report.objects.get(series=overview, period_start=start)
    # What a worker killed mid-run leaves: its run row, running, heartbeat stopped.
    dead = ReportRun.objects.create(series=overview, period_start=start)
    ReportRun.objects.filter(pk=dead.pk).update(
        heartbeat_at=timezone.now() - pipeline.STALE_AFTER - timedelta(seconds=1))
    fresh = ReportRun.objects.create(series=overview, period_start=start)  # still alive
    assert runs_stale_fail() == 1
    dead.refresh_from_db()
    fresh.refresh_from_db()
    assert dead.status == "failed" and "worker stopped" in dead.error
    assert fresh.status == "running"
    assert Report.objects.get(pk=kept.pk).pdf_zh == kept.pdf_zh
    assert len(_inbox(city_admin, "report.failed")) == 1
    assert runs_stale_fail() == 0  # told once


def test_subscribers_are_told_of_a_new_report(overview, street_operator, district_operator):
    from zhili.core.errors import NotFound
    from zhili.supervision.reports.services import (
        report_subscribe,
        report_unsubscribe,
        series_readers_read,
    )

    street = series_for("grid_weekly", street_operator.active_assignments()[0].area)
    assert report_subscribe(actor=street_operator, series=street)
    assert not report_subscribe(actor=street_operator, series=street)  # once
    assert report_subscribe(actor=district_operator, series=street)
    assert [u.username for u in series_readers_read(actor=street_operator, series=street)] == \
        sorted(["street_op1", "district_op"])
    with pytest.raises(NotFound):  # a city series is outside a street operator's area
        report_subscribe(actor=street_operator, series=overview)
    run = report_generate(series=street, period_start=P.last_complete("week"))
    assert run.status == "succeeded"
    assert len(_inbox(street_operator, "report.ready")) == 1
    assert report_unsubscribe(actor=street_operator, series=street)


def test_long_tables_go_in_the_csv_not_the_pdf(district):
    from zhili.supervision.reports.builders import TABLE_ROWS_IN_PDF
    from zhili.supervision.reports.builders import Report as Notebook
    from zhili.supervision.reports.render import present, report_csv

    book = Notebook("street_ranking", district, "month", date(2026, 1, 1))
    book.figure("n", 1)
    book.table("Ranking", ["Street", "Cases"], [[f"=S{i}", i] for i in range(100)])
    view = present(book.data, "en")
    assert len(view["tables"][0]["rows"]) == TABLE_ROWS_IN_PDF and view["tables"][0]["more"] == 75
    text = report_csv(book.data, "en").decode("utf-8-sig")
    assert text.count("\n") >= 100 and "'=S99" in text  # no formula injection


def test_the_calendar_makes_each_areas_reports_on_the_long_lane(city, district):
    from django_tasks_db.models import DBTaskResult

    from zhili.core import periodic
    from zhili.geo.models import AreaNode
    from zhili.supervision import tasks

    periodic.load_all()
    weekly = periodic.REGISTRY[tasks.reports_weekly.module_path]
    monthly = periodic.REGISTRY[tasks.reports_monthly.module_path]
    assert weekly.lane == monthly.lane == "long"
    assert "08:00" in weekly.schedule.spec and "08:00" in monthly.schedule.spec
    DBTaskResult.objects.filter(task_path=tasks.report_generate_task.module_path).delete()
    before = DBTaskResult.objects.count()
    n = tasks._schedule("week")
    streets = AreaNode.objects.filter(level="street").count()
    districts = AreaNode.objects.filter(level="district").count()
    assert n == streets + districts  # grid weekly per street, warning weekly per district
    queued = list(DBTaskResult.objects.filter(task_path=tasks.report_generate_task.module_path))
    assert DBTaskResult.objects.count() == before + n == before + len(queued)
    assert {q.queue_name for q in queued} == {"long"}
    assert {q.args_kwargs["args"][1] for q in queued} == {P.last_complete("week").isoformat()}
