"""The flood pages in Chromium on a desktop, in English (the phone run is test_browser.py):
the list, the run form refusing a series with a gap and one with a negative value (the
row named, what was typed kept, nothing queued), a finished run's map, chart and nodes
each linked to the one map, and a failed run showing SWMM's ERROR … at line … lines."""

import pytest

from zhili.conftest import browser_login, wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desktop(chromium, live_server, reseed_after):
    context = chromium.new_context(base_url=live_server.url, locale="en-US",
                                   viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    yield page
    page.goto("about:blank")
    context.close()


def test_bad_series_are_refused_then_a_run_shows_its_map_and_a_failed_one_its_errors(desktop):
    from zhili.accounts.models import User
    from zhili.flood import services
    from zhili.flood.models import DrainageModel, FloodRun
    from zhili.flood.tests.conftest import series_csv

    page = desktop
    model = DrainageModel.objects.get(synthetic=True, name__contains="渝中区")
    operator = User.objects.get(username="district_op")
    browser_login(page, "district_op")
    page.goto("/flood/")
    assert model.name in page.locator("table.flood-models").inner_text()
    page.click(f"table.flood-models a[href$='/m/{model.pk}/']")
    page.wait_for_selector(".run-form")
    queued = FloodRun.objects.count()

    gap = "2026-06-01 08:00,10\n2026-06-01 08:10,20\n2026-06-01 08:40,30\n"
    page.fill("#f-rainfall", gap)
    page.click(".run-form button[type=submit]")
    page.wait_for_selector("[data-error-for=rainfall]")
    assert "row 3" in page.locator("[data-error-for=rainfall]").inner_text()
    assert page.input_value("#f-rainfall").strip() == gap.strip()
    page.fill("#f-rainfall", "2026-06-01 08:00,10\n2026-06-01 08:10,-5\n")
    page.click(".run-form button[type=submit]")
    page.wait_for_selector("[data-error-for=rainfall]")
    error = page.locator("[data-error-for=rainfall]").inner_text()
    assert "row 2" in error and "-5" in error
    assert FloodRun.objects.count() == queued

    # A finished run (the long lane's work done here): map, chart, nodes on the one map.
    run = services.flood_run_execute(run_id=services.flood_run_request(
        actor=operator, model=model, rainfall_csv=series_csv(90)).pk)
    assert run.status == FloodRun.Status.DONE
    page.goto(f"/flood/r/{run.pk}/")
    wait_for_js(page, "document.body.dataset.floodMap === 'ready'", timeout=30_000)
    assert page.locator("#flood-map .node-flooded").count() == run.results["flooded_nodes"] > 0
    assert page.locator("svg.flood-chart rect.rain").count() > 0
    link = page.locator("table.flooded a.on-map").first
    assert "/cockpit/?at=" in link.get_attribute("href")
    assert page.locator("a[href='/cockpit/']").count() >= 1  # the layer's note

    # A failed run: the model's text damaged after its check; the engine's lines shown.
    failing = services.flood_run_request(actor=operator, model=model, rainfall_csv=series_csv(90))
    DrainageModel.objects.filter(pk=model.pk).update(
        inp=model.inp.replace("\nJ2 ", "\nJ2 abc ", 1))
    failed = services.flood_run_execute(run_id=failing.pk)
    assert failed.status == FloodRun.Status.FAILED
    page.goto(f"/flood/r/{failed.pk}/")
    assert page.locator("#run-status").get_attribute("data-status") == "failed"
    lines = page.locator(".run-error .engine-errors li").all_inner_texts()
    assert any(line.startswith("ERROR 211") and "at line" in line for line in lines), lines
    page.goto("/flood/")
    assert page.locator(f"table.flood-runs tr[data-status=failed] a[href$='/r/{failed.pk}/']") \
        .count() == 1
    assert page.errors == []
