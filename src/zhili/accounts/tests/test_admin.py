"""The admin writes through the services: scoped and audited like everything else."""

import pytest

from zhili.accounts.models import RoleAssignment, User
from zhili.accounts.services import token_create
from zhili.audit.models import AuditEntry


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", password="root-password-2026")


def inline(rows=(), initial=0, **extra):
    data = {"role_assignments-TOTAL_FORMS": str(len(rows)),
            "role_assignments-INITIAL_FORMS": str(initial),
            "role_assignments-MIN_NUM_FORMS": "0", "role_assignments-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"role_assignments-{i}-{key}"] = value
    data.update(extra)
    return data


def user_form(user, **changes):
    data = {"username": user.username, "display_name": user.display_name,
            "first_name": "", "last_name": "", "email": user.email,
            "is_active": "on" if user.is_active else "", "last_login_0": "", "last_login_1": "",
            "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_adding_a_user_goes_through_user_create(client, superuser, grid):
    client.force_login(superuser)
    response = client.post("/admin/accounts/user/add/", {
        "username": "added", "display_name": "Added in admin", "usable_password": "true",
        "password1": "a fine long passphrase", "password2": "a fine long passphrase",
        **inline([{"role": "grid_worker", "area": str(grid.pk), "department": ""}]),
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="added")
    assert user.password.startswith("argon2") and user.check_password("a fine long passphrase")
    assert user.scope("geo.view_area").paths == (grid.path,)
    actions = list(AuditEntry.objects.filter(actor=superuser).order_by("id")
                   .values_list("action", flat=True))
    assert actions[-2:] == ["user.create", "role.assign"]


def test_roles_are_added_and_removed_through_the_services(client, superuser, grid_worker, other_grid):
    client.force_login(superuser)
    existing = grid_worker.role_assignments.get()
    url = f"/admin/accounts/user/{grid_worker.pk}/change/"
    rows = [{"id": str(existing.pk), "user": str(grid_worker.pk), "DELETE": "on"},
            {"role": "grid_leader", "area": str(other_grid.pk), "department": "",
             "user": str(grid_worker.pk)}]
    response = client.post(url, {**user_form(grid_worker), **inline(rows, initial=1)})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(RoleAssignment.objects.filter(user=grid_worker).values_list("role", "area")) == [
        ("grid_leader", other_grid.pk)]
    audited = set(AuditEntry.objects.filter(actor=superuser).values_list("action", flat=True))
    assert {"role.revoke", "role.assign", "user.update"} <= audited


def test_a_street_admin_cannot_assign_outside_their_street(client, street_admin, grid, other_grid):
    street_admin.is_staff = True
    street_admin.save(update_fields=["is_staff"])
    client.force_login(street_admin)
    worker2 = User.objects.get(username="worker2")
    url = f"/admin/accounts/user/{worker2.pk}/change/"
    assert client.get(url).status_code == 200
    existing = worker2.role_assignments.get()
    rows = [{"id": str(existing.pk), "user": str(worker2.pk)},
            {"role": "grid_leader", "area": str(grid.pk), "department": "", "user": str(worker2.pk)}]
    response = client.post(url, {**user_form(worker2), **inline(rows, initial=1)})
    assert response.status_code == 200  # the form comes back with the error
    assert not RoleAssignment.objects.filter(user=worker2, area=grid).exists()
    # worker1 works outside the street admin's area: not even visible.
    worker1 = User.objects.get(username="worker1")
    assert client.get(f"/admin/accounts/user/{worker1.pk}/change/").status_code == 302


def test_staff_without_manage_users_sees_no_users(client, street_operator):
    street_operator.is_staff = True
    street_operator.save(update_fields=["is_staff"])
    client.force_login(street_operator)
    assert client.get("/admin/accounts/user/").status_code == 403


def test_users_are_never_deleted_in_the_admin(client, superuser, grid_worker):
    client.force_login(superuser)
    assert client.get(f"/admin/accounts/user/{grid_worker.pk}/delete/").status_code == 403


def test_token_admin_shows_no_key_and_revokes(client, superuser, grid_worker):
    token, raw = token_create(user=grid_worker, name="tablet")
    client.force_login(superuser)
    page = client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    assert token.prefix in page and token.key_hash not in page and raw not in page
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403
    response = client.post("/admin/accounts/apitoken/",
                           {"action": "revoke", "_selected_action": [str(token.pk)]})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = AuditEntry.objects.filter(action="token.revoke").latest("id")
    assert entry.actor_id == superuser.pk


def test_password_change_in_the_admin_is_audited(client, superuser, grid_worker):
    client.force_login(superuser)
    response = client.post(f"/admin/accounts/user/{grid_worker.pk}/password/", {
        "password1": "another fine passphrase", "password2": "another fine passphrase",
        "usable_password": "true", "set-password": "1"})
    assert response.status_code == 302
    grid_worker.refresh_from_db()
    assert grid_worker.check_password("another fine passphrase")
    assert AuditEntry.objects.filter(action="user.password_set",
                                     object_id=str(grid_worker.pk)).exists()


def test_department_changes_are_audited(client, superuser):
    client.force_login(superuser)
    response = client.post("/admin/accounts/department/add/",
                           {"code": "tourism", "name": "文化旅游委", "name_en": "Culture and tourism"})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="department.create").latest("id").detail["code"] == "tourism"
