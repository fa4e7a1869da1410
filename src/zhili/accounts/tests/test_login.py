"""The login page: sessions, Argon2, throttling after repeated failures."""

import pytest
from django.contrib.auth.hashers import identify_hasher

from zhili.accounts.models import LoginFailure, User
from zhili.accounts.services import user_create
from zhili.audit.models import AuditEntry
from zhili.core.seeding import DEMO_PASSWORD


def log_in(client, username, password, **extra):
    extra.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def error_code(response):
    return response.context["form"].errors.as_data()["__all__"][0].code


def test_login_page_renders(db, client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()


def test_login_redirects_home_and_home_lists_the_roles(client, grid_worker, grid):
    response = log_in(client, "worker1", DEMO_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    assert grid.name in html and grid.code in html
    assert [a.role for a in home.context["assignments"]] == ["grid_worker"]
    entry = AuditEntry.objects.filter(action="user.login").latest("id")
    assert entry.actor_id == grid_worker.pk and entry.channel == "web"


def test_login_honours_next(client, grid_worker):
    response = log_in(client, "worker1", DEMO_PASSWORD, QUERY_STRING="next=/api/v1/docs")
    assert response["Location"] in ("/api/v1/docs", "/")


def test_a_wrong_password_says_so(client, grid_worker):
    response = log_in(client, "worker1", "wrong")
    assert response.status_code == 200
    assert error_code(response) == "invalid_login"
    assert "_auth_user_id" not in client.session


def test_an_inactive_user_cannot_log_in(client, grid_worker):
    grid_worker.is_active = False
    grid_worker.save(update_fields=["is_active"])
    response = log_in(client, "worker1", DEMO_PASSWORD)
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_home_needs_a_login(db, client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_passwords_are_hashed_with_argon2(db):
    user = user_create(username="argon", password="a long enough passphrase")
    assert user.password.startswith("argon2")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert User.objects.get(username="argon").check_password("a long enough passphrase")


def test_repeated_failures_lock_out_even_the_right_password(client, grid_worker, settings):
    settings.ZHILI_LOGIN_MAX_FAILURES = 3
    settings.ZHILI_LOGIN_WINDOW_SECONDS = 600
    for _ in range(3):
        assert log_in(client, "worker1", "guess").status_code == 200
    assert LoginFailure.objects.filter(username="worker1").count() == 3
    response = log_in(client, "worker1", DEMO_PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert error_code(response) == "throttled"
    message = response.context["form"].errors["__all__"][0]
    assert message.startswith("Too many failed attempts. Wait 10 minutes")
    assert "Too many failed attempts" in response.content.decode()
    # Refused attempts are not counted, so the lock-out ends when the window passes.
    assert LoginFailure.objects.filter(username="worker1").count() == 3
    # The username is the key, whatever its case.
    assert error_code(log_in(client, "WORKER1", DEMO_PASSWORD)) == "throttled"


def test_the_lockout_ends_with_the_window(client, grid_worker, settings):
    settings.ZHILI_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        log_in(client, "worker1", "guess")
    LoginFailure.objects.update(at=LoginFailure.objects.first().at.replace(year=2000))
    assert log_in(client, "worker1", DEMO_PASSWORD).status_code == 302


def test_a_success_clears_the_failures(client, grid_worker, settings):
    settings.ZHILI_LOGIN_MAX_FAILURES = 3
    log_in(client, "worker1", "guess")
    log_in(client, "worker1", "guess")
    assert log_in(client, "worker1", DEMO_PASSWORD).status_code == 302
    assert not LoginFailure.objects.filter(username="worker1").exists()


def test_one_address_guessing_many_usernames_is_throttled(client, grid_worker, settings):
    settings.ZHILI_LOGIN_MAX_FAILURES = 2  # so 8 from one address
    for i in range(8):
        log_in(client, f"nobody{i}", "guess", REMOTE_ADDR="203.0.113.7")
    response = log_in(client, "worker1", DEMO_PASSWORD, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    assert error_code(response) == "throttled"
    # Another address is not affected.
    assert log_in(client, "worker1", DEMO_PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 302


@pytest.mark.parametrize("address", ["not-an-ip", ""])
def test_a_garbled_client_address_is_no_500(client, grid_worker, address):
    assert log_in(client, "worker1", "guess", REMOTE_ADDR=address).status_code == 200
    assert LoginFailure.objects.filter(username="worker1", client_ip=None).exists()


def test_logout(client, grid_worker):
    client.force_login(grid_worker)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
