"""Writes to users, roles and tokens: one transaction each, with its audit row."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.accounts import selectors
from zhili.accounts.auth import TOKEN_PREFIX, token_digest
from zhili.accounts.models import ApiToken, Department, LoginFailure, RoleAssignment, User
from zhili.accounts.roles import Role
from zhili.audit.services import audit_record
from zhili.core.errors import Conflict, PermissionDenied, invalid

MAX_TOKEN_DAYS = 366
# Fields the admin may change on a user, and whose new values the audit keeps.
USER_FIELDS_AUDITED = ("username", "display_name", "email", "first_name", "last_name",
                       "language", "is_active", "is_staff", "is_superuser")


def user_create(*, actor=None, username: str, password: str | None, display_name: str = "",
                email: str = "") -> User:
    """A new user; `password=None` makes one that can only use tokens until a password is set.

    The password is not judged here (the demo and tests use simple ones): the
    places where a person chooses one (the admin's forms, `zhili users
    create --password-stdin`) run Django's password validators first.
    """
    username = (username or "").strip()
    if not username:
        raise invalid("username", _("must not be empty"))
    try:
        User.username_validator(username)
    except DjangoValidationError:
        raise invalid("username", _("letters, digits and @ . + - _ only")) from None
    if len(username) > 150:
        raise invalid("username", _("at most %(n)d characters") % {"n": 150})
    with transaction.atomic():
        # Usernames differ by more than case: "Admin" must not impersonate "admin".
        if User.objects.filter(username__iexact=username).exists():
            raise Conflict(_("A user named %(username)r already exists.") % {"username": username})
        user = User(username=username, display_name=display_name[:64], email=email)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        audit_record(actor=actor, action="user.create", obj=user,
                     detail={"username": username, "password": bool(password)})
    return user


def user_update(*, actor, user: User, fields: list[str]) -> User:
    """Save changes already made on `user` (by the admin's form) with their audit row."""
    if actor is not None and not selectors.manages_fully(actor, user, "accounts.manage_users"):
        raise PermissionDenied(_("You may only change users whose roles lie in your area."))
    changed = {f: getattr(user, f) for f in fields if f in USER_FIELDS_AUDITED}
    with transaction.atomic():
        user.save()
        audit_record(actor=actor, action="user.update", obj=user,
                     detail={"username": user.username, "changed": changed,
                             "password": "password" in fields})
    user.forget_cached_scope()
    return user


def user_password_set(*, actor, user: User, password: str) -> User:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise invalid("password", " ".join(exc.messages)) from None
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(actor=actor, action="user.password_set", obj=user,
                     detail={"username": user.username})
    return user


def user_language_set(*, actor, user: User, language: str | None) -> User:
    """Set the language `user` reads pages and notifications in ("" or None: the platform's).

    Users set their own; an administrator may set it for users of their area.
    Setting the language it already has changes and records nothing.
    """
    language = (language or "").strip().lower()
    known = [code for code, _label in settings.LANGUAGES]
    if language and language not in known:
        raise invalid("language", _("unknown language %(language)r; one of: %(languages)s, "
                                    "or empty for the platform's language")
                      % {"language": language[:40], "languages": ", ".join(known)})
    if (actor is not None and actor.pk != user.pk
            and not selectors.manages_fully(actor, user, "accounts.manage_users")):
        raise PermissionDenied(_("You may only change users whose roles lie in your area."))
    with transaction.atomic():
        was = User.objects.select_for_update().values_list("language", flat=True).get(pk=user.pk)
        user.language = language
        if was == language:
            return user
        user.save(update_fields=["language"])
        audit_record(actor=actor, action="user.language_set", obj=user,
                     detail={"username": user.username, "language": language, "was": was})
    return user


def user_log_in(*, request, user: User) -> None:
    """Start a page session (Django's login) and record it."""
    with transaction.atomic():
        login(request, user)
        LoginFailure.objects.filter(username=user.get_username().lower()).delete()
        audit_record(actor=user, action="user.login", obj=user,
                     detail={"username": user.get_username()})


def role_assign(*, actor=None, user: User, role: str, area, department: Department | None = None
                ) -> RoleAssignment:
    if role not in Role.values:
        raise invalid("role", _("unknown role %(role)r; one of: %(roles)s")
                      % {"role": role, "roles": ", ".join(Role.values)})
    if role == Role.DEPARTMENT_OFFICER and department is None:
        raise invalid("department", _("a department officer needs a department"))
    if actor is not None and not actor.has_perm_in("accounts.manage_users", area.path):
        raise PermissionDenied(_("You may only assign roles inside your own area."))
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(
            user=user, role=role, area=area, department=department,
            defaults={"area_path": area.path},
        )
        if created:
            audit_record(actor=actor, action="role.assign", obj=assignment, area_path=area.path,
                         detail={"user": user.username, "role": role, "area": area.code,
                                 "department": department.code if department else None})
    user.forget_cached_scope()
    return assignment


def role_revoke(*, actor=None, assignment: RoleAssignment) -> None:
    if actor is not None and not actor.has_perm_in("accounts.manage_users", assignment.area_path):
        raise PermissionDenied(_("You may only remove roles inside your own area."))
    user = assignment.user
    with transaction.atomic():
        detail = {"user": user.username, "role": assignment.role, "area": assignment.area.code,
                  "department": assignment.department.code if assignment.department else None}
        pk = assignment.pk
        assignment.delete()
        audit_record(actor=actor, action="role.revoke", object_type="accounts.roleassignment",
                     object_id=pk, area_path=assignment.area_path, detail=detail)
    user.forget_cached_scope()


def token_create(*, actor=None, user: User, name: str = "cli", days: int = 90,
                 not_after: datetime | None = None) -> tuple[ApiToken, str]:
    """Mint a token; the raw key is returned once and never stored (only its SHA-256).

    `not_after` caps the expiry: a token minted with a token expires no later
    than the one that minted it, so a stolen token cannot renew itself forever.
    """
    if not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        raise invalid("days", _("must be between 1 and %(max)d") % {"max": MAX_TOKEN_DAYS})
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise invalid("name", _("1 to 64 characters"))
    if not user.is_active:
        raise invalid("user", _("%(username)r is not active") % {"username": user.username})
    if (actor is not None and actor.pk != user.pk
            and not selectors.manages_fully(actor, user, "accounts.manage_tokens")):
        raise PermissionDenied(_("You may only mint tokens for yourself."))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=days)
    if not_after is not None:
        expires_at = min(expires_at, not_after)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, prefix=raw[:10], key_hash=token_digest(raw),
            expires_at=expires_at,
        )
        audit_record(actor=actor, action="token.create", obj=token,
                     detail={"user": user.username, "name": token.name, "prefix": token.prefix,
                             "expires_at": expires_at.isoformat()})
    return token, raw


def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoke at once (idempotent). Own tokens, or any of a user in the actor's area."""
    if actor is not None and actor.pk != token.user_id:
        selectors.token_get_for_revoke(actor=actor, token_id=token.pk)  # NotFound if not theirs
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="token.revoke", obj=token,
                         detail={"user": token.user.username, "name": token.name,
                                 "prefix": token.prefix})
    return token


def department_save(*, actor, department: Department, created: bool) -> Department:
    """Create or change a department (the admin's form has set its fields)."""
    with transaction.atomic():
        department.save()
        audit_record(actor=actor, action="department.create" if created else "department.update",
                     obj=department, detail={"code": department.code, "name": department.name,
                                             "name_en": department.name_en})
    return department


DEPARTMENTS = [
    ("power", "国网重庆电力", "Power utility"),
    ("water", "供水公司", "Water utility"),
    ("gas", "燃气公司", "Gas utility"),
    ("housing", "住房城乡建设委", "Housing and urban-rural development"),
    ("civil-affairs", "民政局", "Civil affairs"),
    ("public-security", "公安局", "Public security"),
    ("health", "卫生健康委", "Health"),
    ("medical-insurance", "医疗保障局", "Medical insurance"),
    ("hrss", "人力社保局", "Human resources and social security"),
    ("market-regulation", "市场监管局", "Market regulation"),
    ("emergency", "应急管理局", "Emergency management"),
    ("natural-resources", "规划自然资源局", "Planning and natural resources"),
    ("ecology", "生态环境局", "Ecology and environment"),
    ("education", "教育委员会", "Education"),
    ("urban-management", "城市管理局", "Urban management"),
    ("transport", "交通运输委", "Transport"),
    ("fire-rescue", "消防救援总队", "Fire and rescue"),
    ("veterans", "退役军人事务局", "Veterans affairs"),
    ("housing-fund", "住房公积金管理中心", "Housing provident fund"),
    ("tax", "税务局", "Taxation"),
    ("disabled-federation", "残疾人联合会", "Disabled persons' federation"),
    ("development-reform", "发展改革委", "Development and reform"),
    ("telecom", "通信管理局", "Telecommunications"),
]


def departments_ensure(*, actor=None) -> int:
    """Create the standard departments that are missing; return how many were added."""
    existing = set(Department.objects.values_list("code", flat=True))
    missing = [Department(code=c, name=n, name_en=e) for c, n, e in DEPARTMENTS if c not in existing]
    if missing:
        with transaction.atomic():
            Department.objects.bulk_create(missing)
            audit_record(actor=actor, action="department.seed", object_type="accounts.department",
                         detail={"codes": [d.code for d in missing]})
    return len(missing)
