"""Scope: a role on a node covers its subtree, and nothing else."""

import pytest
from django.contrib.auth.models import AnonymousUser

from zhili.accounts.models import RoleAssignment, User
from zhili.accounts.roles import ROLE_PERMISSIONS, Role
from zhili.accounts.selectors import department_posts
from zhili.accounts.services import role_assign, role_revoke, user_create
from zhili.audit.models import AuditEntry
from zhili.core.errors import PermissionDenied, ValidationFailed


def fresh(user):
    return User.objects.get(pk=user.pk)  # no cached scope


def test_a_district_role_covers_its_grids(district_operator, district, street, grid, other_grid):
    scope = district_operator.scope("geo.view_area")
    assert scope.paths == (district.path,)
    for node in (district, street, grid, other_grid):
        assert scope.covers(node.path)
    # Rows anywhere below the district are in; the grid workers' assignments are grid rows.
    rows = RoleAssignment.objects.filter(scope.q())
    assert rows.filter(user__username="worker1", area=grid).exists()
    assert rows.filter(user__username="worker2", area=other_grid).exists()
    assert not rows.filter(user__username="admin").exists()  # held on the city, above


def test_a_grid_worker_sees_only_their_grid(grid_worker, grid, other_grid, community):
    scope = grid_worker.scope("registry.view_person")
    assert scope.covers(grid.path)
    assert not scope.covers(other_grid.path)
    assert not scope.covers(community.path)  # the parent is not part of the subtree
    assert not grid_worker.has_perm_in("registry.reveal_person", grid.path)


def test_prefixes_do_not_leak_across_siblings(street_operator, street):
    # 500103001/ must not cover a sibling whose code merely starts the same way.
    assert street.path.endswith("/")
    assert not street_operator.scope("geo.view_area").covers(street.path[:-1] + "0/")


def test_minimal_paths_drop_covered_roles(db, district, street, grid):
    user = user_create(username="many_roles", password=None)
    for node in (grid, street, district):
        role_assign(user=user, role=Role.GRID_WORKER, area=node)
    assert fresh(user).scope("geo.view_area").paths == (district.path,)


def test_two_disjoint_roles_make_two_paths(db, grid, other_grid):
    user = user_create(username="two_grids", password=None)
    role_assign(user=user, role=Role.GRID_WORKER, area=grid)
    role_assign(user=user, role=Role.GRID_WORKER, area=other_grid)
    assert fresh(user).scope("geo.view_area").paths == tuple(sorted([grid.path, other_grid.path]))


def test_an_inactive_user_has_no_scope(district_operator, grid):
    district_operator.is_active = False
    district_operator.save(update_fields=["is_active"])
    user = fresh(district_operator)
    assert user.scope("geo.view_area").empty
    assert not user.has_perm_in("geo.view_area", grid.path)
    assert user.permissions() == set()


def test_the_department_officer(department_officer, district, grid):
    assert department_officer.departments() == {"power"}
    assert department_officer.scope("registry.reveal_person").paths == (district.path,)
    assert department_officer.has_perm_in("registry.issue_certificate", grid.path)
    assert department_officer.scope("accounts.manage_users").empty


def test_a_resident_holds_no_staff_permission(resident):
    assert resident.roles() == {Role.RESIDENT}
    assert all(resident.scope(p).empty for p in ("geo.view_area", "registry.view_person"))


def test_superusers_are_everywhere(db):
    root = User.objects.create_superuser("root", password="x" * 16)
    assert root.scope("audit.view").everywhere and root.covers_whole_city("audit.view")


def test_whole_city(city_admin, street_admin, street_operator):
    assert city_admin.covers_whole_city("audit.view")
    assert not street_admin.covers_whole_city("audit.view")
    assert not street_operator.covers_whole_city("audit.view")


def test_home_area_is_the_highest_node(district_operator, district, grid_worker, grid):
    assert district_operator.home_area() == district
    assert grid_worker.home_area() == grid


def test_permissions_are_the_union_of_roles(street_operator):
    assert street_operator.permissions() == set(ROLE_PERMISSIONS[Role.STREET_OPERATOR])


def test_role_assign_is_scoped_checked_and_audited(street_admin, street, other_street, grid):
    user = user_create(username="newbie", password=None)
    with pytest.raises(PermissionDenied):
        role_assign(actor=street_admin, user=user, role=Role.GRID_WORKER, area=grid)
    with pytest.raises(ValidationFailed) as bad:
        role_assign(actor=street_admin, user=user, role=Role.DEPARTMENT_OFFICER, area=other_street)
    assert bad.value.errors[0].field == "department"
    with pytest.raises(ValidationFailed) as bad:
        role_assign(actor=street_admin, user=user, role="mayor", area=other_street)
    assert bad.value.errors[0].field == "role"
    assignment = role_assign(actor=street_admin, user=user, role=Role.GRID_WORKER, area=other_street)
    entry = AuditEntry.objects.filter(action="role.assign").latest("id")
    assert (entry.actor_id, entry.area_path) == (street_admin.pk, other_street.path)
    assert user.scope("geo.view_area").paths == (other_street.path,)
    # The same role twice is one assignment, audited once.
    assert role_assign(actor=street_admin, user=user, role=Role.GRID_WORKER, area=other_street) == assignment
    assert AuditEntry.objects.filter(action="role.assign", object_id=str(assignment.pk)).count() == 1
    pk = assignment.pk
    role_revoke(actor=street_admin, assignment=assignment)
    assert user.scope("geo.view_area").empty
    assert AuditEntry.objects.filter(action="role.revoke", object_id=str(pk)).exists()


def test_role_revoke_outside_the_area_is_refused(street_admin, grid_worker):
    assignment = grid_worker.active_assignments()[0]
    with pytest.raises(PermissionDenied):
        role_revoke(actor=street_admin, assignment=assignment)


def test_department_posts_name_the_department_and_area_of_each_post(department_officer,
                                                                   district):
    post = department_officer.active_assignments()[0]
    assert department_posts(department_officer, "governance.handle_task") == \
        [(post.department_id, district.path)]
    assert department_posts(department_officer, "bundles.decide") == \
        [(post.department_id, district.path)]


def test_department_posts_need_the_permission_and_a_department(department_officer,
                                                              street_operator):
    assert department_posts(department_officer, "governance.manage_case") == []
    assert department_posts(street_operator, "governance.handle_task") == []
    assert department_posts(AnonymousUser(), "governance.handle_task") == []
    assert department_posts(None, "governance.handle_task") == []
