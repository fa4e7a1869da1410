"""The archive, a report, its series, and the problem lists as pages: scoped three ways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from zhili.supervision import periods as P
from zhili.supervision.models import Problem
from zhili.supervision.reports.pipeline import report_generate, series_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def street_report(street):
    series = series_for("grid_weekly", street)
    report_generate(series=series, period_start=P.last_complete("week"))
    return series.reports.get()


def test_archive_three_ways(client, street_report, grid_worker, street_operator,
                            other_street_operator, english):
    client.force_login(grid_worker)  # no supervision role
    assert client.get("/supervision/reports/").status_code == 403
    assert client.get(f"/supervision/reports/{street_report.pk}/").status_code == 403
    client.force_login(other_street_operator)  # the role, another street
    page = client.get("/supervision/reports/")
    assert page.status_code == 200 and f'data-report="{street_report.pk}"' not in page.text
    for path in ("", "pdf/", "csv/"):
        assert client.get(f"/supervision/reports/{street_report.pk}/{path}").status_code == 404
    assert client.get(f"/supervision/reports/series/{street_report.series_id}/").status_code == 404
    client.force_login(street_operator)  # in scope
    page = client.get("/supervision/reports/")
    assert f'data-report="{street_report.pk}"' in page.text
    view = client.get(f"/supervision/reports/{street_report.pk}/")
    assert view.status_code == 200 and "Grid governance weekly" in view.text
    pdf = client.get(f"/supervision/reports/{street_report.pk}/pdf/?lang=en")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    csv = client.get(f"/supervision/reports/{street_report.pk}/csv/")
    assert csv.status_code == 200 and "Cases by area" in csv.content.decode("utf-8-sig")


def test_archive_filters_refuse_bad_input_with_a_4xx(client, street_operator, english):
    client.force_login(street_operator)
    for query in ("kind=nope", "from=yesterday", "area=123"):
        page = client.get(f"/supervision/reports/?{query}")
        assert page.status_code == 422, query
    assert client.get("/supervision/reports/?kind=grid_weekly&page=x").status_code == 200


def test_regenerate_from_the_page(client, street, street_operator, other_street_operator,
                                  english):
    from django_tasks_db.models import DBTaskResult

    from zhili.supervision.tasks import report_generate_task

    client.force_login(street_operator)
    future = (timezone.localdate() + timedelta(days=40)).isoformat()
    page = client.post("/supervision/reports/regenerate/",
                       {"kind": "grid_weekly", "area": street.code, "period_start": future})
    assert page.status_code == 422 and "has not ended yet" in page.text
    page = client.post("/supervision/reports/regenerate/",
                       {"kind": "grid_weekly", "area": street.code, "period_start": "x"})
    assert page.status_code == 422
    last_week = P.last_complete("week").isoformat()
    page = client.post("/supervision/reports/regenerate/",
                       {"kind": "grid_weekly", "area": street.code, "period_start": last_week})
    assert page.status_code == 302
    queued = DBTaskResult.objects.get(task_path=report_generate_task.module_path)
    assert queued.queue_name == "long"
    assert report_generate_task.call(*queued.args_kwargs["args"]) == "succeeded"
    series = series_for("grid_weekly", street)
    run = series.runs.get()
    assert (run.trigger, run.requested_by) == ("manual", street_operator)
    client.force_login(other_street_operator)  # another street: as if it did not exist
    page = client.post("/supervision/reports/regenerate/",
                       {"kind": "grid_weekly", "area": street.code, "period_start": last_week})
    assert page.status_code == 404


def test_series_page_shows_runs_and_readers(client, street_report, street_operator, english):
    client.force_login(street_operator)
    base = f"/supervision/reports/series/{street_report.series_id}/"
    assert client.post(base + "subscribe/").status_code == 302
    page = client.get(base)
    assert "Unsubscribe" in page.text and "street_op1" in page.text
    assert "run-succeeded" in page.text
    assert client.post(base + "own/").status_code == 302
    street_report.series.refresh_from_db()
    assert street_report.series.owner == street_operator


def test_problem_pages_three_ways_and_the_loop(client, problem, grid_worker, street_operator,
                                               other_street_operator, district_operator,
                                               english):
    url = f"/supervision/problems/{problem.number}/"
    client.force_login(grid_worker)
    assert client.get("/supervision/problems/").status_code == 403
    client.force_login(other_street_operator)
    assert problem.number not in client.get("/supervision/problems/").text
    assert client.get(url).status_code == 404
    assert client.post(url + "start/", {"version": 1}).status_code == 404
    client.force_login(street_operator)
    assert problem.number in client.get("/supervision/problems/?status=open").text
    # A wrong transition: refused with 409, nothing changed.
    page = client.post(url + "verify/", {"version": 1})
    assert page.status_code == 409 and "does not allow" in page.text
    assert client.post(url + "start/", {"version": 1}).status_code == 302
    assert client.post(url + "submit/", {"version": 2, "note": "done"}).status_code == 302
    client.force_login(district_operator)
    assert client.post(url + "return/", {"version": 3, "note": ""}).status_code == 422
    assert client.post(url + "verify/", {"version": 3}).status_code == 302
    assert Problem.objects.get(pk=problem.pk).status == "verified"
    assert client.post(url + "bogus/", {}).status_code == 404
    detail = client.get(url)
    assert 'data-kind="verified"' in detail.text


def test_raise_a_problem_from_the_page(client, street, street_operator, english):
    client.force_login(street_operator)
    page = client.post("/supervision/problems/raise/", {
        "list_type": "grid_weekly", "title": "", "area": street.code, "deadline": "2030-01-01"})
    assert page.status_code == 422 and not Problem.objects.exists()
    page = client.post("/supervision/problems/raise/", {
        "list_type": "grid_weekly", "title": "路灯不亮", "area": street.code,
        "deadline": "2030-01-01"})
    assert page.status_code == 302
    assert Problem.objects.get().title == "路灯不亮"
