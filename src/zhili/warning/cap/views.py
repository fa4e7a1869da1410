"""The public CAP 1.2 feed: an Atom list of messages, each message as sent."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import require_GET

from zhili.warning.cap.publish import sender
from zhili.warning.models import CapMessage

CAP_TYPE = "application/cap+xml"
FEED_SIZE = 100


@require_GET
def feed(request):
    """The newest messages of public warnings (Atom; each entry links its CAP XML)."""
    atom = Atom1Feed(title="Zhili warnings (CAP 1.2)", link=request.build_absolute_uri("/cap/"),
                     description="Public warnings of the city as CAP 1.2 alerts.",
                     feed_url=request.build_absolute_uri(reverse("cap:feed")), author_name=sender(),
                     language="zh-CN", feed_guid=f"urn:zhili:cap:{sender()}")
    messages = CapMessage.objects.select_related("warning__risk_point__category")[:FEED_SIZE]
    for message in messages:
        warning = message.warning
        point, category = warning.risk_point, warning.risk_point.category
        url = request.build_absolute_uri(reverse("cap:alert", args=[message.identifier]))
        atom.add_item(
            title=f"{point.name} {category.name} · {message.msg_type}",
            link=url, description=f"{category.name_en}: {message.msg_type} ({message.identifier})",
            unique_id=f"urn:zhili:cap:{message.identifier}", updateddate=message.sent,
            pubdate=message.sent, categories=[category.cap_category])
    return HttpResponse(atom.writeString("utf-8"), content_type="application/atom+xml; charset=utf-8")


@require_GET
def alert(request, identifier: str):
    """One message, byte for byte as published (signed when signing is configured)."""
    message = CapMessage.objects.filter(identifier=identifier).first()
    if message is None:
        # The warning's number names its newest message (the alerts' <web> link).
        message = CapMessage.objects.filter(warning__number=identifier).first()
    if message is None:
        raise Http404
    return HttpResponse(bytes(message.document), content_type=CAP_TYPE)
