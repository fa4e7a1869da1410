"""The street centre's one map in real Chromium: it loads, a case reported meanwhile
through the API appears without a reload, and one click dispatches it to the nearest
free grid worker.

The test server is WSGI (pytest-django's live server), so the page takes its
polling transport over the same event log; the SSE transport is tested under
uvicorn in test_stream.py.
"""

from __future__ import annotations

import json

import pytest

from zhili.cockpit.tests.conftest import spot
from zhili.conftest import browser_login, wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_case_reported_meanwhile_appears_and_one_click_dispatches_it(
        chromium, live_server, grid, grid_worker, resident, bearer, at_work, settings):
    import urllib.request

    from zhili.governance.models import Case

    settings.ZHILI_LIVE_POLL_SECONDS = 0.5
    at_work(grid_worker, grid)
    context = chromium.new_context(base_url=live_server.url, locale="en-US",
                                   viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        browser_login(page, "street_op1")
        page.goto("/")  # the operator's home page is the one map
        wait_for_js(page, "document.body.dataset.cockpitReady === '1' && "
                          "document.body.dataset.live === 'poll' && "
                          "document.body.dataset.layerCases !== undefined")
        shown_before = int(page.evaluate("document.body.dataset.layerCases"))
        assert page.locator("[data-figure=open]").inner_text().strip().isdigit()

        # A resident reports a case through the API while the map is open.
        lon, lat = spot(grid)
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/governance/cases", method="POST",
            data=json.dumps({"category": "streetlight-out", "description": "Lamp out by the gate",
                             "lon": lon, "lat": lat}).encode(),
            headers={"Content-Type": "application/json", **bearer(resident)})
        with urllib.request.urlopen(request) as response:
            assert response.status == 201
            tracking_no = json.loads(response.read())["tracking_no"]

        marker = f"path.case-{tracking_no}"
        wait_for_js(page, f"!!document.querySelector('{marker}')")
        assert int(page.evaluate("document.body.dataset.layerCases")) == shown_before + 1

        page.locator(marker).click(force=True)
        page.locator("#cockpit-detail button.dispatch").click()
        page.locator("#cockpit-detail .dispatch-result").wait_for()
        assert "worker1" in page.locator("#cockpit-detail .dispatch-result").inner_text()
        case = Case.objects.get(tracking_no=tracking_no)
        assert case.assignee_id == grid_worker.pk
        assert case.events.filter(kind="assigned", data__automatic=False).exists()
    finally:
        page.goto("about:blank")
        page.wait_for_timeout(300)
        context.close()
