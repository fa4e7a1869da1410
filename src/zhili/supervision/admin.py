"""Admin for scoring rules, through the service (validated and audited): the weights
are edited as one JSON list, so a rule naming an unknown KPI is a form error."""

import json

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhili.core.errors import ValidationFailed
from zhili.supervision import services
from zhili.supervision.models import ScoringRule


class ScoringRuleForm(forms.ModelForm):
    weights_json = forms.CharField(
        label=_("Weights"), widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_('A JSON list: [{"kpi": "governance.on_time_resolve", "weight": 2, '
                    '"worst": 0.6, "best": 1}, …]'))

    class Meta:
        model = ScoringRule
        fields = ["code", "name", "name_en", "level", "period", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["weights_json"] = json.dumps(
                [{"kpi": w.kpi, "weight": float(w.weight), "worst": w.worst, "best": w.best}
                 for w in self.instance.weights.all()], ensure_ascii=False, indent=1)

    def clean_weights_json(self):
        try:
            weights = json.loads(self.cleaned_data["weights_json"])
        except ValueError as exc:
            raise forms.ValidationError(_("not valid JSON: %(error)s") % {"error": exc}) \
                from None
        try:
            services._weights_checked(weights)
        except ValidationFailed as exc:
            raise forms.ValidationError([f"{e.field}: {e.message}" for e in exc.errors]) \
                from None
        return weights

    def validate_unique(self):
        pass  # an existing code is replaced by the service, not refused


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    form = ScoringRuleForm
    list_display = ("code", "name", "level", "period", "active")

    def _manager(self, request):
        user = request.user
        return user.is_active and user.is_staff and \
            user.covers_whole_city(services.MANAGE_ASSESSMENTS)

    def has_view_permission(self, request, obj=None):
        return self._manager(request)

    has_module_permission = has_view_permission

    def has_add_permission(self, request):
        return self._manager(request)

    def has_change_permission(self, request, obj=None):
        return self._manager(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.scoring_rule_save(
            actor=request.user, code=data["code"], name=data["name"], name_en=data["name_en"],
            level=data["level"], period=data["period"], weights=data["weights_json"],
            active=data["active"])
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # the service wrote the weights
