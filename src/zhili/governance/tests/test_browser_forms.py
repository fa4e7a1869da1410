"""Forms as a grid worker and the street centre meet them, in Chromium on a phone screen.

A refused step shows its error beside the field, inside the form that stays open, with
what was typed and the photo chosen still there; a step that went through says so on
the page it leads to; "Now with" follows the case up the ladder and to the departments;
the reporter's timeline keeps the staff's reasons and instructions to themselves.
"""

from __future__ import annotations

import pytest

from zhili.conftest import browser_login
from zhili.governance.tests.test_browser_governance import png_bytes, quiet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_refused_steps_keep_the_form_and_done_steps_confirm(browser_page, tmp_path):
    from zhili.accounts.models import User
    from zhili.geo.models import AreaNode
    from zhili.governance.services import case_report

    grid = AreaNode.objects.get(code="500103001001001")
    resident = User.objects.get(username="resident1")
    case, _ = case_report(actor=resident, category="garbage", description="楼下垃圾堆满了",
                          lon=grid.centre_lon, lat=grid.centre_lat, attributes={"bags": 3})
    photo = tmp_path / "after.png"
    photo.write_bytes(png_bytes())
    page = browser_page
    browser_login(page, "worker1")
    page.goto(f"/governance/cases/{case.pk}/")

    # Accept: sent by the page script, confirmed on the page it opens.
    with page.expect_navigation():  # the page it opens, not the one still showing
        page.click("#actions button[value=accept]")
    page.wait_for_selector(".messages li.success")

    # Resolve with a blank note and a photo: refused beside the note, the photo still chosen.
    page.set_input_files("#id_resolve_photos", str(photo))
    page.fill("#id_resolve_note", "   ")
    page.click("#resolve button[value=resolve]")
    page.wait_for_selector("#resolve .field-errors[data-error-for=note]")
    assert page.eval_on_selector("#id_resolve_photos", "e => e.files.length") == 1
    assert page.get_attribute("#resolve", "open") is not None

    # Escalate: confirmed, and "Now with" names the level, not the grid worker.
    page.click("#escalate summary")
    page.fill("#id_escalate_reason", "需要吊车，内部原因")
    with page.expect_navigation():  # the page it opens, not the one still showing
        page.click("#escalate button[value=escalate]")
    page.wait_for_selector(".messages li.success")
    assert page.get_attribute("#holder", "data-holder") == "level"

    # The street centre dispatches; a bad due time is refused beside the field, text kept.
    page.context.clear_cookies()
    browser_login(page, "street_op1")
    page.goto(f"/governance/cases/{case.pk}/")
    page.click("#dispatch summary")
    page.fill("#id_instructions", "请带清运车，给部门的指示")
    page.fill("#id_due_hours", "99999")
    page.eval_on_selector("#dispatch form", "f => { f.noValidate = true; }")  # past the browser
    page.click("#dispatch button[value=dispatch]")
    page.wait_for_selector("#dispatch .field-errors[data-error-for=due_hours]")
    assert page.get_attribute("#dispatch", "open") is not None
    assert page.input_value("#id_instructions") == "请带清运车，给部门的指示"
    page.fill("#id_due_hours", "4")
    with page.expect_navigation():  # the page it opens, not the one still showing
        page.click("#dispatch button[value=dispatch]")
    page.wait_for_selector(".messages li.success")
    assert page.get_attribute("#holder", "data-holder") == "departments"

    # The reporter sees the steps, not the reasons and instructions meant for staff.
    page.context.clear_cookies()
    browser_login(page, "resident1")
    page.goto(f"/governance/my/{case.tracking_no}/")
    page.wait_for_selector("[data-kind=escalated]")
    text = page.inner_text("main")
    assert "内部原因" not in text and "给部门的指示" not in text
    page.screenshot(path=str(tmp_path / "my-case.png"), full_page=True)
    quiet(page)
