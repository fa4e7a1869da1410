"""What a recipient does with a delivery: read it (in-app), acknowledge it (any channel)."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.errors import NotFound, ValidationFailed
from zhili.notifications.models import Delivery

ACK_VIA = ("inapp", "api", "sms", "phone", "wechat", "link")


delivery_acknowledged = Signal()  # (delivery, message), inside the acknowledging transaction


def notification_mark_read(*, actor, notification_id: int | None = None, now=None) -> int:
    """Mark one (or, with no id, every) unread in-app notification of the actor as read.

    Not audited: it changes nothing but the reader's own inbox.
    """
    now = now or timezone.now()
    mine = Delivery.objects.filter(user=actor, channel="inapp")
    if notification_id is not None:
        if not mine.filter(pk=notification_id).exists():
            raise NotFound()
        mine = mine.filter(pk=notification_id)
    return mine.filter(read_at__isnull=True).update(read_at=now)


def delivery_acknowledge(*, delivery: Delivery | int, actor=None, via: str, now=None) -> Delivery:
    """Record that the recipient has taken the message in ("收到"); audited.

    `actor` is the user acknowledging (it must be the delivery's own user) or
    None when a channel reports it (an SMS reply, a phone call's key press:
    a registry person has no login). The first acknowledgement counts; a
    repeat changes nothing and is not audited again. The early warning
    escalation reads `acknowledged_at`.
    """
    from zhili.audit.services import audit_record

    if via not in ACK_VIA:
        raise ValidationFailed({"via": _("Unknown acknowledgement channel.")})
    pk = getattr(delivery, "pk", delivery)
    with transaction.atomic():
        rows = Delivery.objects.select_for_update().select_related("message")
        if actor is not None:
            rows = rows.filter(user=actor)  # another's delivery: the same 404 as a missing one
        row = rows.filter(pk=pk).first()
        if row is None:
            raise NotFound()
        if row.acknowledged_at is not None:
            return row
        row.acknowledged_at = now or timezone.now()
        row.acknowledged_via = via
        if row.channel == "inapp" and row.read_at is None:
            row.read_at = row.acknowledged_at
        row.save(update_fields=["acknowledged_at", "acknowledged_via", "read_at"])
        audit_record(actor=actor, action="notification.acknowledge", obj=row,
                     detail={"message": row.message_id, "kind": row.message.kind,
                             "channel": row.channel, "via": via})
        # Apps that sent the message act on it in the same transaction (a warning
        # becomes acknowledged); notifications names none of them.
        delivery_acknowledged.send(sender=Delivery, delivery=row, message=row.message)
    return row
