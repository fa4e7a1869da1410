"""Menus offer only what the user can open: every item of every demo login's
menu answers 200, residents see no staff pages or API docs, the admin reaches
/admin/ and the disputes."""

from __future__ import annotations

import pytest

from zhili.accounts.models import User
from zhili.core.navigation import menu_for


def _menu(user) -> list[str]:
    return [item["name"] for item in menu_for(User.objects.get(pk=user.pk))]


@pytest.mark.django_db
def test_every_item_of_every_demo_login_opens(client):
    refused = []
    for user in User.objects.filter(is_active=True).order_by("username"):
        client.force_login(user)
        for item in menu_for(User.objects.get(pk=user.pk)):
            status = client.get(item["url"]).status_code
            if status != 200:
                refused.append((user.username, item["name"], status))
    assert refused == []


def test_residents_see_no_staff_pages_and_no_api_docs(resident):
    assert _menu(resident) == ["core:home", "governance:report", "governance:my_cases", "bundles:list"]


def test_api_docs_are_offered_to_staff(resident, city_admin, grid_worker):
    assert "api-1.0.0:openapi-view" in _menu(city_admin)
    assert "api-1.0.0:openapi-view" in _menu(grid_worker)
    resident.is_staff = True
    resident.save(update_fields=["is_staff"])
    assert "api-1.0.0:openapi-view" in _menu(resident)


def test_the_admin_reaches_the_admin_site_and_the_disputes(client, city_admin):
    menu = _menu(city_admin)
    assert "admin:index" in menu and "governance:dispute_list" in menu
    client.force_login(city_admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200


def test_department_inbox_link_only_for_officers(client, resident, department_officer):
    client.force_login(resident)
    page = client.get("/bundles/", headers={"accept-language": "en"}).content.decode()
    assert 'href="/bundles/inbox/"' not in page and 'href="/bundles/applications/"' in page
    client.force_login(department_officer)
    page = client.get("/bundles/").content.decode()
    assert 'href="/bundles/inbox/"' in page and 'href="/bundles/applications/"' not in page
