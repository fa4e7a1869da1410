"""The base map in Chromium on a closed network: drawn tiles, not a grey box; GCJ-02 sits right."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from zhili.conftest import browser_login, wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pixels of a drawn base tile that are neither blank nor the land colour (#f4f1ea).
DRAWN_PIXELS = """() => {
  let drawn = 0; const colours = new Set();
  document.querySelectorAll('canvas.zhili-base-tile').forEach((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0 || (d[i] === 244 && d[i + 1] === 241 && d[i + 2] === 234)) continue;
      drawn += 1; colours.add((d[i] >> 4) + ',' + (d[i + 1] >> 4) + ',' + (d[i + 2] >> 4));
    }
  });
  return {drawn: drawn, colours: colours.size};
}"""


def closed_network(page, live_server):
    """Refuse every request to another host; collect CSP violations."""
    local = urlsplit(live_server.url).netloc
    outside, violations = [], []

    def guard(route):
        if urlsplit(route.request.url).netloc != local:
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    return outside, violations


def test_report_map_draws_the_base_and_with_gcj02_tiles_nothing_sits_off(
        browser_page, live_server, settings, tmp_path):
    """One test, two settings: each browser test costs a reseed of the city afterwards."""
    page = browser_page
    outside, violations = closed_network(page, live_server)
    browser_login(page, "resident1")
    page.goto("/governance/report/")
    wait_for_js(page, "Number(document.body.dataset.basemapTiles || 0) >= 2")
    assert int(page.evaluate("document.body.dataset.basemapFeatures")) > 10
    page.wait_for_timeout(300)  # the last tiles of the view
    drawn = page.evaluate(DRAWN_PIXELS)
    assert drawn["drawn"] > 2000 and drawn["colours"] >= 4, drawn  # roads, lines, text
    attribution = page.locator("#pick-map .leaflet-control-attribution").inner_text()
    config = page.evaluate("JSON.parse(document.getElementById('basemap-config').textContent)")
    assert config["baseAttribution"] in attribution
    assert outside == [] and violations == []
    gcj02_marker_and_tap(page, settings, tmp_path)
    assert outside == [] and violations == []


def gcj02_marker_and_tap(page, settings, tmp_path):
    """With AMap-style (GCJ-02) tiles from an archive: the pin and a tap sit right."""
    from zhili.accounts.models import User
    from zhili.geo.coords import gcj02_to_wgs84, wgs84_to_gcj02
    from zhili.geo.tests.tiles_archives import mbtiles, png

    settings.ZHILI_TILES_FILE = mbtiles(tmp_path / "amap.mbtiles", {(0, 0, 0): png(200, 220, 240)})
    settings.ZHILI_TILE_CRS = "gcj02"
    home = User.objects.get(username="resident1").home_area()
    page.goto("/governance/report/")
    wait_for_js(page, "document.getElementById('pick-map').zhiliMap !== undefined")
    wait_for_js(page, "Number(document.body.dataset.basemapTiles || 0) >= 1")
    assert page.locator("#pick-map img.leaflet-tile-loaded").count() >= 1  # the archive's tile

    # The pin starts at the home area's centre, shifted onto the GCJ-02 tiles.
    marker = page.evaluate("""() => {
      let at = null;
      document.getElementById('pick-map').zhiliMap.eachLayer((l) => {
        if (l instanceof L.Marker) { at = l.getLatLng(); }
      });
      return at;
    }""")
    glon, glat = wgs84_to_gcj02(home.centre_lon, home.centre_lat)
    assert marker["lng"] == pytest.approx(glon, abs=1e-6)
    assert marker["lat"] == pytest.approx(glat, abs=1e-6)

    # A tap where the map shows a point is sent as that point in WGS84.
    wlon, wlat = home.centre_lon + 0.0003, home.centre_lat + 0.0002
    tap = page.evaluate("""([lon, lat]) => {
      const el = document.getElementById('pick-map'), map = el.zhiliMap;
      map.setView(ZhiliBasemap.toDisplay(lon, lat), 18, {animate: false});
      const p = map.latLngToContainerPoint(ZhiliBasemap.toDisplay(lon, lat));
      const box = el.getBoundingClientRect();
      return {x: box.left + p.x, y: box.top + p.y};
    }""", [wlon, wlat])
    page.mouse.click(tap["x"], tap["y"])
    sent_lon, sent_lat = float(page.input_value("input[name=lon]")), float(page.input_value("input[name=lat]"))
    assert page.input_value("input[name=crs]") == "wgs84"
    assert abs(sent_lon - wlon) < 1e-5 and abs(sent_lat - wlat) < 1e-5  # ~1 m: a pixel at z18
    # The browser's inverse undoes its forward transform to well under a metre.
    back = page.evaluate("([lon, lat]) => ZhiliBasemap.toWgs.apply(null, ZhiliBasemap.toGcj(lon, lat))",
                         [wlon, wlat])
    assert back == pytest.approx([wlon, wlat], abs=1e-8)
    assert gcj02_to_wgs84(*wgs84_to_gcj02(wlon, wlat)) == pytest.approx((wlon, wlat), abs=1e-8)
    # The base tiles come shifted too.
    crs = page.evaluate("""() => fetch(L.Util.template(ZhiliBasemap.config.base, {z: 16, x: 0, y: 0}))
      .then((r) => r.json()).then((fc) => fc.crs)""")
    assert crs == "gcj02"
