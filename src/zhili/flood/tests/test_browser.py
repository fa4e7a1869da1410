"""In Chromium, on a phone: a district operator starts a forecast from the model's page,
watches it finish (htmx polling, then a reload) and sees flooded nodes on the map."""

import pytest

from zhili.conftest import browser_login, wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_forecast_run_from_the_form_to_the_map(browser_page, live_server):
    import threading

    from zhili.flood.models import DrainageModel, FloodRun
    from zhili.flood.services import flood_run_execute
    from zhili.flood.tests.conftest import series_csv

    page = browser_page
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    model = DrainageModel.objects.get(synthetic=True, name__contains="渝中区")
    browser_login(page, "district_op")
    page.goto(f"/flood/m/{model.pk}/")
    page.fill("#f-rainfall", series_csv(100))
    page.click(".run-form button[type=submit]")
    page.wait_for_url("**/flood/r/*/")
    run = FloodRun.objects.latest("pk")
    assert page.locator("#run-status").get_attribute("data-status") == "queued"
    # The worker's long lane, here a thread: the page polls and reloads when it is done.
    def work():
        from django.db import connection

        try:
            flood_run_execute(run_id=run.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(60)
    # htmx's HX-Refresh reloads the page once the run is done; wait across the reload.
    page.wait_for_selector("#run-status[data-status=done]", timeout=30_000)
    page.wait_for_load_state("load")
    wait_for_js(page, "document.body.dataset.floodMap === 'ready'", timeout=30_000)
    assert page.locator("#run-status").get_attribute("data-status") == "done"
    assert page.locator("#flood-map .node-flooded").count() > 0
    assert page.locator("table.flooded tbody tr").count() > 0
    assert page.locator("svg.flood-chart polyline.flood").count() == 1
    # Nothing wider than the phone's screen but the tables' own scrolling boxes.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    assert errors == []
