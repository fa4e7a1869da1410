"""An app plugs in by its own declarations: a tiny app (tests/plugin_app, street
lamps) installed only here brings its permission, menu item, page, demo step and
map layer, with no line of core or accounts naming it."""

from __future__ import annotations

import importlib
import json

import pytest
from django.test import override_settings
from django.urls import clear_url_caches

from zhili.core.plugins import DemoStep, _ordered_steps, registry
from zhili.core.seeding import demo_logins, seed_demo

PLUGIN = "zhili.core.tests.plugin_app"


def _reload_urls():
    import zhili.urls

    clear_url_caches()
    importlib.reload(zhili.urls)


@pytest.fixture
def lamps_installed(settings):
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, PLUGIN]):
        _reload_urls()
        yield
    _reload_urls()


def test_the_apps_permission_is_held_by_the_role_it_grants(lamps_installed, street_operator,
                                                           grid_worker, street):
    assert "lamps.view_lamp" in registry().permissions
    assert street_operator.scope("lamps.view_lamp").covers(street.path)
    assert grid_worker.scope("lamps.view_lamp").empty
    assert "lamps.view_lamp" in street_operator.permissions()


def test_its_menu_item_shows_to_holders_only_and_opens(lamps_installed, client, street_operator,
                                                       grid_worker):
    client.force_login(street_operator)
    home = client.get("/").content.decode()
    assert 'data-nav="lamps:list"' in home
    page = client.get("/lamps/")
    assert page.status_code == 200
    assert "渝中第1街道" in page.content.decode()

    client.force_login(grid_worker)
    assert 'data-nav="lamps:list"' not in client.get("/").content.decode()
    assert client.get("/lamps/").status_code == 403


def test_its_map_layer_is_offered_to_holders_and_answers_geojson(lamps_installed, client,
                                                                 street_operator, grid_worker):
    client.force_login(street_operator)
    page = client.get("/geo/map/").content.decode()
    config = json.loads(page.split('id="map-config" type="application/json">')[1].split("</script>")[0])
    lamps = {"name": "lamps", "label": "Street lamps", "url": "/lamps/lamps.geojson"}
    assert lamps in config["layers"]  # beside the real apps' layers
    collection = client.get(lamps["url"]).json()
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in collection["features"]] == ["500103001000"]

    client.force_login(grid_worker)
    page = client.get("/geo/map/").content.decode()
    config = json.loads(page.split('id="map-config" type="application/json">')[1].split("</script>")[0])
    assert "lamps" not in [layer["name"] for layer in config["layers"]]


def test_its_demo_step_runs_after_what_it_needs_and_names_its_login(lamps_installed, db):
    names = [step.name for step in registry().demo_steps]
    assert names.index("lamps") > names.index("accounts")
    lines: list[str] = []
    seed_demo(seed=1, log=lines.append)
    assert "· lamps" in lines and "  lamp keeper ready" in lines
    from zhili.accounts.models import User

    keeper = User.objects.get(username="lamp_keeper")
    assert not keeper.scope("lamps.view_lamp").empty
    assert "lamp_keeper" in [username for username, *_ in demo_logins()]


def test_without_the_app_nothing_of_it_remains(client, street_operator):
    assert "lamps.view_lamp" not in registry().permissions
    assert street_operator.scope("lamps.view_lamp").empty
    client.force_login(street_operator)
    assert 'data-nav="lamps:list"' not in client.get("/").content.decode()
    assert client.get("/lamps/").status_code == 404


def test_demo_steps_run_dependencies_first_and_report_unknown_ones():
    problems: list[str] = []
    steps = [DemoStep("b", "x.seed", after=("a",)), DemoStep("a", "x.seed"),
             DemoStep("c", "x.seed", after=("missing",))]
    assert [s.name for s in _ordered_steps(steps, problems)] == ["a", "b", "c"]
    assert problems == ["demo step 'c' runs after unknown 'missing'"]


def test_the_installed_apps_declare_consistently():
    from django.core.management import call_command

    assert registry().problems == ()
    call_command("check")
