"""Personal fields: which model fields hold personal data, and an admin that never
searches, filters or sorts by them.

A model names its personal fields in `personal_fields` (a tuple of field
names). The admin shows such values masked; a changelist filter, search or
ordering on them would still answer yes/no about the hidden value
(`?id_number=…`, `?phone__startswith=…`), one guess at a time and unaudited,
so `PersonalDataAdmin` refuses every lookup whose path touches one, on the
model itself or across a relation (`?person__id_number=…`).
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP


def personal_fields(model) -> tuple[str, ...]:
    return tuple(getattr(model, "personal_fields", ()))


def touches_personal(model, lookup: str) -> bool:
    """Whether the ORM lookup path (`person__id_number__endswith`) reads a personal field."""
    for part in lookup.lstrip("-").split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False  # a transform or comparison (`endswith`): the path ends here
        if field.name in personal_fields(model) or part in personal_fields(model):
            return True
        if not field.is_relation or field.related_model is None:
            return False
        model = field.related_model
    return False


class PersonalDataAdmin(admin.ModelAdmin):
    """Refuses changelist lookups on personal fields: Django answers 400, the same for
    a value that exists and one that does not, so there is nothing to learn."""

    def lookup_allowed(self, lookup, value, request=None):
        if touches_personal(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        # `^name` / `=name` / `name`: the prefix only says how to match.
        return [f for f in super().get_search_fields(request)
                if not touches_personal(self.model, f.lstrip("^=@"))]

    def get_sortable_by(self, request):
        return [f for f in super().get_sortable_by(request)
                if not isinstance(f, str) or not touches_personal(self.model, f)]


PURPOSE_MIN, PURPOSE_MAX = 4, 200


def purpose_clean(value) -> str:
    """A stated purpose for reading personal data: 4-200 characters on one line; else 422."""
    from django.utils.translation import gettext as _

    from zhili.core.errors import invalid

    text = value.strip() if isinstance(value, str) else ""
    if not PURPOSE_MIN <= len(text) <= PURPOSE_MAX or any(ord(c) < 32 or ord(c) == 127
                                                           for c in text):
        raise invalid("purpose", _("say why, in %(min)d to %(max)d characters on one line")
                      % {"min": PURPOSE_MIN, "max": PURPOSE_MAX})
    return text
