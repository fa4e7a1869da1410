"""Fan-out runs: the worker side of `message_broadcast` (services/fanout.py).

A run inserts a message's deliveries after its cursor, one chunk of recipient
ids per transaction, under a lease; a run whose worker died is resumed by the
notifications poller. Kept apart from the services so that the tasks that run
it and the service that queues it do not import each other.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from zhili.notifications.models import Delivery, Message

logger = logging.getLogger("zhili.notifications")

FANOUT_CHUNK = 50_000  # ids per transaction; setting ZHILI_NOTIFICATION_FANOUT_CHUNK
FANOUT_LEASE = 120  # seconds a runner holds a fan-out; ZHILI_NOTIFICATION_FANOUT_LEASE
KINDS = {"person": "person_id", "user": "user_id"}


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
