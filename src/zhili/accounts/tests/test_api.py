"""/api/v1/accounts: me, tokens, users. Three ways for each: anonymous, allowed, other area."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from zhili.accounts.models import ApiToken
from zhili.accounts.services import token_create
from zhili.audit.models import AuditEntry


def token_for(user, **kwargs):
    token, raw = token_create(user=user, name=kwargs.pop("name", "test"), **kwargs)
    return token, {"Authorization": f"Bearer {raw}"}


def delete(client, path, headers=None):
    return client.delete(f"/api/v1{path}", headers=headers or {})


# GET /me ------------------------------------------------------------------------------------

def test_me_anonymous_is_401(db, api):
    response = api.get("/accounts/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not-authenticated"


def test_me_grid_worker(api, bearer, grid_worker, grid):
    body = api.get("/accounts/me", headers=bearer(grid_worker)).json()
    assert body["username"] == "worker1"
    assert body["roles"] == [{
        "role": "grid_worker", "role_label": body["roles"][0]["role_label"],
        "area": {"code": grid.code, "name": grid.name, "name_en": grid.name_en,
                 "level": "grid", "path": grid.path},
        "department": None,
    }]
    assert body["home_area"]["code"] == grid.code
    assert "registry.view_person" in body["permissions"]
    assert "audit.view" not in body["permissions"]


def test_me_department_officer_shows_the_department(api, bearer, department_officer):
    body = api.get("/accounts/me", headers=bearer(department_officer)).json()
    assert body["roles"][0]["department"]["code"] == "power"


# Tokens: hashing, expiry, revocation -------------------------------------------------------

def test_a_minted_token_is_stored_only_as_its_hash(api, client, grid_worker):
    client.force_login(grid_worker)
    response = api.post("/accounts/tokens", {"name": "phone app", "days": 30})
    assert response.status_code == 201
    body = response.json()
    raw = body["key"]
    assert raw.startswith("zl_") and len(raw) > 40
    row = ApiToken.objects.get(pk=body["token"]["id"])
    assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = json.dumps(list(ApiToken.objects.filter(pk=row.pk).values()), default=str)
    assert raw not in stored
    assert raw.startswith(row.prefix) and len(row.prefix) == 10
    assert abs((row.expires_at - timezone.now()) - timedelta(days=30)) < timedelta(minutes=1)
    # The key works, and never appears again.
    listing = api.get("/accounts/tokens", headers={"Authorization": f"Bearer {raw}"})
    assert listing.status_code == 200
    assert raw not in listing.content.decode() and "key_hash" not in listing.content.decode()
    entry = AuditEntry.objects.filter(action="token.create").latest("id")
    assert entry.actor_label == "worker1" and raw not in json.dumps(entry.detail)


def test_an_expired_token_is_401(api, grid_worker):
    token, headers = token_for(grid_worker)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get("/accounts/me", headers=headers).status_code == 401


def test_a_revoked_token_is_401(api, grid_worker):
    token, headers = token_for(grid_worker)
    assert api.get("/accounts/me", headers=headers).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert api.get("/accounts/me", headers=headers).status_code == 401


def test_an_inactive_users_token_is_401(api, grid_worker):
    _, headers = token_for(grid_worker)
    grid_worker.is_active = False
    grid_worker.save(update_fields=["is_active"])
    assert api.get("/accounts/me", headers=headers).status_code == 401


@pytest.mark.parametrize("header", ["Bearer ", "Bearer zl_not-a-real-token", "Bearer " + "x" * 500,
                                    "Basic dXNlcjpwYXNz", "Bearer\tzl_x"])
def test_garbage_credentials_are_401(db, api, header):
    assert api.get("/accounts/me", headers={"Authorization": header}).status_code == 401


def test_last_used_is_stamped(api, grid_worker):
    token, headers = token_for(grid_worker)
    assert token.last_used_at is None
    api.get("/accounts/me", headers=headers)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_minted_with_a_token_expires_no_later(api, grid_worker):
    parent, headers = token_for(grid_worker, days=2)
    body = api.post("/accounts/tokens", {"name": "child", "days": 366}, headers=headers).json()
    child = ApiToken.objects.get(pk=body["token"]["id"])
    assert child.expires_at <= parent.expires_at


@pytest.mark.parametrize("payload,field", [
    ({"name": "x", "days": 0}, "days"), ({"name": "x", "days": 367}, "days"),
    ({"name": "x", "days": "soon"}, "days"), ({"name": "", "days": 5}, "name"),
    ({"name": "n" * 65}, "name"), ({"days": 5}, "name"),
])
def test_bad_token_requests_are_422_naming_the_field(api, bearer, grid_worker, payload, field):
    before = ApiToken.objects.count()
    response = api.post("/accounts/tokens", payload, headers=bearer(grid_worker))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert ApiToken.objects.count() == before + 1  # only the bearer fixture's own


def test_minting_anonymous_is_401(db, api):
    assert api.post("/accounts/tokens", {"name": "x"}).status_code == 401


# Session auth and CSRF ---------------------------------------------------------------------

def test_session_auth_needs_csrf_on_unsafe_methods(grid_worker):
    client = Client(enforce_csrf_checks=True)
    client.force_login(grid_worker)
    assert client.get("/api/v1/accounts/me").status_code == 200  # safe: no token needed
    body = json.dumps({"name": "from the page"})
    refused = client.post("/api/v1/accounts/tokens", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    client.get("/accounts/login/")  # any page sets the CSRF cookie
    client.get("/")
    csrf = client.cookies["csrftoken"].value
    allowed = client.post("/api/v1/accounts/tokens", body, content_type="application/json",
                          headers={"X-CSRFToken": csrf})
    assert allowed.status_code == 201


def test_bearer_needs_no_csrf(grid_worker):
    _, headers = token_for(grid_worker)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/accounts/tokens", json.dumps({"name": "machine"}),
                           content_type="application/json", headers=headers)
    assert response.status_code == 201


def test_bearer_works_on_every_endpoint(client, city_admin):
    own, headers = token_for(city_admin)
    other, _ = token_for(city_admin, name="spare")
    for path in ("/accounts/me", "/accounts/tokens", "/accounts/users", "/audit/entries",
                 f"/audit/entries/{AuditEntry.objects.latest('id').pk}", "/audit/verify"):
        assert client.get(f"/api/v1{path}", headers=headers).status_code == 200, path
    assert client.post("/api/v1/accounts/tokens", json.dumps({"name": "n"}),
                       content_type="application/json", headers=headers).status_code == 201
    assert delete(client, f"/accounts/tokens/{other.pk}", headers).status_code == 200


# GET /tokens --------------------------------------------------------------------------------

def test_tokens_anonymous_is_401(db, api):
    assert api.get("/accounts/tokens").status_code == 401


def test_tokens_lists_only_your_own(api, grid_worker, other_grid_worker):
    mine, headers = token_for(grid_worker)
    theirs, _ = token_for(other_grid_worker)
    body = api.get("/accounts/tokens", headers=headers).json()
    assert {t["id"] for t in body} == set(
        ApiToken.objects.filter(user=grid_worker).values_list("id", flat=True))
    assert theirs.pk not in {t["id"] for t in body}
    assert set(body[0]) == {"id", "user", "name", "prefix", "created_at", "expires_at",
                            "revoked_at", "last_used_at", "usable"}


def test_tokens_of_another_user_need_manage_tokens(api, bearer, street_operator, grid_worker):
    token_for(grid_worker)
    response = api.get("/accounts/tokens", headers=bearer(street_operator), username="worker1")
    assert response.status_code == 403


def test_tokens_of_a_user_in_the_admins_area(api, bearer, city_admin, street_admin, grid_worker,
                                             other_grid_worker):
    token_for(grid_worker)
    token_for(other_grid_worker)
    assert api.get("/accounts/tokens", headers=bearer(city_admin), username="worker1").status_code == 200
    street = bearer(street_admin)
    assert api.get("/accounts/tokens", headers=street, username="worker2").status_code == 200
    outside = api.get("/accounts/tokens", headers=street, username="worker1")
    missing = api.get("/accounts/tokens", headers=street, username="nobody")
    assert outside.status_code == missing.status_code == 404


def test_tokens_query_count(api, grid_worker, django_assert_max_num_queries):
    _, headers = token_for(grid_worker)
    for i in range(5):
        token_for(grid_worker, name=f"t{i}")
    with django_assert_max_num_queries(3):  # token lookup, last-used stamp, list
        assert len(api.get("/accounts/tokens", headers=headers).json()) == 6


# DELETE /tokens/{id} ------------------------------------------------------------------------

def test_revoke_anonymous_is_401(client, grid_worker):
    token, _ = token_for(grid_worker)
    assert delete(client, f"/accounts/tokens/{token.pk}").status_code == 401


def test_revoke_your_own(client, grid_worker):
    token, headers = token_for(grid_worker)
    spare, _ = token_for(grid_worker, name="spare")
    response = delete(client, f"/accounts/tokens/{spare.pk}", headers)
    assert response.status_code == 200
    assert response.json()["revoked_at"] and response.json()["usable"] is False
    assert delete(client, f"/accounts/tokens/{spare.pk}", headers).status_code == 200  # again: fine
    assert AuditEntry.objects.filter(action="token.revoke", object_id=str(spare.pk)).count() == 1
    # Revoking the token in use ends it at once.
    assert delete(client, f"/accounts/tokens/{token.pk}", headers).status_code == 200
    assert client.get("/api/v1/accounts/me", headers=headers).status_code == 401


def test_revoke_someone_elses_without_manage_tokens_is_404(client, street_operator, grid_worker):
    theirs, _ = token_for(grid_worker)
    _, headers = token_for(street_operator)
    assert delete(client, f"/accounts/tokens/{theirs.pk}", headers).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_revoke_by_an_admin_in_and_outside_their_area(client, city_admin, street_admin,
                                                      grid_worker, other_grid_worker):
    inside, _ = token_for(other_grid_worker)
    outside, _ = token_for(grid_worker)
    _, street = token_for(street_admin)
    assert delete(client, f"/accounts/tokens/{outside.pk}", street).status_code == 404
    assert delete(client, f"/accounts/tokens/{inside.pk}", street).status_code == 200
    _, city = token_for(city_admin)
    assert delete(client, f"/accounts/tokens/{outside.pk}", city).status_code == 200
    entry = AuditEntry.objects.filter(action="token.revoke", object_id=str(outside.pk)).get()
    assert entry.actor_label == "admin"


@pytest.mark.parametrize("bad", ["x", "0", "99999999999999999999999"])
def test_revoke_bad_id_is_422(client, grid_worker, bad):
    _, headers = token_for(grid_worker)
    assert delete(client, f"/accounts/tokens/{bad}", headers).status_code == 422


def test_revoke_missing_is_404(client, grid_worker):
    _, headers = token_for(grid_worker)
    assert delete(client, "/accounts/tokens/987654321", headers).status_code == 404


# GET /users ---------------------------------------------------------------------------------

def test_users_anonymous_is_401(db, api):
    assert api.get("/accounts/users").status_code == 401


def test_users_without_manage_users_is_403(api, bearer, street_operator):
    response = api.get("/accounts/users", headers=bearer(street_operator))
    assert response.status_code == 403 and response.json()["code"] == "permission-denied"


def test_users_city_admin_sees_everyone(api, bearer, city_admin):
    body = api.get("/accounts/users", headers=bearer(city_admin), page_size=500).json()
    names = {u["username"] for u in body["items"]}
    assert {"admin", "worker1", "worker2", "power_officer", "resident1"} <= names
    worker = next(u for u in body["items"] if u["username"] == "worker1")
    assert worker["roles"][0]["area"]["code"] == "500103001001001"


def test_users_admin_of_a_street_sees_only_its_people(api, bearer, street_admin):
    body = api.get("/accounts/users", headers=bearer(street_admin), page_size=500).json()
    names = {u["username"] for u in body["items"]}
    assert {"worker2", "street_op2", "street_admin2"} <= names
    assert not names & {"worker1", "street_op1", "admin", "district_op"}


def test_users_filters(api, bearer, city_admin):
    headers = bearer(city_admin)

    def names(**params):
        body = api.get("/accounts/users", headers=headers, page_size=500, **params).json()
        return {u["username"] for u in body["items"]}

    assert names(role="grid_worker") >= {"worker1", "worker2"}
    assert "street_op1" not in names(role="grid_worker")
    second_street = names(role="grid_worker", area="500103002")
    assert "worker2" in second_street and "worker1" not in second_street
    assert names(area="500103001001") >= {"community1", "leader1", "worker1", "resident1"}
    assert "district_op" not in names(area="500103001")  # held above, not at or below
    assert names(q="street_op") >= {"street_op1", "street_op2"}
    assert "worker1" not in names(q="street_op")


@pytest.mark.parametrize("params,field", [({"role": "mayor"}, "role"), ({"area": "999999"}, "area"),
                                          ({"area": "abc"}, "area"), ({"page": 0}, "page")])
def test_users_bad_filters_are_422(api, bearer, city_admin, params, field):
    response = api.get("/accounts/users", headers=bearer(city_admin), **params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_users_query_count(api, bearer, city_admin, django_assert_max_num_queries):
    headers = bearer(city_admin)
    # token, last-used, assignments, roots, count, page, prefetch of roles with areas
    with django_assert_max_num_queries(7):
        body = api.get("/accounts/users", headers=headers, page_size=100).json()
    assert len(body["items"]) >= 13


def test_bearer_auth_reads_the_roles_with_the_token(department_officer, django_assert_num_queries):
    """One query brings the token, its user and the user's role assignments, each
    field in its place."""
    from django.test import RequestFactory

    from zhili.accounts.auth import BearerToken
    from zhili.accounts.models import RoleAssignment

    stored = list(RoleAssignment.objects.filter(user=department_officer)
                  .select_related("department").order_by("id"))
    _, raw = token_create(user=department_officer, name="t")
    BearerToken().authenticate(RequestFactory().get("/"), raw)  # stamps last_used_at
    with django_assert_num_queries(1):
        user = BearerToken().authenticate(RequestFactory().get("/"), raw)
        got = [(a.pk, a.user_id, a.role, a.area_id, a.area_path, a.department_id)
               for a in user.active_assignments()]
        departments = user.departments()
    assert user.pk == department_officer.pk and stored
    assert got == [(a.pk, a.user_id, a.role, a.area_id, a.area_path, a.department_id)
                   for a in stored]
    assert departments == {a.department.code for a in stored if a.department_id}
