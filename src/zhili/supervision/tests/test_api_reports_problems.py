"""/api/v1/supervision/reports and /problems: scope, every bad input, the closed loop.

Each endpoint three ways (no permission, the right area, another area), and each
bad input a problem+json naming what is wrong that changes nothing.
"""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from zhili.supervision import periods as P
from zhili.supervision.models import Problem, Report, ReportRun
from zhili.supervision.reports.pipeline import report_generate, series_for

pytestmark = pytest.mark.django_db
R, PR = "/supervision/reports", "/supervision/problems"


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
    return login


def _problem_json(r):
    assert r["Content-Type"].startswith("application/problem+json"), r.content
    return r.json()


@pytest.fixture
def weekly(street, other_street):
    """Last week's grid weekly of the street and of the other street."""
    start = P.last_complete("week")
    out = {}
    for area in (street, other_street):
        series = series_for("grid_weekly", area)
        run = report_generate(series=series, period_start=start)
        assert run.status == "succeeded", run.error
        out[area.code] = Report.objects.get(series=series, period_start=start)
    return out


def test_the_archive_is_scoped_and_filtered(api, as_user, weekly, street, other_street,
                                            street_operator, resident):
    mine, theirs = weekly[street.code], weekly[other_street.code]
    as_user(resident)
    assert api.get(R).status_code == 403
    as_user(street_operator)
    page = api.get(R, kind="grid_weekly").json()
    ids = {r["id"] for r in page["items"]}
    assert mine.pk in ids and theirs.pk not in ids
    row = next(r for r in page["items"] if r["id"] == mine.pk)
    assert row["area"] == street.code and row["pdf"].endswith(f"/reports/{mine.pk}/pdf")
    start = mine.period_start.isoformat()
    assert {r["id"] for r in api.get(R, area=street.code, start_from=start,
                                     start_to=start).json()["items"]} == {mine.pk}
    assert api.get(R, kind="city_overview").json()["count"] == 0
    bad = [({"kind": "yearly"}, "kind"), ({"area": "zz"}, "area"),
           ({"start_from": "2031-13-01"}, None), ({"page_size": 0}, None)]
    for params, field in bad:
        body = _problem_json(r := api.get(R, **params))
        assert r.status_code == 422, params
        if field:
            assert body["errors"][0]["field"] == field


def test_a_report_its_runs_and_files(api, as_user, weekly, street, other_street,
                                     street_operator):
    mine, theirs = weekly[street.code], weekly[other_street.code]
    as_user(street_operator)
    detail = api.get(f"{R}/{mine.pk}", lang="en").json()
    assert detail["title"] and detail["figures"] and detail["runs"][0]["status"] == "succeeded"
    assert detail["runs"][0]["reason"] == ""
    pdf = api.get(f"{R}/{mine.pk}/pdf", lang="en")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert api.get(f"{R}/{mine.pk}/pdf", lang="zh-hans").status_code == 200
    if mine.csv:
        csv = api.get(f"{R}/{mine.pk}/csv", lang="en")
        assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    # Another street's report, or none at all: the same 404.
    for path in (f"{R}/{theirs.pk}", f"{R}/{theirs.pk}/pdf", f"{R}/{theirs.pk}/csv",
                 f"{R}/999999999", f"{R}/series/{theirs.series_id}"):
        r = api.get(path)
        assert r.status_code == 404 and _problem_json(r)["code"] == "not-found", path


def test_subscribe_unsubscribe_and_the_audited_readers(api, as_user, weekly, street,
                                                       other_street, street_operator):
    from zhili.audit.models import AuditEntry

    series = weekly[street.code].series_id
    as_user(street_operator)
    assert api.post(f"{R}/series/{series}/subscribe").json()["subscribed"] is True
    assert api.post(f"{R}/series/{series}/subscribe").json()["subscribed"] is True  # once
    readers = api.get(f"{R}/series/{series}/subscribers").json()
    assert [r["username"] for r in readers] == ["street_op1"]
    assert AuditEntry.objects.filter(action="report.readers_read",
                                     object_id=str(series)).exists()
    assert api.post(f"{R}/series/{series}/unsubscribe").json()["subscribed"] is False
    other = weekly[other_street.code].series_id
    for path in ("subscribe", "unsubscribe"):
        assert api.post(f"{R}/series/{other}/{path}").status_code == 404
    assert api.get(f"{R}/series/{other}/subscribers").status_code == 404
    assert not AuditEntry.objects.filter(action="report.readers_read",
                                         object_id=str(other)).exists()


