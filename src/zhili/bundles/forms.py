"""The one form's schema: what the page renders (HTML attributes) and the server checks.

`element_schema` is the single description of a field; the page turns it into
`required`, `maxlength`, `pattern` and `type` attributes, and `data_validate`
applies the same rules (plus check digits) on the server.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.bundles.models import DataElement, ElementKind
from zhili.core.errors import FieldError
from zhili.registry.identifiers import IdentifierError, credit_code_validate, id_number_validate
from zhili.registry.masking import mask_address, mask_id_number, mask_name, mask_phone

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Browsers compile `pattern` with the `v` flag, where a bare "-" in a class is an error
# (and the pattern then silently checks nothing): write it "\-". Python reads both alike.
_PHONE = r"^\+?[0-9][0-9 \-]{4,18}[0-9]$"
_NUMBER = r"^[0-9]+(\.[0-9]{1,2})?$"
_HTML_TYPE = {ElementKind.DATE: "date", ElementKind.PHONE: "tel"}


def html_pattern(pattern: str) -> str:
    """A server pattern as a browser `pattern` (v flag): "-" escaped inside classes."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        elif ch == "-" and in_class and (pattern[i - 1] == "[" or pattern[i + 1:i + 2] == "]"):
            ch = "\\-"  # a literal "-" at either end of a class
        out.append(ch)
        i += 1
    return "".join(out)


def choice_labels(field: dict) -> list[tuple[str, str]]:
    """(stored value, label in the reader's language) of a choice field."""
    from zhili.core.i18n import english

    values, english_labels = field["choices"], field.get("choices_en") or []
    if english() and len(english_labels) == len(values):
        return list(zip(values, english_labels, strict=True))
    return [(v, v) for v in values]


def choice_shown(e: DataElement, value) -> object:
    """A stored choice (Chinese, `男`) as the reader's language shows it (`Male`)."""
    if e.kind != ElementKind.CHOICE:
        return value
    return dict(choice_labels({"choices": list(e.choices or []),
                               "choices_en": list(e.choices_en or [])})).get(value, value)


def element_schema(e: DataElement) -> dict:
    pattern = e.pattern or {ElementKind.PHONE: _PHONE, ElementKind.NUMBER: _NUMBER,
                            ElementKind.ID_NUMBER: r"^[0-9]{17}[0-9Xx]$",
                            ElementKind.CREDIT_CODE: r"^[0-9A-HJ-NPQRTUWXY]{18}$"}.get(e.kind, "")
    return {
        "code": e.code, "label": e.label, "label_en": e.label_en, "kind": e.kind,
        "html_type": _HTML_TYPE.get(e.kind, "text"), "required": e.kind != ElementKind.BOOL,
        "max_length": e.max_length, "pattern": pattern, "html_pattern": html_pattern(pattern),
        "choices": list(e.choices or []), "choices_en": list(e.choices_en or []),
        "dates": e.dates, "source": e.source,
    }


def value_check(field: dict, raw) -> tuple[object, str | None]:
    """(clean value, error message or None) for one field of the schema."""
    kind = field["kind"]
    if kind == ElementKind.BOOL:
        if raw in (True, False, "true", "false", "on", "", None):
            return raw in (True, "true", "on"), None
        return None, _("must be true or false")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "", _("is required") if field["required"] else None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and kind == ElementKind.NUMBER:
        raw = str(raw)
    if not isinstance(raw, str):
        return None, _("must be text")
    value = raw.strip()
    if _CONTROL.search(value):
        return None, _("must not contain control characters")
    if len(value) > field["max_length"]:
        return None, _("must have at most %(n)d characters") % {"n": field["max_length"]}
    if kind == ElementKind.ID_NUMBER:
        try:
            return id_number_validate(value), None
        except IdentifierError as exc:
            return None, str(exc)
    if kind == ElementKind.CREDIT_CODE:
        try:
            return credit_code_validate(value), None
        except IdentifierError as exc:
            return None, str(exc)
    if kind == ElementKind.DATE:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None, _("must be a date YYYY-MM-DD")
        if not 1900 <= day.year <= 2200:
            return None, _("must lie between 1900 and 2200")
        today = timezone.localdate()
        if field.get("dates") == "past" and day > today:
            return None, _("must be today or earlier")
        if field.get("dates") == "future" and day < today:
            return None, _("must be today or later")
        return day.isoformat(), None
    if kind == ElementKind.NUMBER:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None, _("must be a number")
        if not number.is_finite() or number < 0:
            return None, _("must be a number of at least 0")
    if kind == ElementKind.CHOICE and value not in field["choices"]:
        return None, _("one of: %(v)s") % {"v": ", ".join(field["choices"])}
    if field["pattern"] and not re.fullmatch(field["pattern"].strip("^$"), value):
        return None, _("has the wrong format")
    return value, None


def data_validate(fields: list[dict], data, *, prefix: str = "data") -> tuple[dict, list[FieldError]]:
    """Every field checked; unknown keys refused. Returns (clean data, errors)."""
    errors: list[FieldError] = []
    if not isinstance(data, dict):
        return {}, [FieldError(prefix, _("must be an object of element code to value"))]
    if len(data) > 500:
        return {}, [FieldError(prefix, _("too many values"))]
    known = {f["code"] for f in fields}
    for key in data:
        if key not in known:
            errors.append(FieldError(f"{prefix}.{key}", _("not asked by this form")))
    clean = {}
    for f in fields:
        value, error = value_check(f, data.get(f["code"]))
        if error:
            errors.append(FieldError(f"{prefix}.{f['code']}", error))
        else:
            clean[f["code"]] = value
    return clean, errors


def value_mask(field_kind: str, code: str, value) -> str:
    """How an officer sees a value until they reveal it (with a purpose, audited)."""
    text = "" if value is None else str(value)
    if field_kind == ElementKind.ID_NUMBER:
        return mask_id_number(text)
    if field_kind == ElementKind.PHONE:
        return mask_phone(text)
    if code.endswith("-name") and code != "org-name":
        return mask_name(text)
    if code.endswith("address"):
        return mask_address(text)
    if code == "bank-account":
        return "*" * max(len(text) - 4, 0) + text[-4:]
    return text
