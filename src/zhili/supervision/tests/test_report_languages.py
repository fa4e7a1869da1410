"""Report and problem notifications are written in each reader's language, whoever's
worker sends them, and a re-run tells nobody twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from zhili.accounts.services import user_language_set
from zhili.notifications.models import Message
from zhili.supervision import periods as P
from zhili.supervision.models import ReportRun
from zhili.supervision.reports import pipeline
from zhili.supervision.reports.pipeline import report_generate, runs_stale_fail, series_for
from zhili.supervision.reports.services import report_subscribe

pytestmark = pytest.mark.django_db


def titles(user, kind: str) -> list[str]:
    return list(Message.objects.filter(deliveries__user=user, kind=kind)
                .values_list("title", flat=True).distinct())


def test_a_new_report_reaches_each_reader_in_their_language(street_operator, district_operator):
    user_language_set(actor=district_operator, user=district_operator, language="en")
    street = street_operator.active_assignments()[0].area
    series = series_for("grid_weekly", street)
    assert report_subscribe(actor=street_operator, series=series)
    assert report_subscribe(actor=district_operator, series=series)
    start = P.last_complete("week")

    with translation.override("en"):  # the worker's language is nobody's business
        run = report_generate(series=series, period_start=start)
    assert run.status == "succeeded", run.error

    [chinese] = titles(street_operator, "report.ready")
    [english] = titles(district_operator, "report.ready")
    assert chinese.startswith("新报表：") and street.name in chinese and start.isoformat() in chinese
    assert english.startswith("New report: ") and start.isoformat() in english
    assert (street.name_en or street.name) in english
    assert Message.objects.filter(kind="report.ready").count() == 2  # one per language


def test_a_failure_is_told_in_the_owners_language_once(city, city_admin, monkeypatch):
    user_language_set(actor=city_admin, user=city_admin, language="en")
    series = series_for("city_overview", city)
    series.owner = city_admin
    series.save()
    start = P.last_complete("month")
    # What a worker killed mid-run leaves: its run row, running, heartbeat stopped.
    dead = ReportRun.objects.create(series=series, period_start=start)
    ReportRun.objects.filter(pk=dead.pk).update(
        heartbeat_at=timezone.now() - pipeline.STALE_AFTER - timedelta(seconds=1))

    with translation.override("zh-hans"):
        assert runs_stale_fail() == 1
        dead.refresh_from_db()
        pipeline._tell_failed(series, dead, start)  # a sweep telling again: nothing new
    [message] = Message.objects.filter(kind="report.failed", deliveries__user=city_admin)
    assert message.title.startswith("Report ") and message.title.endswith(" failed")
    assert "worker stopped" in message.body
    assert message.dedupe_key == f"report-run:{dead.pk}:failed@en"


def test_a_problem_is_told_to_its_owners_in_their_languages(city_admin, street_operator):
    from zhili.accounts.roles import Role
    from zhili.accounts.services import role_assign, user_create
    from zhili.supervision.problems.services import problem_raise

    user_language_set(actor=street_operator, user=street_operator, language="en")
    street = street_operator.active_assignments()[0].area
    colleague = user_create(username="street_op_zh", password=None)  # no language: zh-Hans
    role_assign(user=colleague, role=Role.STREET_OPERATOR, area=street)
    problem = problem_raise(actor=city_admin, list_type="grid_weekly", title="路灯不亮",
                            area=street.code, owner_area=street.code,
                            deadline=(timezone.localdate() + timedelta(days=7)).isoformat())
    english = titles(street_operator, "problem.raised")
    assert english == ["A problem was put on your list: 路灯不亮"]
    assert titles(colleague, "problem.raised") == ["您的问题清单新增一项：路灯不亮"]
    assert Message.objects.filter(kind="problem.raised", object_id=str(problem.pk)).count() == 2
