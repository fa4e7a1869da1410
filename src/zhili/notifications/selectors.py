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


_DELIVERY_FIELDS = {"id", "message_id", "user_id", "person_id", "channel", "status", "read_at",
                    "acknowledged_at", "acknowledged_via"}
_MESSAGE_FIELDS = {"id", "kind", "title", "body", "link", "object_type", "object_id",
                   "created_at"}


def delivery_with_message(delivery_id: int) -> Delivery | None:
    """One delivery with its message, as the acknowledgement pages need them (the rest
    of both rows is deferred), or None.

    One hand-written SELECT: on this path (hundreds of recipients pressing at
    once, bench/ack.py) compiling `select_related(...).first()` and building
    the two whole rows cost the server ten times the query itself. The
    values go through the fields' own converters, as the ORM's would.
    """
    from django.db import connection

    from zhili.notifications.models import Message

    parts = []
    for model, wanted, alias in ((Delivery, _DELIVERY_FIELDS, "d"), (Message, _MESSAGE_FIELDS, "m")):
        # In the model's field order: from_db() expects it.
        fields = [f for f in model._meta.concrete_fields if f.attname in wanted]
        parts.append((model, fields, alias))
    columns = [f"{alias}.{f.column}" for _m, fields, alias in parts for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {Delivery._meta.db_table} d"
                       f" JOIN {Message._meta.db_table} m ON m.id = d.message_id"
                       f" WHERE d.id = %s", [int(delivery_id)])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    made = []
    for model, fields, _alias in parts:
        converted = []
        for f in fields:
            value = next(values)
            col = f.get_col(model._meta.db_table)
            for convert in connection.ops.get_db_converters(col) + f.get_db_converters(connection):
                value = convert(value, col, connection)
            converted.append(value)
        made.append(model.from_db(connection.alias, [f.attname for f in fields], converted))
    delivery, message = made
    delivery.message = message
    return delivery


def deliveries_of(*, object_type: str, object_ids) -> models.QuerySet:
    """Every delivery of the messages sent about these objects (e.g. one warning's
    levels and escalations), with their messages."""
    ids = [str(i) for i in object_ids]
    return Delivery.objects.filter(message__object_type=object_type,
                                   message__object_id__in=ids).select_related("message")
