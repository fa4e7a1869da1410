"""A category's questions (Open311 attributes) and the answers posted to them.

Shared by the resident's report form and the Open311 transport, so neither
reaches into the other: the definitions in the GeoReport v2 shape, and the
`attribute[code]=value` keys read from a form or a query string.
"""

from __future__ import annotations

import re

from django.utils.translation import get_language

from zhili.governance.models import Category

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
# attribute[code]=v, or attribute[code][]=v1&attribute[code][]=v2 for several values.
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")


def english() -> bool:
    return (get_language() or "").startswith("en")


def service_attributes(category: Category) -> list[dict]:
    """The category's attributes in the spec's shape, whatever was typed in admin.

    Texts are Chinese, with `description_en`, `datatype_description_en` and each value's
    `name_en` beside them for English clients."""
    out = []
    raw = category.attributes if isinstance(category.attributes, list) else []
    for index, attr in enumerate(raw, start=1):
        if not isinstance(attr, dict) or not attr.get("code"):
            continue
        datatype = attr.get("datatype", "string")
        in_english = english()
        values = []
        for v in attr.get("values") or []:
            if isinstance(v, dict) and "key" in v:
                name = (in_english and v.get("name_en")) or v.get("name", v["key"])
                values.append({"key": str(v["key"]), "name": str(name)})
            elif isinstance(v, str | int | float):
                values.append({"key": str(v), "name": str(v)})
        description = (in_english and attr.get("description_en")) or attr.get("description", "")
        datatype_description = (in_english and attr.get("datatype_description_en")) or \
            attr.get("datatype_description")
        out.append({
            "variable": bool(attr.get("variable", True)),
            "code": str(attr["code"]),
            "datatype": datatype if datatype in DATATYPES else "string",
            "required": bool(attr.get("required", False)),
            "datatype_description": datatype_description or None,
            "order": int(attr.get("order") or index),
            "description": description,
            "values": values,
        })
    out.sort(key=lambda a: a["order"])
    return out


def attribute_values(params) -> tuple[dict[str, list[str]], list[str]]:
    """({code: [non-empty values]}, keys that start with `attribute` but are not of the form)."""
    found: dict[str, list[str]] = {}
    malformed: list[str] = []
    for key in params:
        match = ATTRIBUTE_KEY.match(key)
        if match:
            values = [v for v in params.getlist(key) if v != ""]
            found.setdefault(match.group(1), []).extend(values)
        elif key.startswith("attribute"):
            malformed.append(key)
    return found, malformed
