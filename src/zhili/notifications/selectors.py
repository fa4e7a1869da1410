"""Reads of a user's own notifications (nobody reads another's)."""

from __future__ import annotations

from zhili.notifications.models import Notification


def notification_list(*, actor, unread: bool | None = None):
    """The actor's in-app notifications, newest first."""
    rows = Notification.objects.filter(recipient=actor, channel="inapp")
    if unread is True:
        rows = rows.filter(read_at__isnull=True)
    elif unread is False:
        rows = rows.filter(read_at__isnull=False)
    return rows.order_by("-created_at", "-id")


def notification_unread_count(*, actor) -> int:
    return Notification.objects.filter(recipient=actor, channel="inapp",
                                       read_at__isnull=True).count()
