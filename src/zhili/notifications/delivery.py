"""Delivery: claim a batch and commit, send outside any transaction, record each call.

For each configured channel in turn (so one channel's trouble never holds up
another):

1. claim: one `UPDATE … SET next_attempt_at = now + LEASE, attempts = attempts + 1
   WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`, committed at once.
   The lease is the row's own next_attempt_at: a worker that dies leaves its
   claimed rows due again after LEASE, and any worker takes them then.
2. send: the channel is called with no transaction open, one gateway call
   (`channel.batch` deliveries, 1 for a one-message gateway) at a time, each
   with its idempotency key, on the channel's thread when it has a timeout.
3. record: the call's outcome is written (one short UPDATE) before the next
   call is made, so a crash re-sends at most the call in flight, and a gateway
   that honours the key reaches the person once even then. The last call of a
   batch is recorded by the next claim's own statement (a data-modifying CTE
   on PostgreSQL): one commit per batch instead of two, and still nothing is
   sent before the previous send is recorded.

A failed call retries its deliveries with back-off, gives up after
MAX_ATTEMPTS, pauses the channel (in this process) and hands back the rest of
the claim. A call that times out is a failure whose outcome is unknown: it is
retried with the same key, and the channel is skipped until its thread returns.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from zhili.notifications.acklinks import PLACEHOLDER, rendered
from zhili.notifications.channels import Channel, Outgoing, Undeliverable, channels_all
from zhili.notifications.models import Delivery, Message

logger = logging.getLogger("zhili.notifications")

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
CHANNEL_BUDGET = 5.0  # seconds of claiming per channel per call
LEASE = 300  # seconds a claim holds its rows; setting ZHILI_NOTIFICATION_LEASE


def lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "ZHILI_NOTIFICATION_LEASE", LEASE))


def backoff(attempts: int) -> timedelta:
    """Wait before retry `attempts` (1-based): 30 s, 1 min, 2 min … capped at an hour."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_CAP_SECONDS))


def claim_sql(vendor: str) -> str:
    """The claim statement (also the bench's bare baseline, so both run the same SQL)."""
    table = Delivery._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if vendor == "postgresql" else ""
    return (f"UPDATE {table} SET next_attempt_at = %s, attempts = attempts + 1"
            f" WHERE id IN (SELECT id FROM {table} WHERE status = 'pending' AND channel = %s"
            f" AND next_attempt_at <= %s ORDER BY next_attempt_at LIMIT %s{lock})"
            " RETURNING id, message_id, user_id, person_id, address, attempts")


def notifications_deliver_pending(*, now=None, batch: int = 500, max_batches: int = 50) -> int:
    """Send what is due on every channel; return how many deliveries were sent.

    A channel gets at most `ZHILI_NOTIFICATION_CHANNEL_BUDGET` seconds (default
    5) of claiming per call, so a slow one-at-a-time gateway with a backlog
    does not keep the others waiting until the next loop.
    """
    messages: dict[int, Message] = {}
    budget = float(getattr(settings, "ZHILI_NOTIFICATION_CHANNEL_BUDGET", CHANNEL_BUDGET))
    return sum(_deliver_channel(channel, now, batch, max_batches, messages, budget)
               for channel in channels_all())


