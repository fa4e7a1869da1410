"""Reads of a user's own notifications (nobody reads another's)."""

from __future__ import annotations

from django.db import models

from zhili.notifications.models import Delivery


def notification_list(*, actor, unread: bool | None = None):
    """The actor's in-app deliveries with their messages, newest first."""
    rows = Delivery.objects.filter(user=actor, channel="inapp").select_related("message")
    if unread is True:
        rows = rows.filter(read_at__isnull=True)
    elif unread is False:
        rows = rows.filter(read_at__isnull=False)
    return rows.order_by("-message__created_at", "-id")


def notification_unread_count(*, actor) -> int:
    return Delivery.objects.filter(user=actor, channel="inapp", read_at__isnull=True).count()


def delivery_for_link(token: str) -> tuple[str, Delivery | None]:
    """The delivery an acknowledgement link names: ("ok", delivery), or ("expired",
    None) / ("invalid", None) for a link that is out of date or was never ours."""
    from django.core import signing

    from zhili.notifications.acklinks import delivery_of

    try:
        delivery_id = delivery_of(token)
    except signing.SignatureExpired:
        return "expired", None
    except (signing.BadSignature, ValueError):
        return "invalid", None
    delivery = Delivery.objects.select_related("message").filter(pk=delivery_id).first()
    return ("ok", delivery) if delivery else ("invalid", None)


def deliveries_of(*, object_type: str, object_ids) -> models.QuerySet:
    """Every delivery of the messages sent about these objects (e.g. one warning's
    levels and escalations), with their messages."""
    ids = [str(i) for i in object_ids]
    return Delivery.objects.filter(message__object_type=object_type,
                                   message__object_id__in=ids).select_related("message")
