"""In real Chromium: each role's menu holds only pages that open for it."""

import pytest

from zhili.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["resident1", "worker1", "street_op1", "power_officer", "responsible1", "commander", "admin"]


def test_every_menu_item_opens_for_its_role(browser_page):
    page = browser_page
    refused, menus = [], {}
    for username in ROLES:
        browser_login(page, username)
        links = page.locator("nav.nav a").evaluate_all(
            "links => links.map(a => [a.dataset.nav, a.getAttribute('href')])")
        menus[username] = [name for name, _href in links]
        for name, href in links:
            response = page.goto(href)
            if response.status != 200:
                refused.append((username, name, response.status))
        page.context.clear_cookies()
    assert refused == []
    assert "api-1.0.0:openapi-view" not in menus["resident1"]
    assert "bundles:inbox" not in menus["resident1"]
    assert "bundles:inbox" in menus["power_officer"]
    assert {"governance:dispute_list", "admin:index"} <= set(menus["admin"])
