"""Who may do what with bundles.

Permission strings (`bundles.apply`, `bundles.decide`, `bundles.manage_catalogue`)
are declared and granted in apps.py (BundlesConfig). Deciding is bound to a
department: an officer decides only tasks of their own department, in the
area their assignment covers.
"""

from __future__ import annotations

from django.db.models import Q

from zhili.accounts.roles import ROLE_PERMISSIONS
from zhili.accounts.selectors import department_posts

# The consent under which the notice and the form read an applicant's data.
PURPOSE = "bundles-prefill"
PURPOSE_TEXT = "一件事一次办：预填表单、复用电子证照 (one thing, one go: prefill and reuse certificates)"


def _grants(role: str, permission: str) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, ())


def _authenticated(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and actor.is_active


def may_apply(actor) -> bool:
    return _authenticated(actor) and any(_grants(a.role, "bundles.apply")
                                         for a in actor.active_assignments())


def may_manage(actor) -> bool:
    return _authenticated(actor) and (actor.is_superuser or any(
        _grants(a.role, "bundles.manage_catalogue") for a in actor.active_assignments()))


def officer_posts(actor) -> list[tuple[int, str]]:
    """(department id, area path) for every post where the actor decides tasks."""
    return department_posts(actor, "bundles.decide")


def officer_q(actor, department_field: str = "department_id", path_field: str = "area_path") -> Q:
    """Rows of the actor's departments inside the areas of those posts (nothing if none)."""
    posts = officer_posts(actor)
    if not posts:
        return Q(pk__in=[])
    q = Q()
    for dept, path in posts:
        q |= Q(**{department_field: dept, f"{path_field}__startswith": path})
    return q


def is_officer(actor) -> bool:
    return bool(officer_posts(actor))


def may_decide(actor, task) -> bool:
    return any(task.department_id == dept and (task.area_path or "").startswith(path)
               for dept, path in officer_posts(actor))


def binding_for(actor):
    from zhili.bundles.models import ApplicantBinding

    if not _authenticated(actor):
        return None
    cache = actor.__dict__.setdefault("_bundles_binding", {})
    if "b" not in cache:
        cache["b"] = (ApplicantBinding.objects.select_related("person", "organisation")
                      .filter(user=actor).first())
    return cache["b"]
