"""The emergency pages in real Chromium, on a desktop (English) and a phone (zh-Hans),
over the seeded demo city (its rescue circles are computed by the seed).

Rescue coverage: figures per district and street, the gap list paginated, each gap a
link to its point on the one map; scoped to the viewer. Incidents: open one from a
warning, a case and by hand; assign resources (arrival times shown), give tasks, add
notes, close with a summary; every form's bad input is a clear message and changes
nothing.
"""

from __future__ import annotations

import pytest

from zhili.conftest import browser_login, wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def desktop(chromium, live_server, reseed_after):
    context = chromium.new_context(base_url=live_server.url, locale="en-US", viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    yield page
    page.goto("about:blank")
    context.close()


def messages(page) -> str:
    return " ".join(page.locator("ul.messages li").all_inner_texts())


def fits_the_phone(page) -> bool:
    """Nothing wider than the screen but the tables' own scrolling boxes."""
    return page.evaluate("document.documentElement.scrollWidth") <= 390 + 1


# ------------------------------------------------------------------ rescue coverage


def test_coverage_figures_and_the_gap_list_paged_with_links_to_the_one_map(desktop,
                                                                           monkeypatch):
    from zhili.accounts.models import User
    from zhili.emergency import selectors, views

    page = desktop
    gaps = selectors.gap_list(actor=User.objects.get(username="district_op"))
    assert len(gaps) >= 2, "the demo city has gaps"
    monkeypatch.setattr(views, "GAP_PAGE_SIZE", 1)  # the live server runs in this process
    browser_login(page, "district_op")
    page.goto("/emergency/")
    rows = page.locator("table.coverage tbody tr")
    assert page.locator("table.coverage tr.level-district").count() == 1
    assert page.locator("table.coverage tr.level-street").count() >= 2
    assert "Yuzhong" in rows.first.inner_text() and "%" in rows.first.inner_text()
    # One gap a page; the pager walks them.
    assert page.locator("table.gaps tbody tr").count() == 1
    assert page.locator(".pager").inner_text().strip().startswith("← ") is False
    first = page.locator("table.gaps tbody tr").get_attribute("data-code")
    page.click(".pager a[rel=next]")
    page.wait_for_url("**page=2*")
    second = page.locator("table.gaps tbody tr").get_attribute("data-code")
    assert second != first and f"2 / {len(gaps)}" in page.locator(".pager").inner_text()
    # The gap's name opens the one map on that point.
    page.click("table.gaps a.on-map")
    page.wait_for_url("**/cockpit/?at=*")
    wait_for_js(page, "document.body.dataset.cockpitReady === '1' && !!document.body.dataset.focus")
    point = next(g.risk_point for g in gaps if g.risk_point.code == second)
    lon, lat = map(float, page.evaluate("document.body.dataset.focus").split(","))
    assert abs(lon - point.lon) < 1e-5 and abs(lat - point.lat) < 1e-5
    assert page.locator(".focus-marker").count() == 1
    assert page.errors == []


def test_coverage_on_a_phone_in_chinese_is_scoped_and_fits(browser_page):
    page = browser_page
    browser_login(page, "street_op1")
    page.goto("/emergency/")
    assert page.locator("h1").inner_text() == "救援圈"
    areas = page.locator("table.coverage tbody tr td:first-child").all_inner_texts()
    # A street operator sees their own street only; the district row sums that street.
    assert [a.strip() for a in areas] == ["渝中区", "渝中第1街道"]
    points = page.locator("table.coverage tbody tr td:nth-child(2)").all_inner_texts()
    assert points[0] == points[1]
    assert "航空救援" in page.locator("table.coverage thead").inner_text()
    assert page.locator("#gaps").count() == 1
    assert fits_the_phone(page)


# ------------------------------------------------------------------ incidents


def test_incident_by_hand_bad_input_then_assign_task_note_and_close(desktop):
    from zhili.emergency.models import Incident, IncidentTask, RescueResource
    from zhili.geo.models import AreaNode

    page = desktop
    grid = AreaNode.objects.get(code="500103001001001")
    before = Incident.objects.count()
    browser_login(page, "district_op")
    page.goto("/emergency/incidents/")
    assert page.locator(".incident-row").count() >= 1  # the demo's incident

    # Nothing given: the title is named, nothing written.
    page.click("#open button[type=submit]")
    page.wait_for_selector("ul.messages li.error")
    assert "Title: is required" in messages(page)
    # A point outside the city.
    page.fill("input[name=title]", "Chemical plant fire")
    page.select_option("select[name=severity]", "2")
    page.fill("input[name=lon]", "120.5")
    page.fill("input[name=lat]", "30.2")
    page.click("#open button[type=submit]")
    page.wait_for_selector("ul.messages li.error")
    assert "No grid of the city holds (120.500000, 30.200000)" in messages(page)
    # What was typed is still there.
    assert page.input_value("input[name=title]") == "Chemical plant fire"
    assert page.input_value("select[name=severity]") == "2"
    page.fill("input[name=lon]", "abc")
    page.fill("input[name=lat]", str(grid.centre_lat))
    page.click("#open button[type=submit]")
    page.wait_for_selector("ul.messages li.error")
    assert "Longitude: must be a number from -180 to 180" in messages(page)
    assert Incident.objects.count() == before

    # By hand, at the grid's centre.
    page.fill("input[name=lon]", str(grid.centre_lon))
    page.fill("input[name=lat]", str(grid.centre_lat))
    page.click("#open button[type=submit]")
    page.wait_for_url("**/emergency/incidents/INC-*/")
    incident = Incident.objects.get(title="Chemical plant fire")
    assert f"Incident {incident.number} opened." in messages(page)
    assert page.locator("h1").inner_text() == "Chemical plant fire"
    assert "II major" in page.locator(".badge").first.inner_text()

    # Assign the nearest available: its arrival time is shown.
    suggestion = page.locator("ul.suggestions li").first
    assert " min" in suggestion.inner_text()
    code = suggestion.locator("input[name=resource]").get_attribute("value")
    suggestion.locator("button").click()
    page.wait_for_selector("tr.assignment")
    row = page.locator("tr.assignment").first
    assert code in row.inner_text() and row.locator("td").nth(2).inner_text().strip().isdigit()
    assert RescueResource.objects.get(code=code).availability == "busy"

    # A task naming neither a department nor a resource: refused, nothing written.
    page.fill("input[name=what]", "Close the road")
    page.click("form[action$='/task'] button[type=submit]")
    page.wait_for_selector("ul.messages li.error")
    assert "Department or resource: name a department or a resource" in messages(page)
    assert not IncidentTask.objects.filter(incident=incident).exists()
    assert page.input_value("input[name=what]") == "Close the road"
    page.fill("input[name=task_resource]", code)
    page.fill("input[name=due]", "2030-01-01T10:00")
    page.click("form[action$='/task'] button[type=submit]")
    page.wait_for_selector("li.task-open")
    assert "Close the road" in page.locator("li.task-open").inner_text()

    page.fill("textarea[name=text]", "Fire under control on the east side")
    page.click("form[action$='/note'] button[type=submit]")
    page.wait_for_selector("li.event-note")
    assert "Fire under control" in page.locator("li.event-note").inner_text()

    page.fill("textarea[name=summary]", "Put out; two injured taken to hospital.")
    page.click("form[action$='/close'] button[type=submit]")
    page.wait_for_selector("li.event-closed")
    assert "closed" in page.locator("p:has(.badge)").inner_text()
    assert page.locator("form[action$='/close']").count() == 0
    assert RescueResource.objects.get(code=code).availability == "available"
    # The board's closed list has it; the one map link is there.
    page.goto("/emergency/incidents/?status=closed")
    assert incident.number in page.locator("section.incident-group").inner_text()
    assert page.errors == []


def test_incidents_from_a_warning_and_a_case_on_a_phone_in_chinese(browser_page):
    from zhili.emergency.models import Incident
    from zhili.governance.models import OPEN_STATUSES, Case
    from zhili.warning.models import Warning

    page = browser_page
    taken = set(Incident.objects.exclude(warning=None).values_list("warning_id", flat=True))
    warning = (Warning.objects.filter(cleared_at=None, risk_point__area_path__startswith="50.500103")
               .exclude(pk__in=taken).order_by("pk").first())
    if warning is None:
        warning = Warning.objects.filter(cleared_at=None).exclude(pk__in=taken).first()
    case = Case.objects.filter(status__in=OPEN_STATUSES,
                               area_path__startswith=warning.risk_point.area_path[:9]).first()
    browser_login(page, "district_op")

    # A warning that does not exist: named, nothing written.
    before = Incident.objects.count()
    page.goto("/emergency/incidents/?warning=YJ-NOPE")
    page.click("#open button[type=submit]")
    page.wait_for_selector("ul.messages li.error")
    assert Incident.objects.count() == before
    # Both a warning and a case: refused.
    page.fill("input[name=warning]", warning.number)
    page.fill("input[name=case]", case.tracking_no)
    page.click("#open button[type=submit]")
    page.wait_for_selector("ul.messages li.error")
    assert "预警" in messages(page) and Incident.objects.count() == before

    # From the warning (prefilled by a link): its point and level.
    page.goto(f"/emergency/incidents/?warning={warning.number}")
    assert page.input_value("input[name=warning]") == warning.number
    page.click("#open button[type=submit]")
    page.wait_for_url("**/emergency/incidents/INC-*/")
    assert warning.number in page.locator("dl.facts").inner_text()
    assert "由预警生成" in page.locator("p:has(.badge)").inner_text()
    assert page.locator("a.on-map").count() == 1
    assert fits_the_phone(page)
    page.locator("ul.suggestions li button").first.click()
    page.wait_for_selector("tr.assignment")
    assert page.locator("tr.assignment td").nth(1).inner_text() in ("公路", "步行", "空中")

    # From the case.
    page.goto(f"/emergency/incidents/?case={case.tracking_no}")
    page.click("#open button[type=submit]")
    page.wait_for_url("**/emergency/incidents/INC-*/")
    assert case.tracking_no in page.locator("dl.facts").inner_text()
    assert "由案件生成" in page.locator("p:has(.badge)").inner_text()
    assert page.locator("h2").first.inner_text() == "救援力量"
    assert fits_the_phone(page)
    # The board lists both, by severity, and fits the phone.
    page.goto("/emergency/incidents/")
    assert page.locator(".incident-row").count() >= 3
    assert fits_the_phone(page)
