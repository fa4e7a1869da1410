"""Writes to users, roles and tokens: one transaction each, with its audit row."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from zhili.accounts.auth import token_digest
from zhili.accounts.models import ApiToken, Department, RoleAssignment, User
from zhili.accounts.roles import Role
from zhili.audit.services import audit_record
from zhili.core.errors import Conflict, PermissionDenied, invalid

TOKEN_PREFIX = "zl_"
MAX_TOKEN_DAYS = 366


def user_create(*, actor=None, username: str, password: str | None, display_name: str = "",
                email: str = "") -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"A user named {username!r} already exists.")
    with transaction.atomic():
        user = User(username=username, display_name=display_name, email=email)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        audit_record(actor=actor, action="user.create", obj=user, detail={"username": username})
    return user


def role_assign(*, actor=None, user: User, role: str, area, department: Department | None = None
                ) -> RoleAssignment:
    if role not in Role.values:
        raise invalid("role", f"unknown role {role!r}; one of: {', '.join(Role.values)}")
    if role == Role.DEPARTMENT_OFFICER and department is None:
        raise invalid("department", "a department officer needs a department")
    if actor is not None and not actor.has_perm_in("accounts.manage_users", area.path):
        raise PermissionDenied("You may only assign roles inside your own area.")
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


def token_create(*, actor=None, user: User, name: str = "cli", days: int = 90) -> tuple[ApiToken, str]:
    """Mint a token; the raw key is returned once and never stored."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise invalid("days", f"must be between 1 and {MAX_TOKEN_DAYS}")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:64], prefix=raw[:10], key_hash=token_digest(raw),
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record(actor=actor, action="token.create", obj=token,
                     detail={"user": user.username, "name": token.name, "days": days})
    return token, raw


def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="token.revoke", obj=token,
                         detail={"user": token.user.username, "name": token.name})
    return token


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
