"""The dashboard in Chromium on a phone: headline KPIs with their sparklines, no CSP
violation, no sideways scrolling, down to a street, then in English."""

from __future__ import annotations

import pytest

from zhili.conftest import wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, username: str) -> None:
    from zhili.core.seeding import DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form:has(#id_password) button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def test_dashboard_on_a_phone(browser_page):
    page = browser_page
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    _login(page, "district_op")
    page.goto("/supervision/?period=month")
    page.wait_for_selector("#kpi-headline [data-kpi='governance.cases']")
    assert page.locator("#kpi-headline .kpi").count() >= 6
    cases = page.locator("#kpi-headline [data-kpi='governance.cases'] [data-value]").inner_text()
    assert cases.replace(",", "").isdigit()
    # Some headline KPI has a trend drawn (the demo spreads its cases over months).
    page.goto("/supervision/?period=day")
    wait_for_js(page, "document.querySelectorAll('#kpi-headline svg.spark polyline').length > 0")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # Down to a street of the district.
    with page.expect_navigation():
        page.locator(".area-links a").first.click()
    assert "area=500103" in page.url
    page.wait_for_selector("[data-kpi='supervision.rescue_coverage']")
    # English.
    with page.expect_navigation():
        page.click("button[data-lang=en]")
    page.wait_for_selector("text=Rescue-circle coverage")
    assert page.locator("[data-kpi='supervision.rescue_coverage']").inner_text().strip()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p]
