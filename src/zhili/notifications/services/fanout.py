"""One message to a recipient query of any size: set-based, chunked, resumable.

`message_broadcast()` stores the message and the recipient query (SQL that
Django compiled from the caller's queryset) and queues `message_fanout_run`
in the caller's transaction. The run inserts deliveries chunk by chunk of
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

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.errors import ValidationFailed
from zhili.notifications.channels import channel_for
from zhili.notifications.models import Delivery, Message
from zhili.notifications.services.messages import message_upsert

logger = logging.getLogger("zhili.notifications")

FANOUT_CHUNK = 50_000  # ids per transaction; setting ZHILI_NOTIFICATION_FANOUT_CHUNK
FANOUT_LEASE = 120  # seconds a runner holds a fan-out; ZHILI_NOTIFICATION_FANOUT_LEASE
KINDS = {"person": "person_id", "user": "user_id"}


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


def _user_label() -> str:
    from django.contrib.auth import get_user_model

    return get_user_model()._meta.label_lower


def _fanout_lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "ZHILI_NOTIFICATION_FANOUT_LEASE", FANOUT_LEASE))


def message_fanout_run(*, message_id: int, chunk: int | None = None,
                       stop_after: int | None = None) -> int:
    """Insert the message's deliveries after its cursor, one chunk per transaction.

    Returns how many deliveries this run inserted. Does nothing when another
    runner holds the lease or the fan-out is done. `stop_after` (chunks) is for
    tests that stop a run halfway.
    """
    if not _lease(message_id):
        return 0
    chunk = chunk or getattr(settings, "ZHILI_NOTIFICATION_FANOUT_CHUNK", FANOUT_CHUNK)
    message = Message.objects.get(pk=message_id)
    query = message.fanout_query or {}
    column = KINDS[query["kind"]]
    recipients = query["sql"]
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(r.fanout_id), MAX(r.fanout_id) FROM ({recipients}) r",
                       query["params"])
        first, last = cursor.fetchone()
    first, last = (first or 1), (last or 0)
    address = "COALESCE(r.fanout_address, '')" if query.get("address") else "''"
    channels = query["channels"]
    # One SELECT per channel, glued by UNION ALL: a chunk is still one statement.
    select = " UNION ALL ".join(
        f"SELECT %s, r.fanout_id, %s, {address}, 'pending', 0, %s, '', '', '' "
        f"FROM ({recipients}) r WHERE r.fanout_id > %s AND r.fanout_id <= %s" for _ in channels)
    insert = (f"INSERT INTO {table} (message_id, {column}, channel, address, status, attempts,"
              f" next_attempt_at, acknowledged_via, provider_ref, last_error) {select}")
    # Rows past the cursor cannot exist (a chunk commits with the cursor, and the lease
    # keeps runners apart), so a chunk is a plain INSERT; only if one meets a row anyway
    # (a lapsed lease, a rerun from the start) does the run switch to ON CONFLICT DO
    # NOTHING, which costs a speculative insertion per row.
    careful = False
    inserted = chunks = 0
    low = max(message.fanout_cursor, first - 1)  # ranges start at the first recipient
    while low < last:
        high = min(low + chunk, last)
        due = timezone.now()
        params = []
        for channel in channels:
            params += [message_id, channel, due, *query["params"], low, high]
        try:
            added = _chunk(message_id, insert + (" ON CONFLICT DO NOTHING" if careful else ""),
                           params, high)
        except IntegrityError:
            careful = True
            added = _chunk(message_id, insert + " ON CONFLICT DO NOTHING", params, high)
        inserted += added
        low = high
        chunks += 1
        if stop_after is not None and chunks >= stop_after:
            return inserted
    Message.objects.filter(pk=message_id).update(fanout_state=Message.Fanout.DONE,
                                                 fanout_lease_until=None)
    logger.info("fan-out of message %s done: %d deliveries", message_id, inserted)
    return inserted


def _chunk(message_id: int, insert: str, params: list, high: int) -> int:
    """One chunk's deliveries and the cursor past them, in one transaction."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(insert, params)
            added = max(cursor.rowcount, 0)
        Message.objects.filter(pk=message_id).update(
            fanout_cursor=high, fanout_count=F("fanout_count") + added,
            fanout_lease_until=timezone.now() + _fanout_lease())
    return added


def _lease(message_id: int) -> bool:
    """Take the message's fan-out lease (one short UPDATE: it is ours if it changed a row)."""
    now = timezone.now()
    free = Message.objects.filter(pk=message_id, fanout_state=Message.Fanout.RUNNING,
                                  fanout_query__isnull=False)
    free = free.filter(fanout_lease_until__isnull=True) | free.filter(fanout_lease_until__lt=now)
    return bool(Message.objects.filter(pk__in=free.values("pk"))
                .update(fanout_lease_until=now + _fanout_lease()))


def message_fanout_resume(*, limit: int = 5) -> int:
    """Continue fan-outs whose runner died (lease run out); the poller calls this."""
    now = timezone.now()
    stale = list(Message.objects.filter(fanout_state=Message.Fanout.RUNNING,
                                        fanout_lease_until__lt=now)
                 .values_list("pk", flat=True)[:limit])
    return sum(message_fanout_run(message_id=pk) for pk in stale)
