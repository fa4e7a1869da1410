from django.contrib import admin

from zhili.notifications.channels import mask_address
from zhili.notifications.models import Delivery, Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "title", "fanout_state", "fanout_count")
    list_filter = ("kind", "fanout_state")
    search_fields = ("title", "dedupe_key")
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request):
        return False  # messages are written by services, not by hand


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    # No free-text search and no count of a million rows: filters by status and channel.
    list_display = ("id", "message", "user", "person_id", "channel", "status", "attempts",
                    "sent_at", "acknowledged_at")
    list_filter = ("status", "channel")
    list_select_related = ("message", "user")
    show_full_result_count = False
    # The address (a person's phone) is shown masked: this page is not an audited read.
    exclude = ("address",)
    readonly_fields = [f.name for f in Delivery._meta.fields if f.name != "address"] + \
        ["address_masked"]

    @admin.display(description="address")
    def address_masked(self, obj):
        return mask_address(obj.address) if obj.address else "-"

    def has_add_permission(self, request):
        return False  # deliveries are written by services, not by hand
