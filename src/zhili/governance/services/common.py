"""Helpers shared by the governance services: clock, locking, permissions, levels.

Not a public API: apps call the services re-exported from
`zhili.governance.services`.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.accounts.models import RoleAssignment
from zhili.accounts.roles import Role
from zhili.core.errors import NotFound, PermissionDenied, invalid
from zhili.governance.access import (  # noqa: F401  (the services' names for them)
    HANDLE_TASK,
    MANAGE,
    MEDIATE,
    VIEW,
    WORK,
    department_pairs,
    has,
    may_view,
)
from zhili.governance.errors import InvalidTransition, StaleVersion
from zhili.governance.ladder import (  # noqa: F401
    DEPTH_LEVEL,
    LEVEL_DEPTH,
    ladder_max,
    level_above,
    level_of_path,
    path_at,
)
from zhili.governance.models import Case, Level
from zhili.notifications.services import notify

# Who is told when a case reaches a level.
LEVEL_ROLES = {
    Level.GRID: (Role.GRID_WORKER, Role.GRID_LEADER),
    Level.COMMUNITY: (Role.COMMUNITY_STAFF,),
    Level.STREET: (Role.STREET_OPERATOR,),
    Level.DISTRICT: (Role.DISTRICT_OPERATOR,),
    Level.CITY: (Role.CITY_OPERATOR,),
}
# Priority 1 (danger to life) also goes out by SMS; the rest in the app only.
URGENT_CHANNELS = ("inapp", "sms")
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L


def clock(now=None):
    return now or timezone.now()


def reopen_days() -> int:
    """How long the reporter may reopen a resolved case; unrated ones close after it."""
    return int(getattr(settings, "ZHILI_CASE_REOPEN_DAYS", 7))


def tracking_number(now) -> str:
    """`ZL` + local date + 8 random characters: unguessable, readable over the phone."""
    day = timezone.localtime(now).strftime("%y%m%d")
    n, base = secrets.randbelow(len(TRACKING_ALPHABET) ** 8), len(TRACKING_ALPHABET)
    chars = []
    for _digit in range(8):  # one draw from the system's randomness, read as 8 digits
        n, digit = divmod(n, base)
        chars.append(TRACKING_ALPHABET[digit])
    return "ZL" + day + "".join(chars)


def text_clean(value, field: str, *, limit: int, required: bool = False) -> str:
    value = "" if value is None else str(value).replace("\x00", "").strip()
    if required and not value:
        raise invalid(field, _("required"))
    if len(value) > limit:
        raise invalid(field, _("at most %(n)d characters") % {"n": limit})
    return value


# -- levels -------------------------------------------------------------------


def level_staff(case: Case, level: str) -> list[int]:
    """Ids of the active users holding that level's roles on the case's area at that level."""
    return list(
        RoleAssignment.objects.filter(role__in=LEVEL_ROLES[level],
                                      area_path=path_at(case.area_path, level),
                                      user__is_active=True)
        .values_list("user_id", flat=True).distinct()
    )


def actor_level(actor, path: str, permission: str) -> str:
    """The lowest ladder level at which the actor holds `permission` over `path`."""
    best = None
    for assignment in actor.active_assignments():
        from zhili.accounts.roles import ROLE_PERMISSIONS

        if permission in ROLE_PERMISSIONS.get(assignment.role, ()) and \
                path.startswith(assignment.area_path):
            depth = len(assignment.area_path.strip("/").split("/")) - 1
            best = depth if best is None else max(best, depth)
    return DEPTH_LEVEL[min(best, 4)] if best is not None else Level.CITY


# -- who may act --------------------------------------------------------------


def require(actor, case: Case, *permissions: str, reporter: bool = False,
            assignee: bool = False) -> None:
    """Allow the actor if it holds one of `permissions` over the case (or is its
    reporter/assignee when those are allowed). Otherwise: 403 if it may see the
    case, else the same 404 as a missing case."""
    if any(has(actor, p, case.area_path) for p in permissions):
        return
    if actor is not None and getattr(actor, "is_authenticated", False):
        if reporter and case.reporter_id == actor.pk:
            return
        if assignee and case.assignee_id == actor.pk and has(actor, WORK, case.area_path):
            return
    if may_view(actor, case):
        raise PermissionDenied(_("Your roles do not allow this action on this case."))
    raise NotFound()


def lock(case: Case, version: int | None) -> Case:
    """Re-read the case under a row lock; a stale `version` is a 409."""
    fresh = (Case.objects.select_for_update(of=("self",)).select_related("category", "grid")
             .defer("grid__geometry").filter(pk=case.pk).first())
    if fresh is None:
        raise NotFound()
    if version is not None:
        try:
            seen = int(version)
        except (TypeError, ValueError):
            raise invalid("version", _("must be an integer")) from None
        if fresh.version != seen:
            raise StaleVersion(seen, fresh.version)
    return fresh


def allowed(case: Case, action: str, states) -> None:
    if case.status not in states:
        raise InvalidTransition(action, case.status)


def save(case: Case, now, *fields: str) -> None:
    """Persist a transition: bump the version, stamp the time."""
    case.version += 1
    case.updated_at = now
    case.save(update_fields=[*fields, "version", "updated_at"])


def set_step(case: Case, step: str, now, minutes: int | None) -> None:
    """Start a step's clock; the escalation sweep watches the same deadline."""
    case.step = step
    case.due_at = now + timedelta(minutes=minutes) if minutes is not None else None
    case.escalate_at = case.due_at


def on_time(case: Case, now) -> bool | None:
    return None if case.due_at is None else now <= case.due_at


def case_link(case: Case) -> str:
    return f"/governance/cases/{case.pk}/"


def tell(*, case: Case, recipients, kind: str, title: str, body: str = "", now=None,
         urgent: bool | None = None) -> int:
    """Notify about a case transition; the version makes the dedupe key unique per change."""
    if urgent is None:
        urgent = case.category.priority <= 1
    return notify(recipients=recipients, kind=kind, title=title, body=body, link=case_link(case),
                  obj=case, dedupe=f"case:{case.pk}:v{case.version}:{kind}",
                  channels=URGENT_CHANNELS if urgent else ("inapp",), now=now)
