"""The seed's loop in real Chromium, on a phone-sized screen.

A resident reports a sagging power line with a photo (tapping the pin on the
map); the grid worker accepts it — with the network gone, so the outbox keeps
it and sends it when the network returns — checks in and resolves it with a
photo on the phone page; the resident rates it; the street centre's figures
page, left open the whole time, updates itself (htmx polling) with the new
case and rating.
"""

from __future__ import annotations

import io
import re

import pytest
from django.utils import timezone

from zhili.conftest import browser_login, wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png_bytes(color=(30, 120, 200)) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (120, 90), color)
    ImageDraw.Draw(image).line((0, 10, 120, 60), fill=(20, 20, 20), width=4)  # the wire
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def clear_spot(grid) -> tuple[float, float]:
    """A point on the grid with no open power-line case near it (the demo seeds some)."""
    import shapely

    from zhili.governance.location import distance_m
    from zhili.governance.models import OPEN_STATUSES, Case

    shape = grid.shape
    x0, y0, x1, y1 = shape.bounds
    taken = list(Case.objects.filter(category__code="power-line-sagging",
                                     status__in=OPEN_STATUSES).values_list("lon", "lat"))
    for i in range(1, 10):
        for j in range(1, 10):
            x, y = x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * j / 10
            if shapely.contains_xy(shape, x, y) and all(
                    distance_m(x, y, lon, lat) > 150 for lon, lat in taken):
                return x, y
    pytest.fail("no free spot on the grid")


def quiet(*pages) -> None:
    """Leave the pages (their htmx polling and outbox timers stop) and let the live
    server finish any request in flight: on SQLite it shares the test's connection,
    and the teardown reseeds the database."""
    for page in pages:
        page.goto("about:blank")
    pages[0].wait_for_timeout(500)


def figure(page, name: str) -> str:
    return page.locator(f"[data-figure={name}]").inner_text().strip()


def test_report_accept_offline_resolve_rate_and_the_figures_update(browser_page, chromium,
                                                                   live_server):
    from zhili.geo.models import AreaNode
    from zhili.governance.models import Case

    grid = AreaNode.objects.get(code="500103001001001")
    lon, lat = clear_spot(grid)

    # The street centre opens its figures page and leaves it open.
    centre_context = chromium.new_context(base_url=live_server.url, locale="zh-CN",
                                          viewport={"width": 1200, "height": 900})
    centre = centre_context.new_page()
    centre.set_default_timeout(15_000)
    browser_login(centre, "street_op1")
    centre.goto("/governance/figures/")
    total_before = int(figure(centre, "total"))
    rated_before = int(figure(centre, "rated"))

    # 1. The resident reports, with a photo, tapping the pin on the map.
    page = browser_page
    browser_login(page, "resident1")
    page.goto("/governance/report/")
    page.select_option("#id_category", "power-line-sagging")
    page.locator("fieldset[data-category=power-line-sagging]").wait_for(state="visible")
    page.select_option("#attr-power-line-sagging-hazard", "low")
    page.fill("#id_description", "电线垂到二楼窗口，有火花的声音")
    wait_for_js(page, "document.getElementById('pick-map').zhiliMap !== undefined")
    point = page.evaluate(
        """([lat, lon]) => {
             const el = document.getElementById('pick-map');
             const p = el.zhiliMap.latLngToContainerPoint([lat, lon]);
             const box = el.getBoundingClientRect();
             return {x: box.left + p.x, y: box.top + p.y};
           }""", [lat, lon])
    page.mouse.click(point["x"], point["y"])
    placed_lat = float(page.input_value("input[name=lat]"))
    placed_lon = float(page.input_value("input[name=lon]"))
    assert abs(placed_lat - lat) < 0.0002 and abs(placed_lon - lon) < 0.0002
    page.set_input_files("#id_photos", files=[
        {"name": "wire.png", "mimeType": "image/png", "buffer": png_bytes()}])
    page.locator("#photo-preview img").wait_for()
    page.click("#report-form button[type=submit]")
    page.wait_for_url(re.compile(r"/governance/report/ZL\w+/done/"))
    tracking_no = page.locator("#tracking-no").inner_text().strip()
    case = Case.objects.get(tracking_no=tracking_no)
    assert case.channel == "resident" and case.photos.count() == 1
    assert case.grid == grid and case.duplicate_of_id is None
    assert case.attributes == {"hazard": "low"}

    # 2. The grid worker, on the phone: the task list, then the case.
    page.context.clear_cookies()
    browser_login(page, "worker1")
    page.goto("/governance/tasks/")
    page.locator(f"li[data-tracking={tracking_no}] a").click()
    page.wait_for_url(f"**/governance/cases/{case.pk}/")
    # Accept with no network: kept on the phone, sent when the network returns.
    page.context.set_offline(True)
    page.click("button[value=accept]")
    page.locator("#queued").wait_for(state="visible")
    page.locator("#outbox").wait_for(state="visible")
    case.refresh_from_db()
    assert case.status == "reported"
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for_js(page, "document.querySelector('#outbox [data-count]').textContent === '0'")
    case.refresh_from_db()
    assert case.status == "accepted" and case.assignee.username == "worker1"
    page.reload()
    # Check in on site with the browser's location.
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 10})
    page.click("button[value=arrive]")
    page.locator("#case-status[data-status=on_site]").wait_for()
    case.refresh_from_db()
    assert case.events.get(kind="arrived").data["distance_m"] < 20
    # Resolve with a photo of the result.
    page.fill("#id_resolve_note", "已重新架设，线路安全")
    page.set_input_files("#id_resolve_photos", files=[
        {"name": "fixed.png", "mimeType": "image/png", "buffer": png_bytes((40, 160, 60))}])
    page.click("button[value=resolve]")
    page.locator("#case-status[data-status=resolved]").wait_for()
    case.refresh_from_db()
    assert case.status == "resolved" and case.photos.count() == 2

    # 3. The resident rates the result.
    page.context.clear_cookies()
    browser_login(page, "resident1")
    page.goto(f"/governance/my/{tracking_no}/")
    page.check("input[name=rating][value='5']")
    page.fill("#id_comment", "当天就修好了，谢谢")
    page.click("#rate button[type=submit]")
    page.locator("#case-status[data-status=closed]").wait_for()
    case.refresh_from_db()
    assert case.rating == 5 and case.status == "closed"
    assert timezone.now() >= case.closed_at

    # 4. The street centre's page, never reloaded, shows the change (htmx polling).
    wait_for_js(
        centre, f"""Number(document.querySelector('[data-figure=total]').textContent) === {total_before + 1}
             && Number(document.querySelector('[data-figure=rated]').textContent) === {rated_before + 1}""",
        timeout=40_000)
    quiet(centre, page)
    centre_context.close()


