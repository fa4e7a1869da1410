"""The audit log in the admin: read only, for readers with audit.view, scoped to their area."""

from django.contrib import admin

from zhili.audit import selectors
from zhili.audit.models import AuditEntry, AuditHead, AuditTreeHead
from zhili.core.errors import PermissionDenied


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "at", "actor_label", "action", "object_type", "object_id",
                    "area_path", "purpose", "channel")
    list_filter = ("channel", "object_type")
    search_fields = ("=actor_label", "action", "=object_id", "=request_id")
    date_hierarchy = "at"
    list_select_related = False
    show_full_result_count = False  # COUNT(*) over millions of rows is slow on PostgreSQL
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    fields = readonly_fields

    def get_queryset(self, request):
        try:
            return selectors.entry_list(actor=request.user)
        except PermissionDenied:
            return AuditEntry.objects.none()

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        user = request.user
        return user.is_active and user.is_staff and not user.scope(selectors.PERMISSION).empty

    # Nobody, not even a superuser, adds, edits or deletes audit entries here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


@admin.register(AuditHead)
class AuditHeadAdmin(AuditEntryAdmin):
    list_display = ("id", "last_seq", "last_hash")
    list_filter = ()
    search_fields = ()
    date_hierarchy = None
    readonly_fields = ("last_seq", "last_hash")
    fields = readonly_fields

    def get_queryset(self, request):
        return AuditHead.objects.all()

    def has_view_permission(self, request, obj=None):
        user = request.user
        return super().has_view_permission(request, obj) and selectors.may_verify(user)


@admin.register(AuditTreeHead)
class AuditTreeHeadAdmin(AuditHeadAdmin):
    """The signed head of each sequenced batch: what an auditor notes down or publishes."""

    list_display = ("last_seq", "first_seq", "at", "chain_hash", "signature")
    readonly_fields = ("first_seq", "last_seq", "at", "chain_hash", "signature")
    fields = readonly_fields
    date_hierarchy = "at"

    def get_queryset(self, request):
        return AuditTreeHead.objects.all()
