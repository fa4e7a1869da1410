from django.contrib import admin

from zhili.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "recipient", "channel", "status", "attempts", "read_at")
    list_filter = ("status", "channel", "kind")
    search_fields = ("title", "recipient__username", "dedupe_key")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False  # notifications are written by services, not by hand
