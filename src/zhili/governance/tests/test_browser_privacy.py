"""In real Chromium: the case page masks the contact phone until a worker states a purpose,
and the registry's search finds a whole identity number but nothing from a part of it."""

from __future__ import annotations

import pytest

from zhili.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13912345678"


def test_contact_phone_and_person_look_up(browser_page, categories, grid, resident,
                                          grid_worker):
    from zhili.audit.models import AuditEntry
    from zhili.governance.services import case_report
    from zhili.registry.selectors import person_list

    case, _ = case_report(actor=resident, category="road-damage", description="路面坑洼",
                          lon=grid.centre_lon, lat=grid.centre_lat, contact_phone=PHONE,
                          attributes={"size": "small"})
    person = person_list(actor=grid_worker).first()
    page = browser_page
    browser_login(page, grid_worker.username)

    page.goto(f"/governance/cases/{case.pk}/")
    assert page.locator("#contact-phone").inner_text() == "139****5678"
    assert PHONE not in page.content()
    page.fill("#id_contact_purpose", "回电核实坑洼位置")
    page.click("#contact-reveal-form button[type=submit]")
    page.wait_for_selector(f'#contact-phone a[href="tel:{PHONE}"]')
    assert AuditEntry.objects.filter(action="case.contact_reveal", actor=grid_worker,
                                     purpose="回电核实坑洼位置").count() == 1

    page.goto("/registry/persons/")
    page.fill("#id_q", person.id_number[-5:])
    page.fill("#id_purpose", "居民到窗口查询")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("form.filters .error")
    assert page.locator("#persons a").count() == 0
    page.fill("#id_q", person.id_number)
    page.click("form.filters button[type=submit]")
    page.wait_for_selector(f'#persons a[href="/registry/persons/{person.pk}/"]')
    # Found, still masked, and the number never went into the address.
    assert person.id_number not in page.locator("#persons").inner_text()
    assert person.id_number not in page.url
    assert AuditEntry.objects.filter(action="person.lookup", actor=grid_worker).count() == 1
    page.goto("about:blank")