def test_offline_report_is_kept_on_the_phone_and_sent_through_the_api(browser_page):
    """The report page opens from the service worker's cache with no network; the report
    waits in IndexedDB (photo included) and goes to POST /api/v1/governance/cases with its
    Idempotency-Key when the network returns."""
    from zhili.accounts.models import User
    from zhili.governance.models import Case

    page = browser_page
    browser_login(page, "resident1")
    page.goto("/governance/report/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    wait_for_js(page, "navigator.serviceWorker.controller !== null")
    page.reload()  # now through the worker, which keeps a copy of the page
    page.locator("#report-form").wait_for()

    page.context.set_offline(True)
    page.reload()  # no network: the kept page and the cached shell
    wait_for_js(page, "window.L !== undefined && window.ZhiliOutbox !== undefined")
    page.select_option("#id_category", "manhole-cover")
    page.fill("#id_description", "井盖没了，离线上报")
    page.set_input_files("#id_photos", files=[
        {"name": "hole.png", "mimeType": "image/png", "buffer": png_bytes((90, 90, 90))}])
    page.click("#report-form button[type=submit]")
    page.locator("#queued").wait_for(state="visible")
    wait_for_js(page, "document.querySelector('#outbox [data-count]').textContent === '1'")
    assert not Case.objects.filter(description="井盖没了，离线上报").exists()
    assert page.input_value("#id_description") == ""  # the form is ready for the next one

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for_js(page, "document.querySelector('#outbox [data-count]').textContent === '0'")
    page.locator("#outbox li.sent").wait_for()
    case = Case.objects.get(description="井盖没了，离线上报")
    resident = User.objects.get(username="resident1")
    assert case.reporter == resident and case.channel == "resident"
    assert case.photos.count() == 1
    assert case.intake_key and case.intake_scope == f"user:{resident.pk}"
    assert case.tracking_no in page.locator("#outbox li.sent").inner_text()
    quiet(page)
