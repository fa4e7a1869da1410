from django.contrib import admin

from zhili.geo.models import AreaNode, BoundaryVersion


@admin.register(AreaNode)
class AreaNodeAdmin(admin.ModelAdmin):
    """Read-only: boundaries change only through `zhili city import` (audited, versioned)."""

    list_display = ("code", "name", "name_en", "level", "synthetic", "updated_at")
    list_filter = ("level", "synthetic")
    search_fields = ("code", "name", "name_en")
    exclude = ("geometry",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BoundaryVersion)
class BoundaryVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "changed_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
