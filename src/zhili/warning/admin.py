"""Admin for the risk list and rules, through the services (validated and audited);
sensors, readings and warnings are read-only here (they change by their own
services: registration, ingest, the warning lifecycle)."""

from django import forms
from django.contrib import admin

from zhili.core.errors import ApplicationError
from zhili.core.scoping import scope_of
from zhili.warning import services
from zhili.warning.models import RiskCategory, RiskPoint, Rule, Sensor, Warning

MANAGE = "warning.manage_warning"


class ScopedAdmin(admin.ModelAdmin):
    def has_view_permission(self, request, obj=None):
        user = request.user
        return user.is_active and user.is_staff and not scope_of(user, MANAGE).empty

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RiskCategory)
class RiskCategoryAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "name_en", "cap_category", "case_category")
    search_fields = ("code", "name", "name_en")


class RiskPointForm(forms.ModelForm):
    def clean(self):
        data = super().clean()
        if data.get("lon") is not None and data.get("lat") is not None:
            try:
                services._grid_of(data["lon"], data["lat"])
            except ApplicationError as exc:
                self.add_error("lon", exc.detail)
        return data


class RuleForm(forms.ModelForm):
    def clean(self):
        data = super().clean()
        probe = Rule(**{k: v for k, v in data.items() if k in {f.name for f in Rule._meta.fields}})
        try:
            services.rule_check(probe)
        except ApplicationError as exc:
            for error in exc.errors or []:
                self.add_error(error.field if error.field in self.fields else None, error.message)
        return data


@admin.register(RiskPoint)
class RiskPointAdmin(ScopedAdmin):
    form = RiskPointForm
    list_display = ("code", "name", "category", "risk_level", "grid", "synthetic")
    list_filter = ("category", "risk_level", "synthetic")
    search_fields = ("code", "name")
    fields = ("code", "name", "category", "risk_level", "description", "lon", "lat")

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, MANAGE)

    def has_add_permission(self, request):
        return self.has_view_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request)

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        fields = dict(name=obj.name, category=obj.category, lon=obj.lon, lat=obj.lat,
                      risk_level=obj.risk_level, description=obj.description)
        # The form has checked the place; the services locate, save and audit.
        if change:
            services.risk_point_update(actor=request.user, code=obj.code, geometry=obj.geometry,
                                       **fields)
        else:
            obj.pk = services.risk_point_create(actor=request.user, code=obj.code, **fields).pk


@admin.register(Rule)
class RuleAdmin(ScopedAdmin):
    form = RuleForm
    exclude = ("updated_at",)
    list_display = ("name", "sensor_type", "category", "risk_point", "direction", "duration_s",
                    "active")
    list_filter = ("sensor_type", "direction", "active")
    raw_id_fields = ("risk_point",)

    def has_add_permission(self, request):
        return self.has_view_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request)

    def save_model(self, request, obj, form, change):
        services.rule_save(actor=request.user, rule=obj, changed=list(form.changed_data))


@admin.register(Sensor)
class SensorAdmin(ReadOnlyAdmin):
    list_display = ("code", "sensor_type", "unit", "risk_point", "interval_s", "active")
    list_filter = ("sensor_type", "active")
    search_fields = ("code",)
    exclude = ("key_hash",)

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, MANAGE)


@admin.register(Warning)
class WarningAdmin(ReadOnlyAdmin):
    list_display = ("number", "risk_point", "level", "peak_level", "status", "public", "raised_at")
    list_filter = ("status", "level", "public", "source")
    search_fields = ("number",)

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, MANAGE)
