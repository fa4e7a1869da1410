from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.accounts.roles import ROLE_PERMISSIONS, Role, all_permissions
from zhili.core.scoping import Scope, minimal_paths


class Department(models.Model):
    """A government department or public utility that handles matters and tasks."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    display_name = models.CharField(max_length=64, blank=True)
    # What this user reads pages and notifications in; blank: the platform's (LANGUAGE_CODE).
    language = models.CharField(
        _("language"), max_length=16, blank=True, default="", choices=settings.LANGUAGES,
        help_text=_("Pages after login and notifications; empty: the platform's language."))

    @property
    def reading_language(self) -> str:
        """The language notifications to this user are written in."""
        return language_or_default(self.language)

    def scope(self, permission: str) -> Scope:
        """Where this user holds `permission` (cached per user object, i.e. per request)."""
        cache = self.__dict__.setdefault("_scope_cache", {})
        if permission not in cache:
            if not self.is_active:
                cache[permission] = Scope.nowhere()
            else:
                paths, everywhere = [], self.is_superuser
                for assignment in self.active_assignments():
                    if permission in ROLE_PERMISSIONS.get(assignment.role, ()):
                        paths.append(assignment.area_path)
                cache[permission] = Scope(paths=minimal_paths(paths), everywhere=everywhere)
        return cache[permission]

    def has_perm_in(self, permission: str, path: str | None) -> bool:
        return self.scope(permission).covers(path)

    def covers_whole_city(self, permission: str) -> bool:
        """Whether `permission` is held over every root of the hierarchy.

        Rows that belong to no area (accounts, logins, system jobs) are only
        for such holders.
        """
        scope = self.scope(permission)
        if scope.everywhere or scope.empty:
            return scope.everywhere
        cache = self.__dict__.setdefault("_whole_city_cache", {})
        if permission not in cache:
            from zhili.geo.models import AreaNode

            roots = AreaNode.objects.filter(parent__isnull=True).values_list("path", flat=True)
            cache[permission] = all(scope.covers(path) for path in roots)
        return cache[permission]

    def departments(self) -> set[str]:
        """Codes of the departments this user acts for (department officers)."""
        return {a.department.code for a in self.active_assignments() if a.department_id}

    def permissions(self) -> set[str]:
        """Every permission held somewhere (superusers: all that exist)."""
        if not self.is_active:
            return set()
        if self.is_superuser:
            return set(all_permissions())
        held: set[str] = set()
        for assignment in self.active_assignments():
            held |= ROLE_PERMISSIONS.get(assignment.role, frozenset())
        return held

    def active_assignments(self) -> list[RoleAssignment]:
        if "_assignments" not in self.__dict__:
            self.__dict__["_assignments"] = list(
                # Not the area's outline: a district's runs to hundreds of kB.
                self.role_assignments.select_related("area", "department")
                .defer("area__geometry")
            )
        return self.__dict__["_assignments"]

    def assignments_known(self, assignments: list[RoleAssignment]) -> None:
        """Use these as the active assignments (the caller read them in its own query)."""
        self.forget_cached_scope()
        self.__dict__["_assignments"] = list(assignments)

    def roles(self) -> set[str]:
        return {a.role for a in self.active_assignments()}

    def home_area(self):
        """The highest node the user works at: where their map starts."""
        assignments = self.active_assignments()
        if not assignments:
            return None
        return min(assignments, key=lambda a: len(a.area_path)).area

    def forget_cached_scope(self):
        for key in ("_scope_cache", "_assignments", "_whole_city_cache"):
            self.__dict__.pop(key, None)


def language_or_default(code: str | None) -> str:
    """`code` if it is one of settings.LANGUAGES, else the platform's language."""
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=24, choices=Role.choices)
    area = models.ForeignKey("geo.AreaNode", on_delete=models.PROTECT, related_name="+")
    # Copied from the area: scope checks need no join.
    area_path = models.CharField(max_length=96, db_index=True, editable=False)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "area", "department"], name="unique_role_assignment"
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} @ {self.area_id}"


class ApiToken(models.Model):
    """A bearer token for apps and machines. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64)
    prefix = models.CharField(max_length=12, db_index=True, help_text=_("Shown to identify a token."))
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class LoginFailure(models.Model):
    """A failed login; recent ones throttle further attempts (durable across processes)."""

    username = models.CharField(max_length=150, db_index=True)
    client_ip = models.GenericIPAddressField(null=True, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"{self.username} from {self.client_ip or '?'} at {self.at:%Y-%m-%d %H:%M:%S}"
