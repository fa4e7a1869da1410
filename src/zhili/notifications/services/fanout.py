"""One message to a recipient query of any size: set-based, chunked, resumable.

`message_broadcast()` stores the message and the recipient query (SQL that
Django compiled from the caller's queryset) and queues `message_fanout_run`
in the caller's transaction. The run (../fanout.py) inserts deliveries chunk by chunk of
recipient ids, each chunk one `INSERT … SELECT` in its own transaction
together with the message's progress cursor (`ON CONFLICT DO NOTHING` once a
chunk meets an existing delivery), so

- no transaction holds more than one chunk (FANOUT_CHUNK ids),
- a rerun adds nothing (the partial unique indexes refuse a second delivery),
- a crash loses at most the chunk in flight: the next run starts after the
  last committed chunk. The task queue does not re-run a task whose worker
  died, so the run holds a lease on the message and the notifications poller
  resumes any fan-out whose lease has run out (`message_fanout_resume`).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from zhili.core.errors import ValidationFailed
from zhili.notifications.channels import channel_for
from zhili.notifications.fanout import _user_label
from zhili.notifications.models import Message
from zhili.notifications.services.messages import message_upsert


def message_broadcast(*, actor, recipients, kind: str, title: str, body: str = "",
                      link: str = "", obj=None, dedupe: str, channels=("sms",),
                      address_field: str | None = "phone", now=None) -> Message:
    """Tell everyone `recipients` selects; the deliveries are written by the worker.

    `recipients` is a queryset of registry persons (each reached at
    `address_field`, e.g. their phone) or of users (`address_field=None`: the
    channel adapter knows how to reach a user). The same `dedupe` key again
    returns the first message and queues nothing new. Audited.
    """
    from zhili.audit.services import audit_record
    from zhili.core.queue import enqueue_with_commit
    from zhili.notifications.tasks import message_fanout

    model = recipients.model
    who = "user" if model._meta.label_lower == _user_label() else "person"
    usable = [c for c in channels if channel_for(c) is not None]
    if not usable:
        raise ValidationFailed({"channels": _("None of these channels is configured.")})
    # Named columns (AS …), so the chunk's SQL can refer to them on either database.
    rows = recipients.order_by().annotate(fanout_id=F("pk"))
    if address_field:
        rows = rows.annotate(fanout_address=F(address_field)).values_list("fanout_id",
                                                                          "fanout_address")
    else:
        rows = rows.values_list("fanout_id")
    sql, params = rows.query.sql_with_params()
    query = {"kind": who, "channels": usable, "sql": sql, "params": list(params),
             "address": bool(address_field)}
    with transaction.atomic():
        message_id = message_upsert(kind=kind, title=title, body=body, link=link, obj=obj,
                                    dedupe=dedupe, now=now, fanout_state=Message.Fanout.RUNNING)
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.fanout_query is None:  # new: a retried broadcast queues nothing twice
            message.fanout_query = query
            message.save(update_fields=["fanout_query"])
            audit_record(actor=actor, action="notification.broadcast", obj=message,
                         detail={"kind": kind, "channels": usable, "recipients": who})
            enqueue_with_commit(message_fanout, message.pk)
    return message
