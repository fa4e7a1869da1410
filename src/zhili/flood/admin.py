"""Admin: drainage models are uploaded and edited through the services (the upload
checked by the engine, its ERROR lines beside the file field); runs are read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from zhili.core.errors import ApplicationError
from zhili.core.scoping import scope_of
from zhili.flood.access import RUN
from zhili.flood.models import DrainageModel, FloodRun


class ScopedAdmin(admin.ModelAdmin):
    def has_view_permission(self, request, obj=None):
        user = request.user
        return user.is_active and user.is_staff and not scope_of(user, RUN).empty

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, RUN)


class DrainageModelAddForm(forms.ModelForm):
    upload = forms.FileField(label="SWMM .inp")
    actor = None  # set by the admin: whose area the model may go to

    class Meta:
        model = DrainageModel
        fields = ["area", "name", "risk_radius_m"]

    def clean(self):
        data = super().clean()
        area = data.get("area")
        if area is not None and not scope_of(self.actor, RUN).covers(area.path):
            self.add_error("area", "You may attach drainage models only in your own area.")
        upload = data.get("upload")
        if upload is not None:
            try:
                data["inp_text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError({"upload": "The file is not UTF-8 text."}) from None
            from zhili.flood.services import inp_check

            try:  # the engine's own check, so SWMM's ERROR lines show beside the field
                inp_check(data["inp_text"])
            except ApplicationError as exc:
                raise ValidationError({"upload": [e.message for e in exc.errors]
                                       or [exc.detail]}) from None
        return data


class DrainageModelChangeForm(forms.ModelForm):
    class Meta:
        model = DrainageModel
        fields = ["name", "risk_radius_m", "thresholds", "risk_categories", "active"]

    def clean(self):
        data = super().clean()
        from zhili.flood.services import thresholds_check

        try:
            thresholds_check(data.get("thresholds") or {})
        except ApplicationError as exc:
            self.add_error("thresholds", "; ".join(e.message for e in exc.errors))
        return data


@admin.register(DrainageModel)
class DrainageModelAdmin(ScopedAdmin):
    list_display = ["name", "area", "junctions", "synthetic", "active", "created_at"]
    list_filter = ["synthetic", "active"]
    search_fields = ["name"]

    def has_add_permission(self, request):
        return self.has_view_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = DrainageModelChangeForm if obj else DrainageModelAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["area", "name", "upload", "risk_radius_m"]
        return ["name", "area_path", "junctions", "flow_units", "crs", "source_name",
                "risk_radius_m", "thresholds", "risk_categories", "active", "created_by",
                "created_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["area_path", "junctions", "flow_units", "crs", "source_name", "created_by",
                "created_at"]

    def save_model(self, request, obj, form, change):
        from zhili.flood.services import drainage_model_add, drainage_model_update

        data = form.cleaned_data
        if change:
            drainage_model_update(actor=request.user, model=obj, changed=list(form.changed_data))
            return
        obj.pk = drainage_model_add(actor=request.user, area=data["area"], name=data["name"],
                                    inp_text=data["inp_text"], source_name=data["upload"].name,
                                    risk_radius_m=data.get("risk_radius_m")).pk


@admin.register(FloodRun)
class FloodRunAdmin(ScopedAdmin):
    list_display = ["pk", "model", "status", "source", "scenario", "created_at", "duration_s"]
    list_filter = ["status", "source"]
    exclude = ["inp", "report"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