def _deliver_channel(channel: Channel, now, batch: int, max_batches: int, messages,
                     budget: float) -> int:
    sent = 0
    until = time.monotonic() + budget
    # The last call of a claim is recorded in the next claim's transaction (one
    # commit per batch, not two), still before anything more is sent.
    unrecorded: list = []
    try:
        for _ in range(max_batches):
            moment = now or timezone.now()
            if not _ready(channel, moment):
                break
            size = batch if channel.bucket is None else min(batch, channel.bucket.available())
            if channel.timeout:  # even if every call hangs to its timeout, done within the lease
                calls = max(1, int(lease().total_seconds() // channel.timeout))
                size = min(size, calls * channel.batch)
            if size <= 0:
                break
            claimed = _claim(channel.name, moment, size, unrecorded)
            if not claimed:
                break
            if channel.bucket is not None:
                channel.bucket.take(len(claimed))
            outgoing = _outgoing(channel.name, claimed, messages)
            done, stopped = _send_all(channel, outgoing, moment, unrecorded)
            sent += done
            if stopped or len(claimed) < size or time.monotonic() >= until:
                break
    finally:
        _flush(unrecorded)
    return sent


def _ready(channel: Channel, moment) -> bool:
    if channel.in_flight is not None:  # a timed-out send has not come back yet
        if not channel.in_flight.done():
            return False
        channel.in_flight = None
    return channel.paused_until is None or channel.paused_until <= moment


def _claim(name: str, moment, size: int, unrecorded: list) -> list[tuple]:
    """Record the previous call and claim the next batch, committed before anything is sent.

    On PostgreSQL one autocommit statement (the record a data-modifying CTE in
    front of the claim: one round trip per batch, as the bare claim has); on
    SQLite one transaction of two statements.
    """
    claim = [moment + lease(), name, moment, size]
    # Safe in one statement only while the recorded rows' lease (taken at their
    # claim, `unrecorded[0][2]`) keeps them out of this claim's reach.
    if connection.vendor != "postgresql" or len(unrecorded) != 1 or \
            moment >= unrecorded[0][2] + lease():
        with transaction.atomic():
            _flush(unrecorded)
            with connection.cursor() as cursor:
                cursor.execute(claim_sql(connection.vendor), claim)
                return cursor.fetchall()
    call, refs, at = unrecorded.pop()
    sql, params = _sent_sql(call, refs, at)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH recorded AS ({sql}) {claim_sql('postgresql')}", params + claim)
        return cursor.fetchall()


def _flush(unrecorded: list) -> None:
    while unrecorded:
        _record_sent(*unrecorded.pop())


def _outgoing(name: str, claimed, messages) -> list[Outgoing]:
    wanted = {row[1] for row in claimed} - messages.keys()
    if wanted:
        messages.update(Message.objects.only("kind", "title", "body", "link").in_bulk(wanted))
    # Per delivery only a tuple: the message's fields are looked up once per message.
    parts = {}
    for message_id in {row[1] for row in claimed}:
        m = messages[message_id]
        parts[message_id] = (m.kind, m.title, m.body, m.link, PLACEHOLDER in m.link)
    result = []
    append = result.append
    for pk, message_id, user_id, person_id, address, attempts in claimed:
        kind, title, body, link, personal = parts[message_id]
        # A link with {ack} becomes this delivery's own acknowledgement link (acklinks.py).
        append(Outgoing(pk, name, user_id, person_id, address, kind, title, body,
                        rendered(link, pk) if personal else link, attempts))
    return result


def _send_all(channel: Channel, outgoing: list[Outgoing], moment, unrecorded: list
              ) -> tuple[int, bool]:
    """Send call by call, each recorded before the next; return (sent, stopped early).

    The last successful call is left in `unrecorded` for the caller to record.
    """
    sent = 0
    for start in range(0, len(outgoing), channel.batch):
        call = outgoing[start:start + channel.batch]
        _flush(unrecorded)
        try:
            refs = _call(channel, call)
        except Undeliverable as exc:  # this delivery's own fault: the channel goes on
            _record_failure(channel, call, exc, moment, final=True)
            continue
        except Exception as exc:  # any gateway fault: retry these, keep the rest for later
            _record_failure(channel, call, exc, moment)
            _release(outgoing[start + channel.batch:], moment)
            return sent, True
        unrecorded.append((call, refs, moment))
        channel.failures = 0
        sent += len(call)
    return sent, False


def _call(channel: Channel, call: list[Outgoing]):
    """One gateway call: inline, or on the channel's thread with its timeout."""
    fn, arg = (channel.send, call[0]) if len(call) == 1 else (channel.send_batch, call)
    if channel.executor is None:
        return fn(arg)
    future = channel.executor.submit(fn, arg)
    try:
        return future.result(timeout=channel.timeout)
    except FutureTimeout:
        channel.in_flight = future
        raise TimeoutError(f"{channel.name} send took longer than {channel.timeout}s") from None


def _record_sent(call: list[Outgoing], refs, moment) -> None:
    if connection.vendor != "postgresql":
        ref = (refs if isinstance(refs, str) else "")[:64]
        Delivery.objects.filter(pk__in=[o.id for o in call]).update(
            status=Delivery.Status.SENT, sent_at=moment, provider_ref=ref, last_error="")
        return
    with connection.cursor() as cursor:
        cursor.execute(*_sent_sql(call, refs, moment))


def _sent_sql(call: list[Outgoing], refs, moment) -> tuple[str, list]:
    """PostgreSQL's "sent" UPDATE: one array parameter, not one per row.

    The ids go as one array literal made here: psycopg's adaptation of a list
    checks every element against a pattern, which cost a third of the worker's
    time in bench/fanout.py. Integers need no quoting.
    """
    ref = (refs if isinstance(refs, str) else "")[:64]
    ids = "{" + ",".join([str(o.id) for o in call]) + "}"
    return (f"UPDATE {Delivery._meta.db_table} SET status = 'sent', sent_at = %s,"
            " provider_ref = %s, last_error = '' WHERE id = ANY(%s::bigint[])",
            [moment, ref, ids])


def _record_failure(channel: Channel, call: list[Outgoing], exc: Exception, moment,
                    final: bool = False) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    for o in call:  # attempts differ per row, and so does the back-off
        if final or o.attempt >= MAX_ATTEMPTS:
            Delivery.objects.filter(pk=o.id).update(status=Delivery.Status.FAILED, last_error=error)
            logger.error("delivery %s gave up after %d attempts: %s", o.id, o.attempt, error)
        else:
            Delivery.objects.filter(pk=o.id).update(next_attempt_at=moment + backoff(o.attempt),
                                                    last_error=error)
    if final:
        return
    channel.failures += 1
    channel.paused_until = moment + min(backoff(channel.failures), timedelta(minutes=5))
    logger.warning("channel %s failed (%s); paused until %s", channel.name, error,
                   channel.paused_until)


def _release(rest: list[Outgoing], moment) -> None:
    """Claimed but not tried: due again now, and the claim's attempt not counted."""
    if rest:
        Delivery.objects.filter(pk__in=[o.id for o in rest]).update(
            next_attempt_at=moment, attempts=F("attempts") - 1)
