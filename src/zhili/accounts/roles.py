"""Roles and what each may do. A role is held on an area node and covers its subtree.

Permissions are plain strings `<app>.<verb>_<thing>`, declared by the app that
defines them, which also says which roles get them (`permissions` and
`grants` on its AppConfig, see core.plugins). The scope of a permission is
the union of the subtrees of the assignments whose role grants it.
"""

from collections.abc import Iterator, Mapping

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhili.core.plugins import registry


class Role(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    GRID_WORKER = "grid_worker", _("Grid worker")
    GRID_LEADER = "grid_leader", _("Grid leader")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    STREET_OPERATOR = "street_operator", _("Street centre operator")
    DISTRICT_OPERATOR = "district_operator", _("District operator")
    CITY_OPERATOR = "city_operator", _("City operator")
    DEPARTMENT_OFFICER = "department_officer", _("Department officer")
    RESPONSIBLE_PERSON = "responsible_person", _("Responsible person")
    EMERGENCY_COMMANDER = "emergency_commander", _("Emergency commander")
    CITY_ADMIN = "city_admin", _("City administrator")


# Role groups the apps' grants use, so a new staff role is added in one place.
STAFF_ROLES = frozenset(Role) - {Role.RESIDENT, Role.RESPONSIBLE_PERSON}
GRID_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})
OPERATOR_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.STREET_OPERATOR, Role.DISTRICT_OPERATOR,
                            Role.CITY_OPERATOR})


class _RolePermissions(Mapping):
    """role -> the permissions the installed apps grant it (read at use, so an app
    installed later, or only in a test, counts)."""

    def __getitem__(self, role: str) -> frozenset[str]:
        return registry().role_permissions.get(str(role), frozenset())

    def __contains__(self, role) -> bool:
        return str(role) in Role.values

    def __iter__(self) -> Iterator[str]:
        return iter(Role.values)

    def __len__(self) -> int:
        return len(Role.values)


ROLE_PERMISSIONS: Mapping[str, frozenset[str]] = _RolePermissions()


def all_permissions() -> frozenset[str]:
    return frozenset(registry().permissions)
