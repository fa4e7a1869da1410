"""API authentication: a bearer token (apps, machines) or the page session (with CSRF)."""

from __future__ import annotations

import hashlib

from django.db.models import F
from django.utils import timezone
from ninja.security import HttpBearer, django_auth

from zhili.accounts.models import ApiToken, Department, RoleAssignment
from zhili.core.auth import api_auth_register, optional_auth  # noqa: F401  (re-exported)
from zhili.core.rows import instance_from_row

# last_used_at is refreshed at most this often, so a busy token is not a hot row.
LAST_USED_GRANULARITY_SECONDS = 300
# Every key starts with this, so a leaked one is easy to grep for in code and logs.
TOKEN_PREFIX = "zl_"


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


ROLE_FIELDS = ("id", "role", "area_id", "area_path", "department_id")


def _assignment(user, row) -> RoleAssignment:
    """A RoleAssignment from the joined columns (its area loads if asked for)."""
    assignment = instance_from_row(RoleAssignment, {
        "user_id": user.pk, **{f: getattr(row, f"ra_{f}") for f in ROLE_FIELDS}})
    assignment.user = user
    if row.ra_department_id is not None:
        assignment.department = instance_from_row(
            Department, {"id": row.ra_department_id, "code": row.ra_department_code})
    return assignment


class BearerToken(HttpBearer):
    """`Authorization: Bearer zl_…`: looked up by its SHA-256; expired, revoked or
    an inactive user's tokens do not authenticate (401)."""

    def authenticate(self, request, token: str):
        token = (token or "").strip()
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        # The user's roles come in the same query (one row per assignment, a LEFT
        # JOIN): nearly every API request checks the actor's scope.
        rows = list(
            ApiToken.objects.select_related("user")
            .filter(key_hash=token_digest(token), revoked_at__isnull=True,
                    expires_at__gt=timezone.now(), user__is_active=True)
            .annotate(**{f"ra_{f}": F(f"user__role_assignments__{f}") for f in ROLE_FIELDS},
                      ra_department_code=F("user__role_assignments__department__code"))
            .order_by("ra_id")
        )
        if not rows:
            return None
        found = rows[0]
        found.user.assignments_known([_assignment(found.user, row) for row in rows
                                      if row.ra_id is not None])
        now = timezone.now()
        if not found.last_used_at or (now - found.last_used_at).total_seconds() > LAST_USED_GRANULARITY_SECONDS:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        request.api_token = found
        return found.user


API_AUTH = [BearerToken(), django_auth]
# On import, which the project's API does before mounting any router: every
# router's `optional_auth` then knows these.
api_auth_register(*API_AUTH)
