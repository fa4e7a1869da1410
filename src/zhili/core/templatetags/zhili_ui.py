"""Template tags every page uses: `{% field_errors errors "name" %}` beside an input, and `|local`."""

from __future__ import annotations

from django import template

from zhili.core.forms import GENERAL

register = template.Library()


@register.inclusion_tag("core/partials/field_errors.html")
def field_errors(errors, name: str = GENERAL):
    found = (errors or {}).get(name) or []
    return {"items": found if isinstance(found, list | tuple) else [found], "name": name}



@register.filter
def local(obj, field: str = "name") -> str:
    """`{{ bundle|local:"name" }}`: the field in the reader's language (core/i18n.py)."""
    from zhili.core.i18n import localized

    return localized(obj, field)


@register.filter
def get_item(mapping, key):
    """`{{ errors|get_item:name }}`: a dict entry by a computed key."""
    return (mapping or {}).get(key) if hasattr(mapping, "get") else None
