"""Admin for incidents, through the services like the resources' admin: adding one is
`incident_open` (by hand, or from a warning or a case), a change is a situation note
(`incident_note`) or closing with a summary (`incident_close`); every write is the
service's own audited transaction. The record itself is read-only here and never
deleted; its resources, tasks and timeline are shown below it.

The form calls the service while it is cleaned, so a refusal (a point outside the
city, a closed incident, a missing summary) is shown on the form and nothing is
written; the admin's own transaction wraps the call.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhili.core.errors import ApplicationError
from zhili.emergency import incidents as services
from zhili.emergency.admin_access import ManagersOnly
from zhili.emergency.models_incidents import (
    Incident,
    IncidentAssignment,
    IncidentEvent,
    IncidentTask,
    Severity,
)

MANAGE = services.MANAGE


def _show(form: forms.Form, exc: ApplicationError, fields: dict[str, str]) -> None:
    """The service's field errors on the form's fields (`fields` maps the service's
    names to the form's); anything else on the form as a whole."""
    shown = False
    for error in exc.errors:
        name = fields.get(error.field, error.field)
        form.add_error(name if name in form.fields else None,
                       error.message if name in form.fields else f"{error.field}: {error.message}")
        shown = True
    if not shown:
        form.add_error(None, exc.detail or exc.title)


class IncidentAddForm(forms.ModelForm):
    severity = forms.TypedChoiceField(label=_("severity"), choices=[("", _("from the warning or case")),
                                                                  *Severity.choices],
                                      required=False, coerce=int, empty_value=None)
    title = forms.CharField(label=_("title"), max_length=200, required=False)
    lon = forms.FloatField(label=_("Longitude"), required=False)
    lat = forms.FloatField(label=_("Latitude"), required=False)
    warning_number = forms.CharField(label=_("From warning number"), max_length=24,
                                     required=False)
    case_tracking_no = forms.CharField(label=_("or from case tracking number"), max_length=24,
                                       required=False)

    class Meta:
        model = Incident
        fields = ()

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.opened = services.incident_open(
                actor=self.actor, title=data.get("title") or "", severity=data.get("severity"),
                lon=data.get("lon"), lat=data.get("lat"),
                warning_number=data.get("warning_number") or "",
                case_tracking_no=data.get("case_tracking_no") or "")
        except ApplicationError as exc:
            _show(self, exc, {"warning": "warning_number", "case": "case_tracking_no"})
        return data

    def _post_clean(self):
        """No model validation of the empty instance: the service checked and wrote."""


class IncidentChangeForm(forms.ModelForm):
    note = forms.CharField(label=_("Situation note"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=2000, required=False)
    close_summary = forms.CharField(
        label=_("Close with this summary"), widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000, required=False,
        help_text=_("Closing releases every resource still assigned."))

    class Meta:
        model = Incident
        fields = ()

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        note, summary = data.get("note", "").strip(), data.get("close_summary", "").strip()
        if not note and not summary:
            self.add_error(None, _("Write a situation note or a summary to close with."))
            return data
        try:
            if note:
                services.incident_note(actor=self.actor, incident=self.instance, text=note)
            if summary:
                services.incident_close(actor=self.actor, incident=self.instance,
                                        summary=summary)
        except ApplicationError as exc:
            _show(self, exc, {"text": "note", "summary": "close_summary"})
        return data


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AssignmentInline(_ReadOnlyInline):
    model = IncidentAssignment
    fields = readonly_fields = ("resource", "mode", "eta_seconds", "assigned_by", "assigned_at",
                                "released_at")


class TaskInline(_ReadOnlyInline):
    model = IncidentTask
    fields = readonly_fields = ("what", "department", "resource", "due_at", "status", "done_at")


class EventInline(_ReadOnlyInline):
    model = IncidentEvent
    fields = readonly_fields = ("at", "kind", "actor", "note", "data")


@admin.register(Incident)
class IncidentAdmin(ManagersOnly, admin.ModelAdmin):
    list_display = ("number", "title", "severity", "status", "source", "grid", "opened_at")
    list_filter = ("status", "severity", "source")
    search_fields = ("number", "title")
    date_hierarchy = "opened_at"
    inlines = (AssignmentInline, TaskInline, EventInline)
    RECORD = ("number", "title", "severity", "status", "source", "lon", "lat", "grid",
              "warning", "case", "opened_by", "opened_at", "closed_at", "summary")

    manage_permission = MANAGE

    def has_change_permission(self, request, obj=None):
        return self._manager(request) and (obj is None or obj.status == Incident.Status.OPEN)

    def has_delete_permission(self, request, obj=None):
        return False  # an incident is a record: it is closed, never deleted

    def get_queryset(self, request):
        return (super().get_queryset(request).restrict(request.user, MANAGE)
                .select_related("grid", "warning", "case", "opened_by"))

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("title", "severity", "lon", "lat", "warning_number", "case_tracking_no")
        editable = ("note", "close_summary") if obj.status == Incident.Status.OPEN else ()
        return (*self.RECORD, *editable)

    def get_readonly_fields(self, request, obj=None):
        return self.RECORD if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = IncidentChangeForm if obj is not None else IncidentAddForm
        kwargs["fields"] = None
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        """The service already wrote while the form was cleaned (see the module's note)."""
        if not change:
            obj.pk = form.opened.pk
            obj.number, obj.title = form.opened.number, form.opened.title

    def save_related(self, request, form, formsets, change):
        pass  # the inlines are read-only
