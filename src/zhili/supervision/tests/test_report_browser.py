"""The report archive in Debian's Chromium, phone-sized, in Chinese: filter, open, subscribe."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, username: str) -> None:
    from zhili.core.seeding import DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form:has(#id_password) button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def test_archive_filter_open_and_subscribe(browser_page):
    from zhili.geo.models import AreaNode
    from zhili.supervision import periods as P
    from zhili.supervision.models import ReportSubscription
    from zhili.supervision.reports.pipeline import report_generate, series_for

    street = AreaNode.objects.get(code="500103001000")
    series = series_for("grid_weekly", street)
    report_generate(series=series, period_start=P.last_complete("week"))
    report = series.reports.get()

    page = browser_page
    _login(page, "street_op1")
    page.goto("/supervision/reports/")
    assert page.locator(f"[data-report='{report.pk}']").count() == 1
    page.select_option("select[name=kind]", "dispute_monthly")
    page.click("form.filters:not(.regenerate) button[type=submit]")
    page.wait_for_url(lambda url: "kind=dispute_monthly" in url)
    assert page.locator(f"[data-report='{report.pk}']").count() == 0
    page.goto("/supervision/reports/?kind=grid_weekly")
    page.click(f"[data-report='{report.pk}'] td a")
    page.wait_for_selector("article.report h1")
    assert page.inner_text("article.report h1") == report.data["title"]["zh"]  # zh-CN browser
    assert page.locator("article.report svg").count() >= 1  # the chart, inline SVG
    # The page fits a phone: nothing wider than the viewport but scrollable tables.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400
    page.click(".report-files a[href*='/series/']")
    page.click("button.subscribe")
    page.wait_for_selector("button.unsubscribe")
    assert ReportSubscription.objects.filter(series=series, user__username="street_op1").exists()
    me = ReportSubscription.objects.get(series=series).user
    assert page.inner_text(".readers") == (me.display_name or me.username)
