import json
import re

from django.conf import settings
from django.http import HttpResponse
from django.middleware.gzip import GZipMiddleware

from zhili.core import context, forwarding, inputguard
from zhili.core.errors import ApplicationError, FieldError, ValidationFailed

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Give each request an id (or keep a sane X-Request-ID) for audit and logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_OK.match(incoming) else context.new_request_id()
        ctx = context.RequestContext(
            request_id=request_id,
            client_ip=forwarding.client_address(request),
            channel="api" if request.path.startswith("/api/") else "web",
        )
        request.request_id = request_id
        with context.bind(ctx):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class LanguageCookieMiddleware:
    """Remember a language chosen during this request in the cookie LocaleMiddleware reads.

    Whatever picked the reader's language (a login by a user who set one, the
    account page) puts it on `request.language_chosen`; the response sets
    Django's language cookie, as the language switcher (`set_language`) does,
    so every later page renders in it until the reader switches again.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        language = getattr(request, "language_chosen", "")
        if language and language in dict(settings.LANGUAGES):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        return response


class StaticGZipMiddleware(GZipMiddleware):
    """Gzip static files (leaflet.js: 147 kB, 42 kB gzipped) for clients that accept it.

    Only under STATIC_URL: pages carry CSRF tokens and personal data, which
    compression would expose to BREACH-style guessing. Files WhiteNoise
    already serves precompressed (a collectstatic with compression) keep
    their encoding: GZipMiddleware leaves an encoded response alone.
    """

    def process_response(self, request, response):
        if not request.path.startswith(settings.STATIC_URL):
            return response
        return super().process_response(request, response)


class InputGuardMiddleware:
    """Refuse what no view can store (core/inputguard.py) before any view runs.

    Under /api/ the answer is problem+json naming the field; pages get the 400
    page. Open311 answers in the spec's own error format, so its views run the
    same check themselves (governance/open311/views.py, open311_method).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/open311/"):
            return self.get_response(request)
        api = request.path.startswith("/api/")
        bad = inputguard.find_bad_input(request, api=api)
        if bad is None:
            return self.get_response(request)
        if api:
            return bad_input_problem(request, bad)
        from zhili.core.views import bad_request

        return bad_request(request)


_TITLES = {400: "The request could not be parsed", 415: "Unsupported media type"}


def bad_input_problem(request, bad: inputguard.BadInput):
    errors = [FieldError(bad.field, bad.message)]
    error = (ValidationFailed(errors) if bad.status == 422 else
             ApplicationError(code=bad.code, status=bad.status, title=_TITLES[bad.status],
                              detail=bad.message, errors=errors))
    return HttpResponse(json.dumps(error.as_problem(instance=request.path)), status=bad.status,
                        content_type="application/problem+json")
