"""Catalogue configuration in the admin: data elements, materials, matters, bundles, situations.

Dependency edits are checked for cycles before they are saved.
"""

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.bundles import graph
from zhili.bundles.models import (
    ApplicantBinding,
    Application,
    Bundle,
    BundleMatter,
    DataElement,
    Material,
    Matter,
    Situation,
    Task,
)


def _touch(bundles):
    # Cached plans are keyed by updated_at: a catalogue edit must move it.
    bundles.update(updated_at=timezone.now())


@admin.register(DataElement)
class DataElementAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "label_en", "kind", "source")
    search_fields = ("code", "label", "label_en")
    list_filter = ("kind",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _touch(Bundle.objects.all())


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "cert_type", "medium")
    search_fields = ("code", "name")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _touch(Bundle.objects.all())


class MatterForm(forms.ModelForm):
    class Meta:
        model = Matter
        fields = ["code", "name", "name_en", "department", "legal_basis", "elements", "materials",
                  "statutory_days", "promised_days", "fee", "output_cert_type", "depends_on",
                  "trips_alone", "online", "source", "assumed"]

    def clean(self):
        cleaned = super().clean()
        deps = {m.code: {d.code for d in m.depends_on.all()} for m in Matter.objects.prefetch_related("depends_on")}
        code = cleaned.get("code") or (self.instance.code if self.instance.pk else "")
        deps[code] = {d.code for d in cleaned.get("depends_on") or []}
        cycle = graph.find_cycle(deps)
        if cycle:
            raise forms.ValidationError(_("These dependencies make a cycle: %(c)s"),
                                        params={"c": " → ".join(cycle)})
        if (cleaned.get("promised_days") or 0) > (cleaned.get("statutory_days") or 0):
            self.add_error("promised_days", _("The promised limit cannot exceed the statutory one."))
        return cleaned


@admin.register(Matter)
class MatterAdmin(admin.ModelAdmin):
    form = MatterForm
    list_display = ("code", "name", "department", "statutory_days", "promised_days", "output_cert_type")
    list_filter = ("department",)
    search_fields = ("code", "name")
    filter_horizontal = ("elements", "materials", "depends_on")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _touch(Bundle.objects.filter(matters=form.instance))


class BundleMatterInline(admin.TabularInline):
    model = BundleMatter
    extra = 1


class SituationInline(admin.StackedInline):
    model = Situation
    extra = 0
    filter_horizontal = ("matters",)


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "life_event", "lead_department", "published")
    list_filter = ("life_event", "published")
    inlines = [BundleMatterInline, SituationInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _touch(Bundle.objects.filter(pk=form.instance.pk))


@admin.register(ApplicantBinding)
class ApplicantBindingAdmin(admin.ModelAdmin):
    """Real-name bindings of accounts to registry persons (until accounts owns this)."""

    list_display = ("user", "person", "organisation")
    raw_id_fields = ("user", "person", "organisation")


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("reference", "bundle", "status", "submitted_at", "completed_at")
    list_filter = ("status", "bundle")
    readonly_fields = [f.name for f in Application._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("id", "application", "matter", "department", "status", "due_at")
    list_filter = ("status", "department")
    readonly_fields = [f.name for f in Task._meta.fields]

    def has_add_permission(self, request):
        return False
