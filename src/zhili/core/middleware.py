import json
import re

from django.conf import settings
from django.http import HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.utils.functional import empty

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

    The session remembers the user's language it last applied: one changed
    elsewhere (the API, an administrator in the admin) differs from it and is
    applied on the user's next page, while a switch in the language switcher
    (the cookie alone) is left as the reader chose.
    """

    SESSION_KEY = "zhili_language_applied"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        language = getattr(request, "language_chosen", "")
        session = getattr(request, "session", None)
        user = loaded_user(request)
        if language and session is not None and user is not None:
            session[self.SESSION_KEY] = language
        elif (session is not None and user is not None and user.language
              and self.SESSION_KEY in session and session[self.SESSION_KEY] != user.language):
            language = session[self.SESSION_KEY] = user.language
        if language and language in dict(settings.LANGUAGES):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        return response


def loaded_user(request):
    """The request's authenticated user if the page already loaded it, else None:
    looking costs a page that never asked for its user no query."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user if user.is_authenticated else None


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
