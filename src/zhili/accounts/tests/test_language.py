"""A user's language: set by themselves (account page, API) or an administrator (admin),
audited; pages follow it after login, notifications are written in it."""

import json

import pytest
from django.conf import settings

from zhili.accounts.models import User
from zhili.accounts.services import user_language_set
from zhili.accounts.tests.test_admin import inline, user_form
from zhili.audit.models import AuditEntry
from zhili.core.errors import PermissionDenied, ValidationFailed
from zhili.core.seeding import DEMO_PASSWORD


def language_of(user) -> str:
    return User.objects.values_list("language", flat=True).get(pk=user.pk)


def html_lang(response) -> str:
    html = response.content.decode()
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


def patch_me(client, body, headers):
    return client.patch("/api/v1/accounts/me", json.dumps(body), content_type="application/json",
                        headers=headers)


# The service ---------------------------------------------------------------------------------

def test_a_user_sets_their_language_and_it_is_audited(grid_worker):
    user_language_set(actor=grid_worker, user=grid_worker, language="en")
    assert language_of(grid_worker) == "en"
    entry = AuditEntry.objects.filter(action="user.language_set").get()
    assert entry.actor_id == grid_worker.pk
    assert entry.detail == {"username": "worker1", "language": "en", "was": ""}

    user_language_set(actor=grid_worker, user=grid_worker, language="en")  # the same: no row
    assert AuditEntry.objects.filter(action="user.language_set").count() == 1
    user_language_set(actor=grid_worker, user=grid_worker, language="")  # the platform's
    assert language_of(grid_worker) == ""
    assert grid_worker.reading_language == settings.LANGUAGE_CODE


def test_an_unknown_language_is_refused_and_nothing_changes(grid_worker):
    user_language_set(actor=grid_worker, user=grid_worker, language="zh-Hans")  # any case
    assert language_of(grid_worker) == "zh-hans"
    with pytest.raises(ValidationFailed) as refused:
        user_language_set(actor=grid_worker, user=grid_worker, language="klingon")
    assert refused.value.errors[0].field == "language"
    assert language_of(grid_worker) == "zh-hans"
    assert AuditEntry.objects.filter(action="user.language_set").count() == 1


def test_nobody_sets_another_users_language_without_managing_them(grid_worker, other_grid_worker,
                                                                 city_admin):
    with pytest.raises(PermissionDenied):
        user_language_set(actor=other_grid_worker, user=grid_worker, language="en")
    assert language_of(grid_worker) == ""
    user_language_set(actor=city_admin, user=grid_worker, language="en")
    assert language_of(grid_worker) == "en"


# The API -------------------------------------------------------------------------------------

def test_me_shows_and_patches_my_language(client, bearer, grid_worker):
    headers = bearer(grid_worker)
    assert client.get("/api/v1/accounts/me", headers=headers).json()["language"] == ""
    response = patch_me(client, {"language": "en"}, headers)
    assert response.status_code == 200, response.content
    assert response.json()["language"] == "en" and response.json()["username"] == "worker1"
    assert language_of(grid_worker) == "en"
    entry = AuditEntry.objects.get(action="user.language_set")
    assert entry.channel == "api" and entry.actor_id == grid_worker.pk

    assert patch_me(client, {}, headers).json()["language"] == "en"  # absent: unchanged
    assert patch_me(client, {"language": None}, headers).json()["language"] == ""


@pytest.mark.parametrize("value", ["klingon", "x" * 17, 5, ["en"]])
def test_patching_an_unknown_language_is_a_problem_naming_the_field(client, bearer, grid_worker,
                                                                    value):
    headers = bearer(grid_worker)
    response = patch_me(client, {"language": value}, headers)
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert any("language" in str(e.get("field", e.get("loc", ""))) for e in problem["errors"]), \
        problem
    assert language_of(grid_worker) == ""
    assert not AuditEntry.objects.filter(action="user.language_set").exists()


def test_patching_me_needs_a_login(db, client):
    response = patch_me(client, {"language": "en"}, {})
    assert response.status_code == 401


# Pages ---------------------------------------------------------------------------------------

def test_pages_are_in_my_language_after_login(client, grid_worker):
    user_language_set(actor=grid_worker, user=grid_worker, language="en")
    response = client.post("/accounts/login/", {"username": "worker1", "password": DEMO_PASSWORD},
                           HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert html_lang(home) == "en" and "Log out" in home.content.decode()

    # The language switcher still switches, for this browser.
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert html_lang(client.get("/")) == "zh-hans"


def test_a_login_without_a_language_keeps_the_switchers_choice(client, grid_worker):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post("/accounts/login/", {"username": "worker1", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert html_lang(client.get("/")) == "en"


def test_anonymous_pages_follow_the_browser_and_the_switcher(db, client):
    assert html_lang(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")) == "en"
    assert html_lang(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")) == "zh-hans"
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert html_lang(response) == "en"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies  # nobody set it again


def test_the_account_page_sets_my_language(client, grid_worker):
    client.force_login(grid_worker)
    page = client.get("/accounts/profile/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and 'name="language"' in page.content.decode()
    response = client.post("/accounts/profile/", {"language": "en"})
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert language_of(grid_worker) == "en"
    page = client.get("/accounts/profile/")
    assert html_lang(page) == "en" and "Saved" in page.content.decode()
    assert AuditEntry.objects.filter(action="user.language_set", channel="web").exists()

    response = client.post("/accounts/profile/", {"language": ""})  # the platform's
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == settings.LANGUAGE_CODE
    assert language_of(grid_worker) == ""


def test_the_account_page_refuses_an_unknown_language_beside_the_field(client, grid_worker):
    client.force_login(grid_worker)
    response = client.post("/accounts/profile/", {"language": "klingon"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert 'data-error-for="language"' in response.content.decode()
    assert language_of(grid_worker) == ""
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_account_page_needs_a_login(db, client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_administrator_sets_a_language_in_the_admin(client, grid_worker):
    root = User.objects.create_superuser("root", password="root-password-2026")
    client.force_login(root)
    url = f"/admin/accounts/user/{grid_worker.pk}/change/"
    response = client.post(url, {**user_form(grid_worker, language="en"), **inline()})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert language_of(grid_worker) == "en"
    entry = AuditEntry.objects.filter(action="user.update", actor=root).latest("id")
    assert entry.detail["changed"] == {"language": "en"}

    response = client.post(url, {**user_form(grid_worker, language="klingon"), **inline()})
    assert response.status_code == 200  # the form's error, nothing saved
    assert "language" in response.context["adminform"].form.errors
    assert language_of(grid_worker) == "en"


def test_a_language_set_elsewhere_reaches_my_next_page(client, grid_worker, city_admin):
    """Set through the API or by an administrator while I am logged in: my next page
    is in it. The language switcher, afterwards, still wins for this browser."""
    client.post("/accounts/login/", {"username": "worker1", "password": DEMO_PASSWORD},
                HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")) == "zh-hans"
    user_language_set(actor=city_admin, user=grid_worker, language="en")
    first = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert first.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")) == "en"

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    again = client.get("/")
    assert html_lang(again) == "zh-hans"
    assert settings.LANGUAGE_COOKIE_NAME not in again.cookies  # not set back
