from django.contrib import admin

from zhili.cockpit.models import LiveEvent, WorkerPosition


@admin.register(WorkerPosition)
class WorkerPositionAdmin(admin.ModelAdmin):
    """Read-only: positions come from the workers' phones (services.position_report)."""

    list_display = ("worker", "at", "lon", "lat", "area_path")
    ordering = ("-at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LiveEvent)
class LiveEventAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "object_id", "area_path", "at")
    ordering = ("-id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
