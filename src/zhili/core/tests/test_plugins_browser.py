"""In real Chromium: a plugged-in app's map layer is offered on the map and draws."""

import pytest

from zhili.conftest import browser_login
from zhili.core.tests.test_plugins import lamps_installed  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("lamps_installed")
def test_the_street_lamps_layer_is_offered_and_drawn(browser_page):
    page = browser_page
    browser_login(page, "street_op1")
    assert page.locator("nav a[data-nav='lamps:list']").count() == 1
    page.goto("/geo/map/")
    page.wait_for_selector("body[data-map-ready]")
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="Street lamps")
    toggle.locator("input").check()
    page.wait_for_selector("body[data-layer-lamps=ready]")
    assert page.locator(".leaflet-marker-icon").count() == 1
