"""The JSON API: one NinjaAPI at /api/v1, one Router per app.

Every error leaves as RFC 9457 problem+json with a stable `code`.
"""

from __future__ import annotations

import logging

from django.http import Http404
from django.http.request import RawPostDataException
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from zhili.accounts.auth import API_AUTH
from zhili.core.errors import PROBLEM_CODES, ApplicationError, FieldError, ValidationFailed

logger = logging.getLogger("zhili.api")

PROBLEM_JSON = "application/problem+json"

class CheckedJsonParser(Parser):
    """The body InputGuardMiddleware already parsed and checked (depth, NUL,
    surrogates); parsing here only when a request did not pass through it."""

    def parse_body(self, request):
        if hasattr(request, "parsed_json"):
            return request.parsed_json
        return super().parse_body(request)


class ZhiliAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document states how errors really leave: every 4xx
    as application/problem+json, plus the errors this layer itself adds to an
    operation, by what the operation has (see `framework_errors`). Errors of the
    domain (403, 404, 409, ...) each operation declares in its router."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        from zhili.core.schemas import ProblemOut

        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if "ProblemOut" not in components:
            components["ProblemOut"] = ProblemOut.model_json_schema(
                ref_template="#/components/schemas/{model}")
            components.update(components["ProblemOut"].pop("$defs", {}))
        problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemOut"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                # ninja keys its own responses by int and openapi_extra's by str:
                # one JSON object with "200" twice, which Swagger UI refuses to read.
                responses = {}
                for code, response in operation.get("responses", {}).items():
                    responses[str(code)] = {**responses.get(str(code), {}), **response}
                operation["responses"] = responses
                for code, response in responses.items():
                    content = response.get("content", {})
                    if str(code).startswith("4") and "application/json" in content:
                        response["content"] = {PROBLEM_JSON: content["application/json"]}
                for code, description in framework_errors(operation).items():
                    # Keys are strings here (see above): an int 422 beside "422" is a
                    # duplicate key in the JSON, and Swagger UI then shows nothing.
                    responses.setdefault(str(code), {"description": description,
                                                     "content": problem})
        return schema


def framework_errors(operation: dict) -> dict[int, str]:
    """The errors the API layer itself answers for an operation, by its shape."""
    errors = {422: "`validation-failed`: a parameter or body field is invalid, or holds "
                   "text no field can store (NUL, an unpaired surrogate); `errors` names it"}
    if operation.get("requestBody"):
        errors[400] = "`bad-request`: Cannot parse request body (not JSON, not UTF-8, nested " \
                      "too deep, multipart without a boundary)"
        errors[415] = "`unsupported-media-type`: the body is neither JSON nor a form"
    if operation.get("security") and {} not in operation["security"]:
        errors[401] = "`not-authenticated`: log in or send a valid bearer token"
    return errors


api = ZhiliAPI(
    title="Zhili API",
    version="1.0.0",
    urls_namespace="api-1.0.0",
    description=(
        "Zhili (治理): city geography, people and roles, base registries, audit.\n\n"
        "Authenticate with a session (pages) or `Authorization: Bearer <token>` "
        "(`zhili users token USERNAME`). Every read is limited to the caller's area.\n\n"
        "Errors are RFC 9457 `application/problem+json` with a stable `code`:\n\n"
        + "\n".join(f"- `{code}`: {text}" for code, text in PROBLEM_CODES.items())
    ),
    auth=API_AUTH,
    parser=CheckedJsonParser(),
    docs_url="/docs",
)


def problem(request, error: ApplicationError):
    response = api.create_response(request, error.as_problem(instance=request.path), status=error.status)
    response["Content-Type"] = PROBLEM_JSON
    return response


@api.exception_handler(ApplicationError)
def on_application_error(request, exc: ApplicationError):
    return problem(request, exc)


_SOURCES = ("query", "body", "path", "form", "header", "cookie")


def _loc_name(loc, request) -> str:
    """The field as the client sent it. ninja reports ("query", "lon"), and for a
    schema of several fields the view's argument too: ("query", "q", "status", 0),
    ("body", "payload", "points", 0, "lat"); that argument name is not the client's."""
    parts = list(loc)
    source = parts.pop(0) if parts and parts[0] in _SOURCES else None
    if len(parts) > 1 and isinstance(parts[0], str) and parts[0] not in _sent(request, source):
        parts.pop(0)
    if parts == ["payload"]:
        parts = []
    if source == "query":  # ?status=a&status=b: the parameter's name, as the client wrote it
        parts = [p for p in parts if not isinstance(p, int)]
    return ".".join(str(p) for p in parts) or "body"


def _sent(request, source) -> set:
    if source == "query":
        return set(request.GET)
    if source == "body" and isinstance(getattr(request, "parsed_json", None), dict):
        return set(request.parsed_json)
    if source == "form":
        return set(request.POST)
    return set()


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    errors = [FieldError(_loc_name(e.get("loc", ()), request), e.get("msg", "invalid"))
              for e in exc.errors]
    return problem(request, ValidationFailed(errors))


@api.exception_handler(RawPostDataException)
def on_form_for_json(request, exc):
    # A multipart form (already read by core/inputguard.py) sent to an operation
    # that takes a JSON body: the stream is gone, and JSON it never was.
    return problem(request, ApplicationError(
        code="unsupported-media-type", status=415, title="Unsupported media type",
        detail="This operation takes an application/json body.",
        errors=[FieldError("Content-Type", "application/json")]))


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return problem(
        request,
        ApplicationError(
            code="not-authenticated", status=401, title="Authentication required",
            detail="Log in, or send a valid 'Authorization: Bearer <token>' header.",
        ),
    )


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return problem(request, ApplicationError(code="not-found", status=404, title="Not found"))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    code = {400: "bad-request", 401: "not-authenticated", 403: "permission-denied",
            404: "not-found", 405: "method-not-allowed", 409: "conflict",
            429: "throttled"}.get(exc.status_code, "bad-request")
    return problem(request, ApplicationError(code=code, status=exc.status_code,
                                             title=str(exc.message), detail=str(exc.message)))


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    logger.exception("unhandled error in %s %s", request.method, request.path)
    return problem(
        request,
        ApplicationError(
            code="server-error", status=500, title="Unexpected fault",
            detail=f"Report request id {getattr(request, 'request_id', '?')} to the administrators.",
        ),
    )


def _mount():
    """Each app's Router, as its AppConfig declares (`api_router`, see core.plugins)."""
    from django.utils.module_loading import import_string

    from zhili.core.plugins import registry

    for prefix, router in registry().api_routers:
        api.add_router(prefix, import_string(router))


_mount()
