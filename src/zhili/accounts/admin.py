"""People, roles, departments and tokens in the admin.

Every write goes through the services, so it is scoped and audited like any
other: users through `user_create`/`user_update`, roles through
`role_assign`/`role_revoke` (added or removed, never edited in place),
tokens only revoked (a raw key is shown once, by the CLI or the API, so the
admin cannot mint one). Nothing here deletes a user: deactivate instead, so
audit entries keep pointing at someone.

Access follows the roles, not Django's model permissions: a staff member
with accounts.manage_users sees and edits the users of their area.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zhili.accounts import selectors, services
from zhili.accounts.models import ApiToken, Department, LoginFailure, RoleAssignment, User
from zhili.accounts.roles import Role
from zhili.audit.services import audit_record
from zhili.core.errors import ApplicationError
from zhili.core.scoping import scope_of

MANAGE_USERS = selectors.MANAGE_USERS
MANAGE_TOKENS = selectors.MANAGE_TOKENS


def _staff_with(request, permission: str) -> bool:
    user = request.user
    return user.is_active and user.is_staff and not scope_of(user, permission).empty


def _whole_city(request, permission: str) -> bool:
    return _staff_with(request, permission) and request.user.covers_whole_city(permission)


class RoleAssignmentForm(forms.ModelForm):
    actor = None  # set per request by RoleAssignmentInline.get_formset

    class Meta:
        model = RoleAssignment
        fields = ("role", "area", "department")

    def clean(self):
        data = super().clean()
        area, role = data.get("area"), data.get("role")
        if role == Role.DEPARTMENT_OFFICER and not data.get("department"):
            self.add_error("department", _("A department officer needs a department."))
        if area is not None and self.actor is not None and \
                not self.actor.has_perm_in(MANAGE_USERS, area.path):
            self.add_error("area", _("You may only assign roles inside your own area."))
        return data


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    form = RoleAssignmentForm
    extra = 1
    raw_id_fields = ("area",)  # tens of thousands of grids: no select box
    fields = ("role", "area", "department", "created_at")
    readonly_fields = ("created_at",)

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = type("ScopedRoleAssignmentForm", (RoleAssignmentForm,),
                              {"actor": request.user})
        return super().get_formset(request, obj, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("area", "department")

    # Roles are added or removed; an edited role would be a revoke plus an assign.
    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return _staff_with(request, MANAGE_USERS)

    def has_delete_permission(self, request, obj=None):
        return _staff_with(request, MANAGE_USERS)

    def has_view_permission(self, request, obj=None):
        return _staff_with(request, MANAGE_USERS)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("display_name", "first_name", "last_name", "email",
                                         "language")}),
        (_("Status"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("username", "display_name", "usable_password", "password1", "password2")}),
    )
    list_display = ("username", "display_name", "roles_held", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "language", "role_assignments__role")
    search_fields = ("username", "display_name", "email")
    inlines = [RoleAssignmentInline]
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request):
        try:
            users = selectors.users_in_scope(request.user, MANAGE_USERS)
        except ApplicationError:
            return User.objects.none()
        return users.prefetch_related("role_assignments")

    @admin.display(description=_("Roles"))
    def roles_held(self, obj):
        return ", ".join(sorted({str(a.get_role_display()) for a in obj.role_assignments.all()}))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("is_superuser")  # only a superuser makes another
        return fields

    def has_module_permission(self, request):
        return _staff_with(request, MANAGE_USERS)

    def has_view_permission(self, request, obj=None):
        return _staff_with(request, MANAGE_USERS)

    def has_add_permission(self, request):
        return _staff_with(request, MANAGE_USERS)

    def has_change_permission(self, request, obj=None):
        if not _staff_with(request, MANAGE_USERS):
            return False
        return obj is None or selectors.manages_fully(request.user, obj, MANAGE_USERS)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            services.user_update(actor=request.user, user=obj, fields=list(form.changed_data))
            return
        password = form.cleaned_data.get("password1") \
            if form.cleaned_data.get("set_usable_password", True) else None
        created = services.user_create(
            actor=request.user, username=obj.username, password=password or None,
            display_name=obj.display_name, email=obj.email,
        )
        # The admin goes on with its own instance (inlines, the redirect): adopt the saved row.
        obj.pk, obj.password, obj.date_joined = created.pk, created.password, created.date_joined
        obj._state.adding, obj._state.db = False, created._state.db

    def save_formset(self, request, form, formset, change):
        if formset.model is not RoleAssignment:
            return super().save_formset(request, form, formset, change)
        user = formset.instance
        # The admin's change message reads these three lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for deleted in formset.deleted_forms:
            if deleted.instance.pk:
                formset.deleted_objects.append(deleted.instance)
                services.role_revoke(actor=request.user, assignment=deleted.instance)
        for row in formset.forms:
            if row in formset.deleted_forms or row.instance.pk or not row.has_changed():
                continue
            formset.new_objects.append(services.role_assign(
                actor=request.user, user=user, role=row.cleaned_data["role"],
                area=row.cleaned_data["area"], department=row.cleaned_data.get("department"),
            ))

    def user_change_password(self, request, id, form_url=""):
        # Django's view saves the password itself; record it in the same transaction.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = self.get_object(request, unquote(id))
                audit_record(actor=request.user, action="user.password_set", obj=user,
                             detail={"username": user.username, "via": "admin"})
        return response


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en")
    search_fields = ("code", "name", "name_en")

    def has_module_permission(self, request):
        return _staff_with(request, MANAGE_USERS)

    def has_view_permission(self, request, obj=None):
        return _staff_with(request, MANAGE_USERS)

    # Departments serve the whole city: only its administrators change them.
    def has_add_permission(self, request):
        return _whole_city(request, MANAGE_USERS)

    def has_change_permission(self, request, obj=None):
        return _whole_city(request, MANAGE_USERS)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.department_save(actor=request.user, department=obj, created=not change)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "expires_at", "revoked_at",
                    "last_used_at", "usable")
    list_filter = ("revoked_at",)
    search_fields = ("=prefix", "name", "user__username")
    fields = ("user", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = fields  # never key_hash; nothing editable
    actions = ["revoke"]

    def get_queryset(self, request):
        own = ApiToken.objects.filter(user=request.user)
        try:
            users = selectors.users_in_scope(request.user, MANAGE_TOKENS)
        except ApplicationError:
            return own.select_related("user")
        return (own | ApiToken.objects.filter(user__in=users)).select_related("user")

    @admin.display(boolean=True, description=_("usable"))
    def usable(self, obj):
        return obj.is_usable

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        done = 0
        for token in queryset:
            try:
                services.token_revoke(actor=request.user, token=token)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{token}: {exc.detail}", messages.ERROR)
        self.message_user(request, _("%(n)d token(s) revoked.") % {"n": done}, messages.SUCCESS)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_change_permission(self, request, obj=None):
        return False  # the revoke action is the only write

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Recent failed logins, to see who is locked out (read only)."""

    list_display = ("username", "client_ip", "at")
    search_fields = ("=username", "=client_ip")
    date_hierarchy = "at"

    def has_module_permission(self, request):
        return _whole_city(request, MANAGE_USERS)

    def has_view_permission(self, request, obj=None):
        return _whole_city(request, MANAGE_USERS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
