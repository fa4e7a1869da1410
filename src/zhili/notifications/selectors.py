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
    delivery = delivery_with_message(delivery_id)
    return ("ok", delivery) if delivery else ("invalid", None)


_DELIVERY_FIELDS = ("id", "message_id", "user_id", "person_id", "channel", "status", "read_at",
                    "acknowledged_at", "acknowledged_via")
_MESSAGE_FIELDS = ("id", "kind", "title", "body", "link", "object_type", "object_id",
                   "created_at")


def delivery_with_message(delivery_id: int) -> Delivery | None:
    """One delivery with its message, as the acknowledgement pages need them (the rest
    of both rows is deferred), or None.

    One hand-written SELECT: on this path (hundreds of recipients pressing at
    once, bench/ack.py) compiling `select_related(...).first()` and building
    the two whole rows cost the server ten times the query itself.
    """
    from django.db import connection

    from zhili.notifications.models import Message

    d, m = Delivery._meta, Message._meta
    columns = [f"d.{d.get_field(f).column}" for f in _DELIVERY_FIELDS] + \
              [f"m.{m.get_field(f).column}" for f in _MESSAGE_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {d.db_table} d JOIN {m.db_table} m"
                       f" ON m.id = d.message_id WHERE d.id = %s", [int(delivery_id)])
        row = cursor.fetchone()
    if row is None:
        return None
    row = [connection.ops.convert_datetimefield_value(v, None, connection)
           if isinstance(v, str) and name.endswith("_at") else v
           for name, v in zip(_DELIVERY_FIELDS + _MESSAGE_FIELDS, row, strict=True)]
    n = len(_DELIVERY_FIELDS)
    delivery = Delivery.from_db(connection.alias, _DELIVERY_FIELDS, row[:n])
    delivery.message = Message.from_db(connection.alias, _MESSAGE_FIELDS, row[n:])
    return delivery


def deliveries_of(*, object_type: str, object_ids) -> models.QuerySet:
    """Every delivery of the messages sent about these objects (e.g. one warning's
    levels and escalations), with their messages."""
    ids = [str(i) for i in object_ids]
    return Delivery.objects.filter(message__object_type=object_type,
                                   message__object_id__in=ids).select_related("message")
