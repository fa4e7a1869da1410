"""API authentication: a bearer token (apps, machines) or the page session (with CSRF)."""

from __future__ import annotations

import hashlib

from django.db import connection
from django.utils import timezone
from ninja.security import HttpBearer, django_auth

from zhili.accounts.models import ApiToken, Department, RoleAssignment, User
from zhili.core.auth import api_auth_register, optional_auth  # noqa: F401  (re-exported)
from zhili.core.prepared import fetch as prepared_fetch
from zhili.core.rows import instance_from_row

# last_used_at is refreshed at most this often, so a busy token is not a hot row.
LAST_USED_GRANULARITY_SECONDS = 300
# Every key starts with this, so a leaked one is easy to grep for in code and logs.
TOKEN_PREFIX = "zl_"


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


ROLE_FIELDS = ("id", "role", "area_id", "area_path", "department_id")


ROLE_COLUMNS = (*ROLE_FIELDS, "department_code")


def _fields(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


_TOKEN_SQL: list[str] = []
_CONVERTERS: list[list] = []


def _converters() -> list:
    """Per column of token_sql(), the backend's and the field's converters (SQLite
    returns datetimes as text and booleans as integers), as the ORM applies them."""
    if not _CONVERTERS:
        fields = [*ApiToken._meta.concrete_fields, *User._meta.concrete_fields,
                  *(RoleAssignment._meta.get_field(f) for f in ROLE_FIELDS),
                  Department._meta.get_field("code")]
        out = []
        for field in fields:
            col = field.get_col(field.model._meta.db_table)
            out.append((col, connection.ops.get_db_converters(col)
                        + field.get_db_converters(connection)))
        _CONVERTERS.append(out)
    return _CONVERTERS[0]


def _converted(row) -> tuple:
    return tuple(value if value is None or not funcs else _apply(funcs, value, col)
                 for value, (col, funcs) in zip(row, _converters(), strict=True))


def _apply(funcs, value, col):
    for func in funcs:
        value = func(value, col, connection)
    return value


def token_sql() -> str:
    """The token, its active user (every field, as select_related loads it) and the
    user's role assignments with their department's code: one row per assignment."""
    if not _TOKEN_SQL:
        quote = connection.ops.quote_name
        t, u = ApiToken._meta.db_table, User._meta.db_table
        columns = [f"t.{quote(f.column)}" for f in ApiToken._meta.concrete_fields]
        columns += [f"u.{quote(f.column)}" for f in User._meta.concrete_fields]
        columns += [f"ra.{quote(RoleAssignment._meta.get_field(f).column)}" for f in ROLE_FIELDS]
        columns.append(f"d.{quote('code')}")
        _TOKEN_SQL.append(
            f"SELECT {', '.join(columns)} FROM {quote(t)} t "
            f"JOIN {quote(u)} u ON u.id = t.user_id "
            f"LEFT JOIN {quote(RoleAssignment._meta.db_table)} ra ON ra.user_id = u.id "
            f"LEFT JOIN {quote(Department._meta.db_table)} d ON d.id = ra.department_id "
            "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s "
            "AND u.is_active ORDER BY ra.id")
    return _TOKEN_SQL[0]


def _assignment(user, row: dict) -> RoleAssignment:
    """A RoleAssignment from the joined columns (its area loads if asked for)."""
    assignment = instance_from_row(RoleAssignment, {
        "user_id": user.pk, **{f: row[f] for f in ROLE_FIELDS}})
    assignment.user = user
    if row["department_id"] is not None:
        assignment.department = instance_from_row(
            Department, {"id": row["department_id"], "code": row["department_code"]})
    return assignment


class BearerToken(HttpBearer):
    """`Authorization: Bearer zl_…`: looked up by its SHA-256; expired, revoked or
    an inactive user's tokens do not authenticate (401)."""

    def authenticate(self, request, token: str):
        token = (token or "").strip()
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        # The user's roles come in the same query (one row per assignment, a LEFT
        # JOIN): nearly every API request checks the actor's scope. Written out
        # once per process (token_sql()): compiling it as a queryset cost Django
        # more CPU than the rest of an intake's authentication (a test checks it
        # against the ORM's rows), and prepared once per connection (core/prepared.py).
        rows = [_converted(row) for row in prepared_fetch(
            "zhili_token", token_sql(),
            [token_digest(token), connection.ops.adapt_datetimefield_value(timezone.now())])]
        if not rows:
            return None
        token_fields, user_fields = _fields(ApiToken), _fields(User)
        first = rows[0]
        found = ApiToken.from_db(connection.alias, token_fields, first[:len(token_fields)])
        user = User.from_db(connection.alias, user_fields,
                            first[len(token_fields):len(token_fields) + len(user_fields)])
        found.user = user
        skip = len(token_fields) + len(user_fields)
        user.assignments_known([_assignment(user, dict(zip(ROLE_COLUMNS, row[skip:], strict=True)))
                                for row in rows if row[skip] is not None])
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
