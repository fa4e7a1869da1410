"""Supervision's permission names and who may act on a problem.

Read by selectors and services alike, so it imports neither.
"""

from __future__ import annotations

from zhili.accounts.selectors import department_posts

VIEW = "supervision.view_supervision"
MANAGE_PROBLEMS = "supervision.manage_problems"
MANAGE_REPORTS = "supervision.manage_reports"
MANAGE_PROBLEM_RULES = "supervision.manage_problem_rules"


def has(actor, permission: str, path: str) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and \
        actor.has_perm_in(permission, path)


def is_owner(actor, problem) -> bool:
    """The owner puts the problem right: an officer of the owning department (posted
    over the problem's area), or a manager over the owning area unit."""
    if problem.owner_department_id:
        return any(d == problem.owner_department_id and problem.area_path.startswith(p)
                   for d, p in department_posts(actor, VIEW))
    owner_path = problem.owner_area.path if problem.owner_area_id else problem.area_path
    return has(actor, MANAGE_PROBLEMS, owner_path)


def is_supervisor(actor, problem) -> bool:
    """The supervisor verifies, returns and closes: a manager over the problem's area."""
    return has(actor, MANAGE_PROBLEMS, problem.area_path)


def may_view(actor, problem) -> bool:
    return has(actor, VIEW, problem.area_path) or is_owner(actor, problem)


def users_holding(*, permission: str, path: str, department_id: int | None = None) -> list[int]:
    """Active users whose role grants `permission` on exactly this area (the unit's own
    staff, not everyone above it); with `department_id`, that department's officers
    posted over the area."""
    from zhili.accounts.models import RoleAssignment
    from zhili.accounts.roles import ROLE_PERMISSIONS, Role

    roles = [r for r in Role.values if permission in ROLE_PERMISSIONS.get(r, ())]
    rows = RoleAssignment.objects.filter(role__in=roles, user__is_active=True)
    if department_id is not None:
        prefixes = [p for p in _prefixes(path)]
        rows = rows.filter(department_id=department_id, area_path__in=prefixes)
    else:
        rows = rows.filter(area_path=path)
    return list(rows.values_list("user_id", flat=True).distinct())


def _prefixes(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