def test_regenerate_queues_a_run_on_the_long_lane(api, as_user, street, other_street,
                                                  street_operator, department_officer):
    from django_tasks_db.models import DBTaskResult

    from zhili.supervision import tasks

    as_user(street_operator)
    week = P.last_complete("week")
    before = DBTaskResult.objects.filter(task_path=tasks.report_generate_task.module_path)
    seen = set(before.values_list("pk", flat=True))
    bad = [({"kind": "yearly", "area": street.code, "period_start": week.isoformat()}, 422,
            "kind"),
           ({"kind": "grid_weekly", "area": "zz", "period_start": week.isoformat()}, 422, "area"),
           ({"kind": "grid_weekly", "area": street.code,
             "period_start": timezone.localdate().isoformat()}, 422, "period_start"),
           ({"kind": "grid_weekly", "area": street.code, "period_start": "0001-01-01"}, 422,
            "period_start"),
           ({"kind": "grid_weekly", "area": other_street.code,
             "period_start": week.isoformat()}, 404, None)]
    for body, status, field in bad:
        r = api.post(f"{R}/regenerate", body)
        assert r.status_code == status, (body, r.content)
        if field:
            assert field in _problem_json(r)["errors"][0]["field"]
    assert not ReportRun.objects.exists()
    assert set(DBTaskResult.objects.filter(task_path=tasks.report_generate_task.module_path)
               .values_list("pk", flat=True)) == seen  # nothing queued
    as_user(department_officer)  # sees the area, may not make its reports
    r = api.post(f"{R}/regenerate", {"kind": "grid_weekly", "area": street.code,
                                     "period_start": week.isoformat()})
    assert r.status_code in (403, 404) and not ReportRun.objects.exists()

    as_user(street_operator)
    r = api.post(f"{R}/regenerate", {"kind": "grid_weekly", "area": street.code,
                                     "period_start": (week + timedelta(days=2)).isoformat()})
    assert r.status_code == 202, r.content
    run = r.json()
    assert run["status"] == "queued" and run["requested_by"] == "street_op1"
    queued = DBTaskResult.objects.filter(
        task_path=tasks.report_generate_task.module_path).exclude(pk__in=seen).get()
    assert queued.queue_name == "long"
    # The worker takes that run: it is the one that succeeds.
    tasks.report_generate_task.call(*queued.args_kwargs["args"])
    done = ReportRun.objects.get(pk=run["id"])
    assert done.status == "succeeded" and ReportRun.objects.count() == 1
    series = api.get(f"{R}/series/{done.series_id}").json()
    assert series["runs"][0]["id"] == run["id"] and series["runs"][0]["status"] == "succeeded"


def test_a_failed_run_reads_in_the_readers_language(api, as_user, street, street_operator):
    from zhili.supervision.reports.pipeline import STALE_AFTER, runs_stale_fail

    series = series_for("grid_weekly", street)
    run = ReportRun.objects.create(series=series, period_start=P.last_complete("week"))
    ReportRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - STALE_AFTER - timedelta(minutes=1))
    assert runs_stale_fail() == 1
    as_user(street_operator)
    english = api.get(f"{R}/series/{series.pk}", headers={"Accept-Language": "en"}).json()
    chinese = api.get(f"{R}/series/{series.pk}", headers={"Accept-Language": "zh-hans"}).json()
    assert "The worker stopped during the run" in english["runs"][0]["reason"]
    assert "工作进程" in chinese["runs"][0]["reason"]
    run.refresh_from_db()
    assert "worker stopped" in run.error  # the operators' detail stays English


# -- problems ------------------------------------------------------------------------


def _png(name="photo.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 0, 0)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def test_problem_list_is_scoped_and_filtered(api, as_user, problem, street, street_operator,
                                             other_street_operator, resident):
    as_user(resident)
    assert api.get(PR).status_code == 403
    as_user(other_street_operator)
    assert problem.number not in {p["number"] for p in api.get(PR).json()["items"]}
    r = api.get(f"{PR}/{problem.number}")
    assert r.status_code == 404 and _problem_json(r)["code"] == "not-found"
    assert api.get(f"{PR}/PL000000NOPE").status_code == 404
    as_user(street_operator)
    numbers = lambda **q: {p["number"] for p in api.get(PR, **q).json()["items"]}  # noqa: E731
    assert problem.number in numbers()
    assert problem.number in numbers(list_type="grid_weekly", status="open", area=street.code,
                                     owner="me")
    assert problem.number in numbers(owner=street.code)
    assert problem.number not in numbers(list_type="dispute_monthly")
    assert problem.number not in numbers(status="closed")
    assert problem.number not in numbers(overdue="true")
    Problem.objects.filter(pk=problem.pk).update(deadline=date(2020, 1, 1))
    assert problem.number in numbers(overdue="true")
    assert api.get(PR, overdue="true").json()["items"][0]["overdue"] is True
    for params, field in [({"list_type": "nope"}, "list_type"), ({"status": "nope"}, None),
                          ({"area": "zz"}, "area"), ({"owner": "zz"}, "owner")]:
        r = api.get(PR, **params)
        assert r.status_code == 422, params
        if field:
            assert _problem_json(r)["errors"][0]["field"] == field


