"""Roles and what each may do. A role is held on an area node and covers its subtree.

Permissions are plain strings `<app>.<verb>_<thing>`; the scope of a
permission is the union of the subtrees of the assignments whose role grants it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


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


STAFF_VIEW = {"geo.view_area", "registry.view_person", "registry.view_organisation",
              "registry.view_certificate"}

# Grid governance (cases and disputes). view_case: read cases in the area;
# work_case: accept, check in, resolve, escalate, patrol reports (the grid's own
# staff); manage_case: assign, dispatch to departments, verify, close, reject,
# escalate, confirm duplicates; mediate: record disputes and mediation sessions;
# handle_task: a department officer's tasks of their department in the area.
GOV_VIEW = {"governance.view_case"}
GOV_GRID = GOV_VIEW | {"governance.work_case", "governance.mediate"}
GOV_MANAGE = GOV_VIEW | {"governance.manage_case", "governance.mediate"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.RESIDENT: frozenset({"bundles.apply"}),
    Role.GRID_WORKER: frozenset(STAFF_VIEW | GOV_GRID),
    Role.GRID_LEADER: frozenset(STAFF_VIEW | GOV_GRID),
    Role.COMMUNITY_STAFF: frozenset(STAFF_VIEW | GOV_MANAGE),
    Role.STREET_OPERATOR: frozenset(STAFF_VIEW | GOV_MANAGE | {"registry.reveal_person"}),
    Role.DISTRICT_OPERATOR: frozenset(STAFF_VIEW | GOV_MANAGE | {"registry.reveal_person"}),
    Role.CITY_OPERATOR: frozenset(STAFF_VIEW | GOV_MANAGE | {"registry.reveal_person"}),
    Role.DEPARTMENT_OFFICER: frozenset(STAFF_VIEW | {"registry.reveal_person",
                                                     "registry.issue_certificate",
                                                     "governance.handle_task",
                                                     "bundles.decide"}),
    Role.RESPONSIBLE_PERSON: frozenset({"geo.view_area"}),
    Role.EMERGENCY_COMMANDER: frozenset(STAFF_VIEW),
    Role.CITY_ADMIN: frozenset(
        STAFF_VIEW
        | {
            "registry.reveal_person",
            "registry.change_person",
            "registry.change_organisation",
            "registry.issue_certificate",
            "audit.view",
            "accounts.manage_users",
            "accounts.manage_tokens",
            "geo.change_area",
            "bundles.manage_catalogue",
        }
        | GOV_VIEW
    ),
}

ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())
