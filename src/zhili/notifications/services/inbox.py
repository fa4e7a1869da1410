"""What a recipient does with a delivery: read it (in-app), acknowledge it (any channel)."""

from __future__ import annotations

from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.errors import NotFound, ValidationFailed
from zhili.notifications.models import Delivery

ACK_VIA = ("inapp", "api", "sms", "phone", "wechat", "link")


# (delivery, message), sent inside the acknowledging transaction; a receiver may return
# {"area_path": …, "detail": {…}} for the acknowledgement's one audit entry.
delivery_acknowledged = Signal()


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

    `delivery` may be the row the caller has just read (with its message, as
    the link page has): what it is about (message, recipient, channel) never
    changes, so it is not read again. No row lock: the UPDATE is conditional
    (`acknowledged_at IS NULL`), so of two presses at once exactly one moves
    the row and writes the audit entry, and the other gets the row as it is.

    One audit entry per acknowledgement, whatever it caused: the receivers of
    `delivery_acknowledged` (the app that sent the message) act in the same
    transaction and may return `{"area_path": …, "detail": {…}}` for it, so
    the entry names the object the message was about and belongs to its area.
    """
    from zhili.audit.services import audit_record

    if via not in ACK_VIA:
        raise ValidationFailed({"via": _("Unknown acknowledgement channel.")})
    if isinstance(delivery, Delivery) and Delivery.message.is_cached(delivery):
        row = delivery
    else:
        row = (Delivery.objects.select_related("message")
               .filter(pk=getattr(delivery, "pk", delivery)).first())
    if row is None or (actor is not None and row.user_id != actor.pk):
        raise NotFound()  # another's delivery: the same 404 as a missing one
    if row.acknowledged_at is not None:
        return row
    at = now or timezone.now()
    with transaction.atomic():
        if not _mark(row.pk, at, via, inapp=row.channel == "inapp"):
            # Acknowledged meanwhile (a second press in flight): the first one counts.
            return Delivery.objects.select_related("message").get(pk=row.pk)
        row.acknowledged_at, row.acknowledged_via = at, via
        if row.channel == "inapp" and row.read_at is None:
            row.read_at = at
        detail = {"message": row.message_id, "kind": row.message.kind, "channel": row.channel,
                  "via": via}
        area_path = ""
        # Apps that sent the message act on it in the same transaction (a warning
        # becomes acknowledged); notifications names none of them.
        for _receiver, said in delivery_acknowledged.send(sender=Delivery, delivery=row,
                                                          message=row.message):
            if said:
                area_path = said.get("area_path") or area_path
                detail.update(said.get("detail") or {})
        audit_record(actor=actor, action="notification.acknowledge", obj=row,
                     area_path=area_path, detail=detail)
    return row


def _mark(pk: int, at, via: str, *, inapp: bool) -> bool:
    """The conditional UPDATE: True if this call acknowledged the delivery.

    Written out (bench/ack.py: on the acknowledgement's path the ORM's
    compiling of `filter(...).update(...)` cost more than the statement).
    """
    value = connection.ops.adapt_datetimefield_value(at)
    read = ", read_at = COALESCE(read_at, %s)" if inapp else ""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Delivery._meta.db_table} SET acknowledged_at = %s,"
                       f" acknowledged_via = %s{read} WHERE id = %s AND acknowledged_at IS NULL",
                       [value, via] + ([value] if inapp else []) + [pk])
        return cursor.rowcount == 1
