"""The acknowledgement page a link in an SMS opens: no login, one button."""

from __future__ import annotations

from django.core import signing
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.views.decorators.http import require_http_methods

from zhili.core.errors import NotFound
from zhili.notifications.acklinks import delivery_of
from zhili.notifications.selectors import delivery_with_message
from zhili.notifications.services import delivery_acknowledge


def _page(request, context: dict, status: int = 200) -> HttpResponse:
    """The page, rendered without the site's context processors (it needs none of
    them: no menu, no user, no messages); the form's CSRF token only where it asks."""
    if context["state"] == "ask":
        context["csrf_token"] = get_token(request)
    response = HttpResponse(get_template("notifications/ack.html").render(context),
                            status=status)
    response["Cache-Control"] = "no-store"
    # The token is in the URL: never sent to another host. Not "no-referrer": with it
    # the browser sends "Origin: null" on the form POST and the CSRF check refuses it.
    response["Referrer-Policy"] = "same-origin"
    return response


@require_http_methods(["GET", "POST"])
def acknowledge(request, token: str):
    try:
        delivery_id = delivery_of(token)
    except signing.SignatureExpired:
        return _page(request, {"state": "expired"}, status=410)
    except (signing.BadSignature, ValueError):
        return _page(request, {"state": "invalid"}, status=404)
    delivery = delivery_with_message(delivery_id)
    if delivery is None:
        return _page(request, {"state": "invalid"}, status=404)
    if request.method == "POST" and delivery.acknowledged_at is None:
        try:
            delivery = delivery_acknowledge(delivery=delivery, via="link")
        except NotFound:
            return _page(request, {"state": "invalid"}, status=404)
    state = "done" if delivery.acknowledged_at else "ask"
    return _page(request, {"state": state, "message": delivery.message, "delivery": delivery})
