"""Risk points on the one map in real Chromium: a district operator's map shows every
point of the district as clusters counted by the server, a click on a cluster zooms
in, and zoomed in the points themselves come, on a phone."""

from __future__ import annotations

import pytest

from zhili.conftest import browser_login, wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_districts_risk_points_come_clustered_and_a_click_zooms_in(browser_page, reseed_after,
                                                                     district, grid):
    from zhili.warning.models import RiskPoint
    from zhili.warning.services import risk_point_create

    for i in range(30):  # a village of points within a few hundred metres
        risk_point_create(actor=None, code=f"RP-VILLAGE-{i}", name=f"村{i}", category="landslide",
                          lon=grid.centre_lon + (i % 6) * 0.0004, lat=grid.centre_lat + (i // 6) * 0.0004)
    page = browser_page
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    expected = RiskPoint.objects.filter(grid__path__startswith=district.path).count()
    browser_login(page, "district_op")
    page.goto("/cockpit/")
    wait_for_js(page, "document.body.dataset.cockpitReady === '1'")
    # The reload after the area is fitted counts every point of the district.
    wait_for_js(page, f"document.body.dataset.totalRiskPoints === '{expected}'")
    clusters = page.locator(".cluster-marker.cluster-risk-points")
    assert clusters.count() > 0
    shown = sum(int(t.replace(",", "")) for t in clusters.all_inner_texts())
    singles = page.locator("path.marker-risk-points").count()
    assert shown + singles == expected
    assert not errors

    def zoom():
        view = page.evaluate("document.body.dataset.viewRiskPoints")
        return int(view.rsplit("zoom=", 1)[1])

    before = zoom()
    clusters.first.click()
    # Zoomed in: the layer is asked again for the smaller box, at the new zoom.
    wait_for_js(page, f"!/zoom={before}$/.test(document.body.dataset.viewRiskPoints)")
    assert zoom() > before
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    assert not errors
