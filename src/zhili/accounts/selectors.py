"""Reads of users and tokens, through the reader's scope.

A user lies in an administrator's area when they hold a role there. Users
with no role at all belong to no area: only administrators of the whole city
see them (the same rule as audit entries without an area).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from zhili.accounts.models import ApiToken, RoleAssignment, User
from zhili.accounts.roles import ROLE_PERMISSIONS, STAFF_ROLES, Role
from zhili.core.errors import NotFound, PermissionDenied, invalid
from zhili.core.scoping import scope_of

MANAGE_USERS = "accounts.manage_users"
MANAGE_TOKENS = "accounts.manage_tokens"


def may_use_admin(user) -> bool:
    """Whether /admin/ lets the user in (Django's rule: an active staff member)."""
    return user.is_authenticated and user.is_active and user.is_staff


def uses_api(user) -> bool:
    """Staff, and whoever works in a staff role: the ones the API docs are for.

    Read from the assignments the request already holds: a menu costs no query.
    """
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_staff or bool(user.roles() & STAFF_ROLES)


def users_in_scope(actor, permission: str) -> QuerySet[User]:
    """Users holding a role inside `actor`'s scope for `permission`."""
    scope = scope_of(actor, permission)
    if scope.empty:
        raise PermissionDenied(_("This needs the %(permission)s permission.") % {"permission": permission})
    if scope.everywhere or actor.covers_whole_city(permission):
        return User.objects.all()
    holding = RoleAssignment.objects.filter(scope.q("area_path")).values("user_id")
    return User.objects.filter(pk__in=holding)


def manages_fully(actor, user: User, permission: str) -> bool:
    """Whether every role `user` holds lies in `actor`'s scope (needed to act *as* them).

    Acting as someone (minting their token) must not reach beyond the
    actor's own area, so all of their roles must be inside it; a superuser
    or a user without roles is for administrators of the whole city only.
    """
    if actor is None:
        return True  # the server's own command line
    scope = scope_of(actor, permission)
    if scope.empty:
        return False
    if scope.everywhere or actor.covers_whole_city(permission):
        return True
    assignments = user.active_assignments()
    return (not user.is_superuser and bool(assignments)
            and all(scope.covers(a.area_path) for a in assignments))


def department_posts(actor, permission: str) -> list[tuple[int, str]]:
    """(department id, area path) of each of the actor's posts that is bound to a
    department and whose role grants `permission`.

    The one answer to "which departments does this actor act for, and where",
    for every app that routes work to departments; the assignments are cached
    on the user, so this costs no query after the first.
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return []
    return [(a.department_id, a.area_path) for a in actor.active_assignments()
            if a.department_id is not None and permission in ROLE_PERMISSIONS.get(a.role, ())]


def user_list(*, actor, filters: Mapping[str, Any] | None = None) -> QuerySet[User]:
    """Users in the actor's area (accounts.manage_users), with their roles.

    filters: role (a role code), area (an area code: roles held there or
    below), q (username starts with), active (bool).
    """
    from zhili.geo.selectors import node_by_code

    f = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    users = users_in_scope(actor, MANAGE_USERS)
    if "role" in f or "area" in f:
        matching = RoleAssignment.objects.all()
        if "role" in f:
            if f["role"] not in Role.values:
                raise invalid("role", _("unknown role %(role)r; one of: %(roles)s")
                              % {"role": f["role"], "roles": ", ".join(Role.values)})
            matching = matching.filter(role=f["role"])
        if "area" in f:
            node = node_by_code(f["area"])
            if node is None:
                raise invalid("area", _("no area with code %(code)r") % {"code": f["area"]})
            matching = matching.filter(area_path__startswith=node.path)
        users = users.filter(pk__in=matching.values("user_id"))
    if "q" in f:
        users = users.filter(username__startswith=f["q"])
    if "active" in f:
        users = users.filter(is_active=f["active"])
    return users.order_by("username").prefetch_related(
        Prefetch("role_assignments",
                 queryset=RoleAssignment.objects.select_related("area", "department")
                 .order_by("area_path", "role"))
    )


def token_list(*, actor, username: str | None = None) -> QuerySet[ApiToken]:
    """The actor's own tokens; or, with accounts.manage_tokens, a user's in their area."""
    if not username or username == actor.get_username():
        owner = actor
    else:
        owner = users_in_scope(actor, MANAGE_TOKENS).filter(username=username).first()
        if owner is None:
            raise NotFound(_("No user %(username)r in your area.") % {"username": username})
    return ApiToken.objects.filter(user=owner).select_related("user").order_by("-created_at", "-id")


def token_get_for_revoke(*, actor, token_id: int) -> ApiToken:
    """The actor's own token, or one of a user in their area (accounts.manage_tokens).

    Anything else is NotFound, the same as a missing token.
    """
    token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if token is not None and token.user_id != actor.pk:
        scope = scope_of(actor, MANAGE_TOKENS)
        if scope.empty or not users_in_scope(actor, MANAGE_TOKENS).filter(pk=token.user_id).exists():
            token = None
    if token is None:
        raise NotFound(_("No token %(id)s of yours or of a user in your area.") % {"id": token_id})
    return token
