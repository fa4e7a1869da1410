"""Admin: categories are edited here (limits, departments, attributes); the rest is
read-only, because every change to a case goes through a service (audit, timeline)."""

import importlib
import importlib.util

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhili.core.personal import PersonalDataAdmin
from zhili.governance.models import (
    Case,
    CaseEvent,
    Category,
    DepartmentTask,
    Dispute,
    DisputeParty,
    DutyShift,
    MediationSession,
)
from zhili.registry.masking import mask_phone


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "board", "priority", "lead_department",
                    "accept_minutes", "arrive_minutes", "resolve_minutes", "escalate_minutes",
                    "is_dispute", "active")
    list_filter = ("board", "is_dispute", "active", "priority")
    list_editable = ("priority", "active")
    search_fields = ("code", "name", "name_en")
    filter_horizontal = ("departments",)
    fieldsets = (
        (None, {"fields": ("code", "name", "name_en", "board", "is_dispute", "active")}),
        ("Routing", {"fields": ("lead_department", "departments", "priority")}),
        ("Time limits (minutes)", {"fields": ("accept_minutes", "arrive_minutes",
                                              "resolve_minutes", "escalate_minutes")}),
        ("Duplicates", {"fields": ("duplicate_radius_m", "duplicate_window_hours")}),
        ("Open311 attributes", {"fields": ("attributes",)}),
    )


class ReadOnlyAdmin(PersonalDataAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    fields = ("at", "kind", "who", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("actor"))
    def who(self, obj):
        if obj.case.anonymous and obj.actor_id and obj.actor_id == obj.case.reporter_id:
            return _("anonymous reporter")
        return obj.actor or "—"


class TaskInline(admin.TabularInline):
    model = DepartmentTask
    extra = 0
    fields = ("department", "role", "status", "due_at", "done_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("tracking_no", "category", "status", "current_level", "highest_level",
                    "grid", "created_at", "due_at")
    list_filter = ("status", "current_level", "is_dispute", "channel", "category__board")
    search_fields = ("tracking_no",)
    list_select_related = ("category", "grid")
    raw_id_fields = ("grid", "assignee", "duplicate_of")
    # Who reported and how to reach them stay out: the case page reveals the
    # contact for a purpose (audited); an anonymous reporter only to an auditor.
    exclude = Case.personal_fields
    readonly_fields = ("masked_contact_phone",)
    inlines = [TaskInline, EventInline]

    @admin.display(description=_("contact phone"))
    def masked_contact_phone(self, obj):
        return mask_phone(obj.contact_phone)


@admin.register(DutyShift)
class DutyShiftAdmin(admin.ModelAdmin):
    list_display = ("grid", "user", "weekdays", "start_time", "end_time")
    raw_id_fields = ("grid", "user")
    search_fields = ("grid__code", "user__username")


class PartyInline(admin.TabularInline):
    model = DisputeParty
    extra = 0
    raw_id_fields = ("person",)
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SessionInline(admin.TabularInline):
    model = MediationSession
    extra = 0
    can_delete = False
    fields = ("held_at", "level", "result", "mediator", "notes")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("case", "dispute_type", "resolution_level", "resolved_at")
    list_filter = ("dispute_type", "resolution_level")
    raw_id_fields = ("case",)
    inlines = [PartyInline, SessionInline]


# The Open311 keys' admin lives with the Open311 code, when it is there.
if importlib.util.find_spec("zhili.governance.open311.admin") is not None:
    importlib.import_module("zhili.governance.open311.admin")
