"""What a new user does first, in real Chromium: log in, open the map, drill
down to a grid, switch the language."""

import pytest

from zhili.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_map_drill_down_and_language(browser_page):
    page = browser_page
    browser_login(page, "district_op")
    # Home: for an operator, the page an app declared `home` for (the one map).
    assert page.locator("h1").first.is_visible()

    page.goto("/geo/map/")
    info = page.locator("#area-info")
    info.wait_for()
    # The district operator's map starts at their district.
    page.wait_for_selector("#area-info[data-level=district]")
    for level in ("street", "community", "grid"):
        polygon = page.locator("#map path.leaflet-interactive").first
        polygon.wait_for()
        # A click event on the polygon itself: a mouse click at the centre of its
        # bounding box can land outside a concave polygon.
        polygon.dispatch_event("click")
        page.wait_for_selector(f"#area-info[data-level={level}]")
    assert "网格" in info.inner_text()

    # Back up one level with the breadcrumbs.
    page.locator(".breadcrumbs button").nth(-2).click()
    page.wait_for_selector("#area-info[data-level=community]")

    # Switch to English and back.
    page.click("button[data-lang=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("nav a[data-nav='geo:map']").inner_text() == "Map"
    page.click("button[data-lang=zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    assert page.locator("nav a[data-nav='geo:map']").inner_text() == "地图"
