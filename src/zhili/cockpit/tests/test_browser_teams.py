"""The one-click team dispatch in real Chromium: a commander opens the one map on an
incident, clicks it, dispatches the nearest free team, reads which team and how long,
and the team's accounts have their message; a second click (already dispatched) and a
warning with no team free are clear messages on the map, on a desktop and on a phone."""

from __future__ import annotations

import pytest

from zhili.cockpit.tests.test_teams import team
from zhili.conftest import browser_login, wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open(chromium, live_server, *, locale, viewport):
    context = chromium.new_context(base_url=live_server.url, locale=locale, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def _map_at(page, lon, lat, layer):
    page.goto(f"/cockpit/?at={lon},{lat}")
    wait_for_js(page, "document.body.dataset.cockpitReady === '1' && "
                      f"document.body.dataset.{layer} !== undefined")


def test_a_commander_dispatches_the_nearest_team_to_an_incident_and_the_team_is_told(
        chromium, live_server, reseed_after, grid, commander, only_our_teams):
    from zhili.accounts.models import User
    from zhili.emergency import services
    from zhili.emergency.incidents import incident_open
    from zhili.emergency.models import IncidentAssignment, RescueResource
    from zhili.notifications.models import Delivery

    incident = incident_open(actor=commander, title="Warehouse fire", severity="II",
                             lon=grid.centre_lon, lat=grid.centre_lat)
    near = team(grid, "T-BROWSER")
    leader = User.objects.create_user(username="team_leader_b", password="x")
    services.resource_members_set(actor=commander, resource=near, users=[leader])

    context, page, errors = _open(chromium, live_server, locale="en-US",
                                  viewport={"width": 1280, "height": 800})
    try:
        browser_login(page, "commander")
        _map_at(page, incident.lon, incident.lat, "layerIncidents")
        marker = f"path.incident-{incident.number}"
        wait_for_js(page, f"!!document.querySelector('{marker}')")
        page.locator(marker).dispatch_event("click")  # markers may overlap
        page.locator("#cockpit-detail button.dispatch-team").click()
        result = page.locator("#cockpit-detail .dispatch-result")
        result.wait_for()
        text = result.inner_text()
        assignment = IncidentAssignment.objects.get(incident=incident)
        minutes = max(1, round(assignment.eta_seconds / 60))
        assert near.name in text and incident.number in text and f"{minutes} min" in text
        assert page.locator("#cockpit-detail .dispatch-notified").get_attribute(
            "data-notified") == "2"
        assert page.locator(".team-route").count() == 1
        assert RescueResource.objects.get(code="T-BROWSER").availability == "busy"
        told = Delivery.objects.filter(user=leader, message__kind="incident.team_dispatched")
        assert sorted(told.values_list("channel", flat=True)) == ["inapp", "sms"]
        assert incident.number in told.first().message.title

        # Clicked again while the team is on its way: a clear message, nothing sent twice.
        page.locator(marker).dispatch_event("click")  # markers may overlap
        page.locator("#cockpit-detail button.dispatch-team").click()
        alert = page.locator("#cockpit-detail .map-error")
        alert.wait_for()
        assert "already dispatched" in alert.inner_text()
        assert IncidentAssignment.objects.filter(incident=incident).count() == 1
        assert not errors
    finally:
        page.goto("about:blank")
        context.close()


def test_no_free_team_on_a_phone_is_a_message_not_an_error_page(
        chromium, live_server, reseed_after, warning, commander, only_our_teams):
    from zhili.emergency.models import Incident

    point = warning.risk_point
    context, page, errors = _open(chromium, live_server, locale="zh-CN",
                                  viewport={"width": 390, "height": 844})
    try:
        browser_login(page, "commander")
        _map_at(page, point.lon, point.lat, "layerRiskPoints")
        marker = f"path.warning-{warning.number}"
        wait_for_js(page, f"!!document.querySelector('{marker}')")
        page.locator(marker).dispatch_event("click")  # markers may overlap
        page.locator("#cockpit-detail button.dispatch-team").click()
        alert = page.locator("#cockpit-detail .map-error")
        alert.wait_for()
        assert alert.get_attribute("role") == "alert" and alert.inner_text().strip()
        assert page.locator("#cockpit-detail button.dispatch-team").is_enabled()  # try again
        assert not Incident.objects.filter(warning=warning).exists()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
        assert not errors
    finally:
        page.goto("about:blank")
        context.close()
