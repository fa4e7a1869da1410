import re

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
