"""Request bodies that come as JSON or as form fields with files (a phone's upload),
read into a pydantic schema with every refusal naming its field (RFC 9457), and
their OpenAPI description. The apps build the form's dict (their own field
conventions); the rest is here."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _
from pydantic import ValidationError

from zhili.core.errors import FieldError, ValidationFailed, invalid

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def is_form(request) -> bool:
    return (request.content_type or "").lower() in FORM_TYPES


def json_object(request) -> dict:
    """The JSON body as a dict; 422 naming `body` when it is not one."""
    try:
        # Already parsed and checked by core/inputguard.py when the body was JSON.
        data = request.parsed_json if hasattr(request, "parsed_json") else \
            json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise invalid("body", _("not valid JSON")) from None
    if not isinstance(data, dict):
        raise invalid("body", _("must be a JSON object"))
    return data


def field_path(loc) -> str:
    return ".".join(str(p) for p in loc) or "body"


def validated(schema, data: dict):
    """`data` as `schema`, or 422 listing every field that is wrong."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed([FieldError(field_path(e.get("loc", ())), e.get("msg", "invalid"))
                                for e in exc.errors()]) from None


def body_doc(schema, *, files: str | None = None, files_doc: str = "") -> dict:
    """OpenAPI requestBody: the schema as JSON and, when `files` names a file field,
    as a multipart form with up to 6 such files."""
    json_schema = schema.model_json_schema()
    content = {"application/json": {"schema": json_schema}}
    if files:
        form = json.loads(json.dumps(json_schema))
        form.setdefault("properties", {})[files] = {
            "type": "array", "maxItems": 6, "items": {"type": "string", "format": "binary"},
            "description": files_doc}
        content["multipart/form-data"] = {"schema": form}
    return {"requestBody": {"required": True, "content": content}}
