from django.contrib import admin

from zhili.core.scoping import scope_of
from zhili.geo import services
from zhili.geo.models import AreaNode, BoundaryVersion

CHANGE = "geo.change_area"


@admin.register(AreaNode)
class AreaNodeAdmin(admin.ModelAdmin):
    """Boundaries change only through `zhili city import` (audited, versioned); the one
    field edited here is the population, through `services.area_population_set`, by
    staff with `geo.change_area` over the area."""

    list_display = ("code", "name", "name_en", "level", "population", "synthetic", "updated_at")
    list_filter = ("level", "synthetic")
    search_fields = ("code", "name", "name_en")
    exclude = ("geometry",)
    readonly_fields = ("code", "level", "name", "name_en", "parent", "path", "min_lon",
                       "min_lat", "max_lon", "max_lat", "centre_lon", "centre_lat", "synthetic")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        scope = scope_of(request.user, CHANGE)
        if scope.empty:
            return False
        return obj is None or scope.covers(obj.path)

    def save_model(self, request, obj, form, change):
        if "population" in form.changed_data:
            services.area_population_set(actor=request.user, node=obj,
                                         population=form.cleaned_data["population"])

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
