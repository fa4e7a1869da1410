"""Admin: drainage models are uploaded through the service (checked by the engine);
runs are read-only records."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from zhili.core.errors import ApplicationError
from zhili.flood.models import DrainageModel, FloodRun


class DrainageModelForm(forms.ModelForm):
    upload = forms.FileField(label="SWMM .inp", required=True)

    class Meta:
        model = DrainageModel
        fields = ["area", "name", "risk_radius_m", "thresholds", "risk_categories"]

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        if upload is not None:
            try:
                data["inp_text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError({"upload": "The file is not UTF-8 text."}) from None
            from zhili.flood.services import inp_check

            try:  # the engine's own check, so SWMM's ERROR lines show beside the field
                inp_check(data["inp_text"])
            except ApplicationError as exc:
                raise ValidationError({"upload": [e.message for e in exc.errors]
                                       or [exc.detail]}) from None
        return data


@admin.register(DrainageModel)
class DrainageModelAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "junctions", "synthetic", "active", "created_at"]
    list_filter = ["synthetic", "active"]
    search_fields = ["name"]
    readonly_fields = ["area_path", "junctions", "flow_units", "crs", "created_by", "created_at"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = DrainageModelForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["area", "name", "upload", "risk_radius_m"]
        return ["name", "area_path", "junctions", "flow_units", "crs", "risk_radius_m",
                "thresholds", "risk_categories", "active", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        from zhili.flood.services import drainage_model_add

        made = drainage_model_add(actor=request.user, area=form.cleaned_data["area"],
                                  name=form.cleaned_data["name"],
                                  inp_text=form.cleaned_data["inp_text"],
                                  source_name=form.cleaned_data["upload"].name,
                                  risk_radius_m=form.cleaned_data.get("risk_radius_m"))
        obj.pk = made.pk


@admin.register(FloodRun)
class FloodRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "model", "status", "source", "scenario", "created_at", "duration_s"]
    list_filter = ["status", "source"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
