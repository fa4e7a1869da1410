"""Who may see or work a case: the permission names and the checks on them.

Read by the selectors and the services alike, so it imports neither: reads
never import writes. Department posts come from `accounts.selectors`, the
one answer to "which departments does this actor act for, where".
"""

from __future__ import annotations

from zhili.accounts.selectors import department_posts
from zhili.governance.models import Case

VIEW = "governance.view_case"
WORK = "governance.work_case"
MANAGE = "governance.manage_case"
MEDIATE = "governance.mediate"
HANDLE_TASK = "governance.handle_task"


def has(actor, permission: str, path: str) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and \
        actor.has_perm_in(permission, path)


def department_pairs(actor) -> list[tuple[int, str]]:
    """(department id, area path) for each of the actor's posts that handles department tasks."""
    return department_posts(actor, HANDLE_TASK)


def may_view(actor, case: Case) -> bool:
    """Staff in scope, the reporter (and reporters of its duplicates), or a tasked department."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if has(actor, VIEW, case.area_path) or (case.reporter_id and case.reporter_id == actor.pk):
        return True
    pairs = department_pairs(actor)
    if pairs and any(case.area_path.startswith(p) for _, p in pairs):
        departments = {d for d, p in pairs if case.area_path.startswith(p)}
        if case.department_tasks.filter(department_id__in=departments).exists():
            return True
    return Case.objects.filter(duplicate_of=case, reporter_id=actor.pk).exists()
