"""One error family, rendered as RFC 9457 problem+json.

Services raise these; the API layer turns them into responses with a stable
`code` that clients can switch on. The `type` is a relative URI naming the
problem (RFC 9457 §3.1.1 allows it); `/problems/<code>` documents it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "message": self.message}


@dataclass
class ApplicationError(Exception):
    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    code: str = "application-error"
    status: int = 400
    title: str = "The request could not be processed"

    def __post_init__(self):
        Exception.__init__(self, self.detail or self.title)

    def as_problem(self, instance: str | None = None) -> dict:
        body = {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body


def _kind(code: str, status: int, title: str):
    """Declare an error class with fixed code, status and title."""

    def init(self, detail: str = "", errors: list[FieldError] | None = None):
        ApplicationError.__init__(
            self, detail=detail, errors=errors or [], code=code, status=status, title=title
        )

    return type(code.title().replace("-", ""), (ApplicationError,), {"__init__": init})


NotFound = _kind("not-found", 404, "Not found")
OutsideCity = _kind("outside-city", 404, "The point lies outside the city")
PermissionDenied = _kind("permission-denied", 403, "You may not do this")
NotAuthenticated = _kind("not-authenticated", 401, "Authentication required")
Conflict = _kind("conflict", 409, "The object changed or already exists")
Throttled = _kind("throttled", 429, "Too many attempts")


class ValidationFailed(ApplicationError):
    """422 naming every field that is wrong."""

    def __init__(self, errors: list[FieldError] | dict[str, str], detail: str = ""):
        if isinstance(errors, dict):
            errors = [FieldError(k, v) for k, v in errors.items()]
        names = ", ".join(e.field for e in errors)
        ApplicationError.__init__(
            self,
            detail=detail or f"Invalid value for: {names}",
            errors=errors,
            code="validation-failed",
            status=422,
            title="The input is not valid",
        )


def invalid(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field_name, message)])


# Every stable code, for the docs page and the OpenAPI description.
PROBLEM_CODES = {
    "not-found": "No such object, or it lies outside your area (the two are not told apart).",
    "outside-city": "The coordinates lie outside every grid of the city.",
    "permission-denied": "Your roles do not allow this action.",
    "not-authenticated": "Log in, or send a valid `Authorization: Bearer <token>`.",
    "conflict": "The object changed since you read it, or already exists.",
    "invalid-transition": "The action is not allowed from the object's current state.",
    "idempotency-key-reused": "The Idempotency-Key was already used with a different request body.",
    "throttled": "Too many attempts; wait and try again.",
    "validation-failed": "One or more fields are invalid; `errors` names each one.",
    "bad-request": "The request could not be parsed.",
    "unsupported-media-type": "Send the body as JSON (multipart/form-data for uploads).",
    "method-not-allowed": "This path does not accept that HTTP method.",
    "server-error": "An unexpected fault; it has been logged with the request id.",
}