def test_raising_a_problem_by_hand(api, as_user, client, street, other_street, street_operator,
                                   department_officer):
    from zhili.audit.models import AuditEntry

    due = (timezone.localdate() + timedelta(days=10)).isoformat()
    body = {"list_type": "grid_weekly", "title": "台账不全", "area": street.code, "deadline": due}
    as_user(street_operator)
    count = Problem.objects.count()
    bad = [({**body, "list_type": "nope"}, 422, "list_type"), ({**body, "title": " "}, 422,
                                                               "title"),
           ({**body, "area": "zz"}, 422, "area"), ({**body, "deadline": "soon"}, 422, "deadline"),
           ({**body, "owner_department": "nope"}, 422, "owner_department"),
           ({**body, "owner_area": other_street.code}, 422, "owner_area"),
           ({**body, "area": other_street.code}, 404, None)]
    for payload, status, field in bad:
        r = api.post(PR, payload)
        assert r.status_code == status, (payload, r.content)
        if field:
            assert _problem_json(r)["errors"][0]["field"] == field
    assert Problem.objects.count() == count
    as_user(department_officer)
    assert api.post(PR, body).status_code == 403
    as_user(street_operator)
    # multipart, with evidence
    r = client.post(f"/api/v1{PR}", {**body, "evidence": [_png()]})
    assert r.status_code == 201, r.content
    made = r.json()
    assert made["status"] == "open" and made["owner_area"] == street.code
    assert made["timeline"][0]["kind"] == "raised"
    evidence = made["timeline"][0]["evidence"][0]
    assert evidence["content_type"] == "image/jpeg"
    assert client.get(evidence["url"]).status_code == 200
    assert AuditEntry.objects.filter(action="problem.raise").count() >= 1


def test_the_closed_loop_through_the_api(api, as_user, client, problem, street_operator,
                                         district_operator, other_street_operator,
                                         department_officer):
    from zhili.audit.models import AuditEntry

    n = problem.number

    def step(action, **body):
        return api.post(f"{PR}/{n}/{action}", body)

    as_user(street_operator)
    r = step("verify")
    assert r.status_code == 409 and _problem_json(r)["code"] == "invalid-transition"
    r = step("start", version=7)
    assert r.status_code == 409 and _problem_json(r)["code"] == "conflict"
    assert step("start", version="x").status_code == 422
    assert api.post(f"{PR}/{n}/nope", {}).status_code in (404, 405)
    as_user(other_street_operator)
    assert step("start").status_code == 404  # not theirs to see
    as_user(department_officer)
    assert step("start").status_code in (403, 404)
    problem.refresh_from_db()
    assert (problem.status, problem.version) == ("open", 1)  # nothing changed

    as_user(street_operator)
    p = step("start", version=1).json()
    assert p["status"] == "rectifying" and p["version"] == 2
    assert step("record-step").status_code == 422  # a step needs its note
    r = client.post(f"/api/v1{PR}/{n}/submit", {"note": "已整改", "evidence": [_png()]})
    assert r.status_code == 200 and r.json()["status"] == "submitted", r.content
    assert step("close").status_code == 409
    as_user(district_operator)
    assert step("return", note=" ").status_code == 422  # a return needs its reason
    p = step("return", note="记录不全").json()
    assert p["status"] == "rectifying" and p["returned_count"] == 1
    as_user(street_operator)
    step("submit", note="补齐")
    as_user(district_operator)
    assert "verify" in api.get(f"{PR}/{n}").json()["actions"]
    assert step("verify").json()["status"] == "verified"
    p = step("close").json()
    assert p["status"] == "closed" and p["closed_at"]
    kinds = [e["kind"] for e in p["timeline"]]
    assert kinds == ["raised", "rectifying", "submitted", "returned", "submitted", "verified",
                     "closed"]
    assert p["timeline"][2]["evidence"][0]["content_type"] == "image/jpeg"
    actions = set(AuditEntry.objects.filter(object_id=str(problem.pk),
                                            action__startswith="problem.")
                  .values_list("action", flat=True))
    assert {"problem.start", "problem.submit", "problem.return", "problem.verify",
            "problem.close"} <= actions


def test_bodies_no_parser_chokes_on(api, as_user, client, problem, street_operator):
    as_user(street_operator)
    for body, ctype in [(b"[1]", "application/json"), (b"{", "application/json"),
                        (json.dumps({"note": "\x00"}).encode(), "application/json")]:
        r = client.post(f"/api/v1{PR}/{problem.number}/start", body, content_type=ctype)
        assert r.status_code < 500, (body, r.content)
    r = client.post(f"/api/v1{PR}/{problem.number}/start", {"evidence": [_png()]})
    assert r.status_code == 422  # start takes no evidence
