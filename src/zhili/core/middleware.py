import re

from django.conf import settings
from django.middleware.gzip import GZipMiddleware

from zhili.core import context

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
            client_ip=request.META.get("REMOTE_ADDR"),
            channel="api" if request.path.startswith("/api/") else "web",
        )
        request.request_id = request_id
        with context.bind(ctx):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
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

