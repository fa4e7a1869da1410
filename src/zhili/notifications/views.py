"""The acknowledgement page a link in an SMS opens: no login, one button."""

from __future__ import annotations

from django.core import signing
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from zhili.core.errors import NotFound
from zhili.notifications.acklinks import delivery_of
from zhili.notifications.models import Delivery
from zhili.notifications.services import delivery_acknowledge


@require_http_methods(["GET", "POST"])
def acknowledge(request, token: str):
    try:
        delivery_id = delivery_of(token)
    except signing.SignatureExpired:
        return render(request, "notifications/ack.html", {"state": "expired"}, status=410)
    except (signing.BadSignature, ValueError):
        return render(request, "notifications/ack.html", {"state": "invalid"}, status=404)
    delivery = Delivery.objects.select_related("message").filter(pk=delivery_id).first()
    if delivery is None:
        return render(request, "notifications/ack.html", {"state": "invalid"}, status=404)
    if request.method == "POST" and delivery.acknowledged_at is None:
        try:
            delivery = delivery_acknowledge(delivery=delivery, via="link")
        except NotFound:
            return render(request, "notifications/ack.html", {"state": "invalid"}, status=404)
    state = "done" if delivery.acknowledged_at else "ask"
    response = render(request, "notifications/ack.html",
                      {"state": state, "message": delivery.message, "delivery": delivery})
    response["Cache-Control"] = "no-store"
    # The token is in the URL: never sent to another host. Not "no-referrer": with it
    # the browser sends "Origin: null" on the form POST and the CSRF check refuses it.
    response["Referrer-Policy"] = "same-origin"
    return response
