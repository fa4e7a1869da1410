"""Content in the reader's language: catalogue rows carry a Chinese field and its `_en` twin.

The interface is translated with gettext; content (bundle, matter, department,
category, area names) is data, stored in both languages. `localized(obj, "name")`
picks `name_en` when the active language is English and it is filled in, else
`name`, so a row nobody has translated yet still reads (in Chinese).
"""

from __future__ import annotations

from django.utils.translation import get_language


def english() -> bool:
    return (get_language() or "").startswith("en")


def localized(obj, field: str) -> str:
    if obj is None:
        return ""
    get = obj.get if isinstance(obj, dict) else lambda name, default="": getattr(obj, name, default)
    if english():
        value = get(f"{field}_en", "") or ""
        if value:
            return value
    return get(field, "") or ""
