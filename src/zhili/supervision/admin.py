"""Admin for scoring rules and problem rules, through their services (validated and
audited). A scoring rule's weights are edited as one JSON list, so a rule naming an
unknown KPI is a form error; a problem rule's fields are checked by the same
`problem_rule_check` the API uses, so the admin shows the API's errors."""

import json

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from zhili.core.errors import ApplicationError, ValidationFailed
from zhili.core.scoping import scope_of
from zhili.supervision import services
from zhili.supervision.access import MANAGE_PROBLEM_RULES
from zhili.supervision.kpis import kpis
from zhili.supervision.models import ProblemRule, ScoringRule
from zhili.supervision.problems import selectors as problem_selectors
from zhili.supervision.problems import services as problem_services


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


# -- problem rules -------------------------------------------------------------------

RULE_FORM_FIELDS = ["code", "name", "name_en", "list_type", "kpi", "comparison", "threshold",
                    "period", "periods", "area", "area_level", "deadline_days", "active"]


def kpi_choices(current: str | None = None) -> list[tuple[str, str]]:
    """The KPIs a rule may name, by name (a distribution is no single number to compare)."""
    rows = sorted(((str(k.name), k.code) for k in kpis().values() if k.unit != "distribution"),
                  key=lambda row: row[0])
    choices = [(code, f"{name} ({code})") for name, code in rows]
    if current and current not in {code for code, _label in choices}:
        choices.append((current, _("%(code)s (not installed)") % {"code": current}))
    return [("", "---------"), *choices]


class ProblemRuleForm(forms.ModelForm):
    actor = None  # set per request by ProblemRuleAdmin.get_form
    kpi = forms.ChoiceField(label=_("KPI"))

    class Meta:
        model = ProblemRule
        fields = RULE_FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi"].choices = kpi_choices(self.instance.kpi if self.instance.pk else None)
        if self.instance.pk and "code" in self.fields:
            self.fields["code"].disabled = True  # the problems it raised are keyed by it
            self.fields["code"].help_text = _("Cannot be changed.")

    def rule_values(self) -> dict:
        data = dict(self.cleaned_data)
        area = data.get("area")
        data["area"] = area.code if area is not None else None
        if self.instance.pk:
            data.pop("code", None)
        return data

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            problem_services.problem_rule_check(
                actor=self.actor, rule=self.instance if self.instance.pk else None,
                **self.rule_values())
        except ValidationFailed as exc:
            for error in exc.errors:
                self.add_error(error.field if error.field in self.fields else None,
                               error.message)
        except ApplicationError as exc:  # an area outside the actor's: refused as elsewhere
            self.add_error("area", exc.detail or _("You may not set problem rules here."))
        return data

    def _post_clean(self):
        # The model is written by the service; only the form's own checks run here.
        pass


@admin.register(ProblemRule)
class ProblemRuleAdmin(admin.ModelAdmin):
    form = ProblemRuleForm
    list_display = ("code", "name", "list_type", "kpi_name", "comparison", "threshold",
                    "period", "periods", "area", "area_level", "active")
    list_filter = ("active", "list_type", "area_level", "period")
    search_fields = ("code", "name", "name_en", "kpi")
    raw_id_fields = ("area",)  # tens of thousands of grids: no select box
    actions = ["deactivate"]

    def _staff_with(self, request) -> bool:
        user = request.user
        return user.is_active and user.is_staff and \
            not scope_of(user, MANAGE_PROBLEM_RULES).empty

    def get_queryset(self, request):
        return problem_selectors.visible_rules(request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type("ScopedProblemRuleForm", (form,), {"actor": request.user})

    @admin.display(description=_("KPI"))
    def kpi_name(self, obj):
        kpi = kpis().get(obj.kpi)
        return f"{kpi.name} ({obj.kpi})" if kpi else obj.kpi

    def has_module_permission(self, request):
        return self._staff_with(request)

    def has_view_permission(self, request, obj=None):
        return self._staff_with(request)

    def has_add_permission(self, request):
        return self._staff_with(request)

    def has_change_permission(self, request, obj=None):
        if not self._staff_with(request):
            return False
        return obj is None or problem_services.problem_rule_may_edit(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # problems keep pointing at their rule: deactivate instead

    def save_model(self, request, obj, form, change):
        values = form.rule_values()
        if change:
            saved = problem_services.problem_rule_update(actor=request.user, rule=obj, **values)
        else:
            saved = problem_services.problem_rule_create(actor=request.user, **values)
        # The admin goes on with its own instance (the change message, the redirect).
        for field in ProblemRule._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding, obj._state.db = False, saved._state.db

    def save_related(self, request, form, formsets, change):
        pass  # a rule has no related rows to save

    @admin.action(description=_("Deactivate the selected rules"))
    def deactivate(self, request, queryset):
        done = 0
        for rule in queryset.filter(active=True):
            try:
                problem_services.problem_rule_deactivate(actor=request.user, rule=rule)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{rule.code}: {exc.detail or exc.title}",
                                  messages.ERROR)
        self.message_user(request, _("%(n)d rule(s) deactivated.") % {"n": done},
                          messages.SUCCESS)
