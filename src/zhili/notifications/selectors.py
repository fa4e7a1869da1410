"""Reads of a user's own notifications (nobody reads another's)."""

from __future__ import annotations

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
