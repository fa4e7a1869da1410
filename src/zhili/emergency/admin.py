"""Admin for rescue resources, through the services (validated, located, audited);
opening a resource's form reads its contact and is audited. Road networks and
coverage runs are read-only here (the command and the long lane write them).
Incidents: admin_incidents.py."""

from django import forms
from django.contrib import admin

from zhili.core.errors import ApplicationError
from zhili.core.personal import PersonalDataAdmin
from zhili.core.scoping import scope_of
from zhili.emergency import (
    admin_incidents,  # noqa: F401 (registers the incidents' admin)
    services,
)
from zhili.emergency.admin_access import ManagersOnly
from zhili.emergency.models import CoverageRun, RescueResource, RoadNetwork

MANAGE = services.MANAGE
EDITABLE = ("name", "kind", "grade", "capacity", "availability", "lon", "lat", "contact_name",
            "contact_phone")


class ResourceForm(forms.ModelForm):
    def clean(self):
        data = super().clean()
        try:
            services.resource_clean({k: v for k, v in data.items() if k in EDITABLE or k == "code"})
            if data.get("lon") is not None and data.get("lat") is not None:
                services.grid_of(data["lon"], data["lat"])
        except ApplicationError as exc:
            for error in exc.errors:
                self.add_error(error.field if error.field in self.fields else None, error.message)
            if not exc.errors:
                self.add_error("lon", exc.detail)
        return data


@admin.register(RescueResource)
class RescueResourceAdmin(ManagersOnly, PersonalDataAdmin):
    form = ResourceForm
    list_display = ("code", "name", "kind", "capacity", "availability", "grid", "synthetic")
    list_filter = ("kind", "availability", "synthetic")
    search_fields = ("code", "name")
    fields = ("code", *EDITABLE, "members")
    filter_horizontal = ("members",)

    manage_permission = MANAGE

    def has_delete_permission(self, request, obj=None):
        return self._manager(request)

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, MANAGE).select_related("grid")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            resource = self.get_object(request, object_id)
            if resource is not None and (resource.contact_name or resource.contact_phone):
                services.resource_contact_reveal(actor=request.user, resource=resource,
                                                 purpose="admin: edit the rescue resource")
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        fields = {name: getattr(obj, name) for name in EDITABLE}
        if change:
            current = RescueResource.objects.get(pk=obj.pk)
            services.resource_update(actor=request.user, resource=current,
                                     **{k: v for k, v in fields.items()
                                        if k in form.changed_data})
        else:
            obj.pk = services.resource_create(actor=request.user, code=obj.code, **fields).pk

    def save_related(self, request, form, formsets, change):
        # The members through their audited service, not the form's save_m2m.
        if "members" in form.changed_data or not change:
            resource = RescueResource.objects.get(pk=form.instance.pk)  # as the service wrote it
            services.resource_members_set(actor=request.user, resource=resource,
                                          users=form.cleaned_data.get("members") or ())

    def delete_model(self, request, obj):
        services.resource_delete(actor=request.user, resource=obj)

    def delete_queryset(self, request, queryset):
        for resource in queryset:
            services.resource_delete(actor=request.user, resource=resource)


class ReadOnly(admin.ModelAdmin):
    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and \
            not scope_of(request.user, MANAGE).empty

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RoadNetwork)
class RoadNetworkAdmin(ReadOnly):
    list_display = ("id", "source", "synthetic", "nodes", "drive_edges", "walk_edges", "created_at")


@admin.register(CoverageRun)
class CoverageRunAdmin(ReadOnly):
    list_display = ("id", "status", "reason", "points", "routing_s", "polygons_s", "started_at",
                    "finished_at")
    exclude = ("polygons",)
