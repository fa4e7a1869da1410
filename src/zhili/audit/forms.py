from django import forms
from django.utils.translation import gettext_lazy as _


class EntrySearchForm(forms.Form):
    actor = forms.CharField(label=_("Actor (username)"), max_length=150, required=False)
    action = forms.CharField(label=_("Action (prefix)"), max_length=64, required=False,
                             help_text=_("e.g. person. or token.revoke"))
    object_type = forms.CharField(label=_("Object type"), max_length=64, required=False)
    object_id = forms.CharField(label=_("Object id"), max_length=64, required=False)
    request_id = forms.CharField(label=_("Request id"), max_length=64, required=False)
    date_from = forms.DateField(label=_("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    purpose = forms.CharField(label=_("Purpose contains"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The last day comes before the first."))
        return data
