"""The map page."""

from django.test import override_settings
from django.urls import reverse


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("geo:map"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_map_starts_at_the_home_area(client, grid_worker, grid):
    client.force_login(grid_worker)
    response = client.get(reverse("geo:map"))
    assert response.status_code == 200
    html = response.content.decode()
    for hook in ('id="map"', 'class="breadcrumbs"', 'id="area-info"', f'data-code="{grid.code}"',
                 'data-level="grid"', "leaflet/leaflet.js", "geo/map.js", "/jsi18n/"):
        assert hook in html
    config = response.context["config"]
    assert config["start"] == grid.code and config["api"] == "/api/v1/geo/"
    assert 'id="basemap-config"' in html and "geo/basemap.js" in html


def test_city_admin_starts_at_the_city(client, city_admin, city):
    client.force_login(city_admin)
    assert client.get(reverse("geo:map")).context["config"]["start"] == city.code


@override_settings(ZHILI_TILE_URL="https://tiles.example/{z}/{x}/{y}.png", ZHILI_TILE_CRS="gcj02")
def test_tile_settings_reach_the_page(client, street_operator):
    client.force_login(street_operator)
    html = client.get(reverse("geo:map")).content.decode()
    assert '"tiles": "https://tiles.example/{z}/{x}/{y}.png"' in html and '"crs": "gcj02"' in html


def test_user_without_geo_permission_is_refused(client, resident):
    client.force_login(resident)
    assert client.get(reverse("geo:map")).status_code == 403


def test_map_assets_are_served(client, db):
    for asset in ("geo/map.js", "geo/basemap.js", "geo/map.css", "leaflet/leaflet.js"):
        assert client.get(f"/static/{asset}").status_code == 200
