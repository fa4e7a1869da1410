"""Input no view can store: refused once, before any view runs.

PostgreSQL cannot hold a NUL character in text (psycopg raises DataError),
UTF-8 cannot encode a lone surrogate (UnicodeEncodeError), a multipart body
without a boundary cannot be split, and JSON nested thousands deep exhausts
the recursion limit of every parser after ours. Each would otherwise surface
as a 500 from whichever query or serialiser meets it first, so the check
lives here, in one place, for the path, the query string, form fields and
JSON bodies alike, and names the field it found.

`find_bad_input(request)` returns a `BadInput` (status, code, field, message)
or None. `InputGuardMiddleware` answers with problem+json under /api/ and the
400 page elsewhere; Open311 runs the same check in its own error format.
The parsed JSON body is kept on the request (`request.parsed_json`) so the
API parser does not parse it twice.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.http.multipartparser import MultiPartParserError

# NUL, or a UTF-16 surrogate (only ever unpaired in a Python str).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_JSON_DEPTH = 32  # our deepest schema (GeoJSON polygons in a batch) needs 6
_JSON_TYPES = ("application/json",)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class BadInput:
    status: int
    code: str
    field: str
    message: str


def unstorable_reason(value: str) -> str | None:
    """Why text cannot be stored (a NUL, an unpaired surrogate), or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    what = "a NUL character" if found.group() == "\x00" else "an unpaired UTF-16 surrogate"
    return f"Contains {what}, which text cannot hold."


def _unstorable(field: str, value: str) -> BadInput | None:
    reason = unstorable_reason(value)
    return None if reason is None else BadInput(422, "validation-failed", field, reason)


def is_json(content_type: str) -> bool:
    return content_type in _JSON_TYPES or content_type.endswith("+json")


def _walk_json(value, field: str = "body") -> BadInput | None:
    """Depth and strings of a parsed JSON value, iteratively (no recursion to exhaust)."""
    stack = [(value, field, 0)]
    while stack:
        item, name, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return BadInput(400, "bad-request", name,
                            f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(item, str):
            if bad := _unstorable(name, item):
                return bad
        elif isinstance(item, dict):
            for key, child in item.items():
                child_name = key if name == "body" else f"{name}.{key}"
                if bad := _unstorable(child_name, key):
                    return bad
                stack.append((child, child_name, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{name}.{i}", depth + 1) for i, child in enumerate(item))
    return None


def _check_json(request) -> BadInput | None:
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return BadInput(400, "bad-request", "body", "The JSON body is not valid UTF-8.")
    if not text.strip():
        return None
    try:
        parsed = json.loads(text)
    except RecursionError:
        return BadInput(400, "bad-request", "body",
                        f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    except ValueError as exc:
        return BadInput(400, "bad-request", "body", f"Cannot parse request body: {exc}")
    if bad := _walk_json(parsed):
        return bad
    request.parsed_json = parsed
    return None


def _check_form(request) -> BadInput | None:
    try:
        fields, files = request.POST, request.FILES
    except MultiPartParserError as exc:  # no or bad boundary, truncated body
        return BadInput(400, "bad-request", "body", f"Cannot parse the multipart body: {exc}")
    for key, values in fields.lists():
        if bad := _unstorable(key, key):
            return bad
        for value in values:
            if bad := _unstorable(key, value):
                return bad
    for key, upload in files.items():
        if bad := _unstorable(key, upload.name or ""):
            return bad
    return None


def find_bad_input(request, *, api: bool = False) -> BadInput | None:
    """The first thing in the request that no view could store, or None.

    With api=True a body must be JSON or a form (multipart for uploads):
    anything else, text/plain included, is 415 rather than guessed at.
    """
    if bad := _unstorable("path", request.path):
        return bad
    for key, values in request.GET.lists():
        if bad := _unstorable(key, key):
            return bad
        for value in values:
            if bad := _unstorable(key, value):
                return bad
    if request.method not in _BODY_METHODS:
        return None
    content_type = (request.content_type or "").lower()
    if is_json(content_type):
        return _check_json(request)
    if content_type in _FORM_TYPES:
        return _check_form(request)
    if api and request.body:
        return BadInput(415, "unsupported-media-type", "Content-Type",
                        f"Send the body as application/json (or multipart/form-data with "
                        f"uploads), not {content_type or 'no Content-Type'!r}.")
    return None
