"""Forms people stumble on: errors beside their field in words, input kept, the form left
open; confirmations after a step; who holds a case now; what the reporter's timeline shows."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from zhili.governance import services
from zhili.governance.models import DepartmentTask, Status
from zhili.governance.tests.test_pages import G, as_user


@pytest.fixture
def case(report):
    return report(category="power-line-sagging", description="电线垂到二楼窗口")


@pytest.fixture(autouse=True)
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


def errors_beside(page: str, name: str) -> list[str]:
    found = re.search(rf'<ul class="field-errors" role="alert" data-error-for="{re.escape(name)}">'
                      r"(.*?)</ul>", page, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def test_a_refused_dispatch_keeps_the_form_open_with_the_error_beside_the_hours(
        client, case, street_operator):
    client = as_user(client, street_operator)
    response = client.post(f"{G}/cases/{case.pk}/dispatch/", {
        "version": case.version, "lead": "power", "cooperating": ["urban-management"],
        "instructions": "请带梯子", "due_hours": "many"})
    assert response.status_code == 422
    page = response.content.decode()
    assert errors_beside(page, "due_hours") == ["a whole number of hours from 1 to 2160"]
    assert '<details class="action" id="dispatch" open>' in page
    assert ">请带梯子</textarea>" in page and 'name="due_hours" value="many"' in page
    assert re.search(r'value="urban-management" checked', page)
    assert "due_hours:" not in page and "Invalid value for" not in page
    case.refresh_from_db()
    assert case.status != Status.DISPATCHED


def test_a_refused_escalation_keeps_what_was_typed(client, case, grid_worker):
    client = as_user(client, grid_worker)
    response = client.post(f"{G}/cases/{case.pk}/escalate/", {"version": case.version,
                                                              "reason": "   "})
    assert response.status_code == 422
    page = response.content.decode()
    assert errors_beside(page, "reason")
    assert '<details class="action" id="escalate" open>' in page


def test_accept_and_escalate_sent_by_the_page_script_confirm_on_the_next_page(
        client, case, grid_worker):
    """forms.js follows `redirect` itself, so the message waits for the page it opens."""
    client = as_user(client, grid_worker)
    base = f"{G}/cases/{case.pk}"
    answer = client.post(f"{base}/accept/", {"version": case.version},
                         headers={"X-Zhili-Form": "fetch"})
    assert answer.status_code == 200 and answer.json() == {"ok": True, "redirect": f"{base}/"}
    page = client.get(f"{base}/").content.decode()
    assert "Accepted. The clock for arriving on site is running." in page
    case.refresh_from_db()
    answer = client.post(f"{base}/escalate/", {"version": case.version, "reason": "需要吊车"},
                         headers={"X-Zhili-Form": "fetch"})
    assert answer.json()["redirect"] == f"{base}/"
    assert "Escalated one level up." in client.get(f"{base}/").content.decode()


def test_now_with_names_the_level_after_escalation_and_the_departments_after_dispatch(
        client, case, grid_worker, street_operator):
    case = services.case_accept(actor=grid_worker, case=case, version=case.version)
    case = services.case_escalate(actor=grid_worker, case=case, version=case.version,
                                  reason="需要吊车")
    page = as_user(client, street_operator).get(f"{G}/cases/{case.pk}/").content.decode()
    holder = re.search(r'<dd id="holder" data-holder="(\w+)">(.*?)</dd>', page, re.S)
    assert holder.group(1) == "level" and "Community" in holder.group(2)
    case = services.case_dispatch_departments(actor=street_operator, case=case,
                                              version=case.version, lead="power",
                                              cooperating=["urban-management"])
    page = client.get(f"{G}/cases/{case.pk}/").content.decode()
    holder = re.search(r'<dd id="holder" data-holder="(\w+)">(.*?)</dd>', page, re.S)
    assert holder.group(1) == "departments"
    assert holder.group(2) == "Power utility (lead), Urban management"
    assert grid_worker.display_name not in holder.group(2)


def test_a_department_completes_only_with_a_note_like_it_returns(
        client, case, grid_worker, street_operator, department_officer):
    case = services.case_accept(actor=grid_worker, case=case, version=case.version)
    case = services.case_dispatch_departments(actor=street_operator, case=case,
                                              version=case.version, lead="power")
    task = DepartmentTask.objects.get(case=case)
    client = as_user(client, department_officer)
    for action in ("complete", "return"):
        response = client.post(f"{G}/inbox/{task.pk}/{action}/",
                               {"note": " ", "next": f"{G}/cases/{case.pk}/"})
        assert response.status_code == 422, action
        assert errors_beside(response.content.decode(), "note"), action
        task.refresh_from_db()
        assert task.status == DepartmentTask.TaskStatus.OPEN
    response = client.post(f"{G}/inbox/{task.pk}/complete/", {"note": "已重新架设"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == DepartmentTask.TaskStatus.DONE and task.note == "已重新架设"


def test_the_reporters_timeline_shows_steps_not_internal_texts(
        client, case, grid_worker, street_operator, resident):
    case = services.case_accept(actor=grid_worker, case=case, version=case.version)
    case = services.case_escalate(actor=grid_worker, case=case, version=case.version,
                                  reason="网格员处理不了内部原因")
    case = services.case_dispatch_departments(actor=street_operator, case=case,
                                              version=case.version, lead="power",
                                              instructions="给部门的内部指示")
    page = as_user(client, resident).get(f"{G}/my/{case.tracking_no}/").content.decode()
    assert 'data-kind="escalated"' in page and 'data-kind="dispatched"' in page
    assert "网格员处理不了内部原因" not in page and "给部门的内部指示" not in page
    staff_page = as_user(client, street_operator).get(f"{G}/cases/{case.pk}/").content.decode()
    assert "网格员处理不了内部原因" in staff_page and "给部门的内部指示" in staff_page


def test_a_negative_count_is_refused_beside_its_question(client, report, resident, grid):
    client = as_user(client, resident)
    response = client.post(f"{G}/report/", {
        "category": "garbage", "description": "垃圾满了", "lon": grid.centre_lon,
        "lat": grid.centre_lat, "attribute[bags]": "-5"})
    assert response.status_code == 422
    assert errors_beside(response.content.decode(), "attribute[bags]") == ["must be at least 0"]
    assert "bags:" not in response.content.decode()


def test_the_demo_roster_has_the_grid_worker_on_duty_at_every_hour(grid, grid_worker):
    """A case reported at night went to the grid leader: the demo rostered only the day."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from zhili.governance.services.intake import on_duty

    start = datetime(2027, 3, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert {on_duty(grid, start + timedelta(hours=h)) for h in range(24 * 7)} == {grid_worker}


def test_questions_and_answers_read_in_words(client, report, resident, street_operator):
    """Not `size: medium` and not the hint 数字 on an English page."""
    case = report(category="road-damage", attributes={"size": "medium"})
    page = as_user(client, street_operator).get(f"{G}/cases/{case.pk}/").content.decode()
    assert re.search(r"<dt>How large is the damage\?</dt><dd data-answer>Up to one lane</dd>", page)
    assert "size: medium" not in page
    form = as_user(client, resident).get(f"{G}/report/").content.decode()
    assert "A number from 0 to 1000" in form and "数字" not in form


def test_the_queue_offers_areas_by_name(client, report, street_operator, street, community):
    case = report()
    client = as_user(client, street_operator)
    page = client.get(f"{G}/queue/").content.decode()
    options = dict(re.findall(r'<option value="(\d+)">\W*([^<]+)</option>',
                              page.split('name="area"', 1)[1].split("</select>", 1)[0]))
    assert options[street.code].strip() == (street.name_en or street.name)
    assert community.code in options and 'name="area" value=' not in page
    listed = client.get(f"{G}/queue/", {"area": community.code}).content.decode()
    assert case.tracking_no in listed
    detail = client.get(f"{G}/cases/{case.pk}/").content.decode()
    assert f"longitude {case.lon:.6f}, latitude {case.lat:.6f}" in detail


def test_a_demo_seeded_with_the_day_roster_only_gets_its_night_shift(grid, grid_worker):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from zhili.governance import demo
    from zhili.governance.models import DutyShift
    from zhili.governance.services.intake import on_duty

    DutyShift.objects.filter(grid=grid, start_time=time(22, 0)).delete()
    night = datetime(2027, 3, 1, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert on_duty(grid, night) != grid_worker  # the leader, the fallback
    demo.seed(seed=1, log=lambda *_: None)  # the demo cases exist: only the roster is topped up
    assert on_duty(grid, night) == grid_worker


def test_disputes_and_figures_filter_by_area_name_too(client, street_operator, street):
    client = as_user(client, street_operator)
    for path in (f"{G}/disputes/", f"{G}/figures/"):
        page = client.get(path).content.decode()
        assert '<select name="area">' in page and f'<option value="{street.code}">' in page, path
        assert 'name="area" value=' not in page, path
