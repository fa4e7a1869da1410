"""Admin for Open311 API keys: mint (the key is shown once), list, revoke.

Loaded by governance/admin.py. Keys are written only through open311/keys.py
(hashed, audited); the admin never shows or stores the raw key after minting.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from zhili.core.errors import ApplicationError
from zhili.governance.models import Open311Key
from zhili.governance.open311.keys import open311_key_create, open311_key_revoke


class KeyAddForm(forms.ModelForm):
    class Meta:
        model = Open311Key
        fields = ("name",)


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "created_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    readonly_fields = ("name", "prefix", "created_at", "revoked_at")
    actions = ["revoke_selected"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = KeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return ("name",) if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return  # keys are not edited; revoke one and mint another
        try:
            key, raw = open311_key_create(actor=request.user, name=form.cleaned_data["name"])
        except ApplicationError as exc:
            messages.error(request, exc.detail)
            raise
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = key.pk, key.prefix, key.key_hash, \
            key.created_at
        obj._state.adding = False
        messages.warning(request, _("The new Open311 api_key is %(raw)s — copy it now: it is not "
                                    "shown again.") % {"raw": raw})

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay, so the audit trail keeps its subject

    @admin.action(description=_("Revoke the selected keys"))
    def revoke_selected(self, request, queryset):
        for key in queryset:
            open311_key_revoke(actor=request.user, key=key)
        messages.success(request, _("Revoked %(n)d key(s).") % {"n": queryset.count()})
