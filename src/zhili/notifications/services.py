"""`notify()`: the one way any app sends a notification.

Call it inside the transaction of the change that causes it. It writes one
outbox row per (recipient, channel), and that is all: the worker polls the
outbox on every loop (`notifications.tasks`). A rolled-back change notifies
nobody; a committed one is delivered by whichever worker runs next, even if
this process dies. The caller's `dedupe` key makes a retried
write or a re-run sweep notify nobody twice.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from zhili.notifications.channels import channel_for
from zhili.notifications.models import Notification

logger = logging.getLogger("zhili.notifications")

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
DEDUPE_MAX = 200


def _row_key(dedupe: str, recipient_id: int, channel: str) -> str:
    key = f"{dedupe}|u{recipient_id}|{channel}"
    if len(key) > DEDUPE_MAX:  # keep it unique and within the column
        key = key[:DEDUPE_MAX - 65] + "#" + hashlib.sha256(key.encode()).hexdigest()
    return key


def notify(*, recipients, kind: str, title: str, body: str = "", link: str = "", obj=None,
           dedupe: str, channels=("inapp",), now=None) -> int:
    """Queue a notification for each recipient on each channel; return rows offered.

    `recipients` are users or user ids (None and duplicates are ignored).
    Rows whose dedupe key exists already are skipped silently (INSERT … ON
    CONFLICT DO NOTHING), so the count includes them.
    """
    ids = []
    for r in recipients or ():
        rid = getattr(r, "pk", r)
        if rid is not None and rid not in ids:
            ids.append(rid)
    usable = [c for c in channels if channel_for(c) is not None]
    for missing in set(channels) - set(usable):
        logger.warning("notification channel %r is not configured; %s not sent on it",
                       missing, kind)
    if not ids or not usable:
        return 0
    # `now` dates the message (a controlled clock in the demo and tests); delivery is
    # due at once in real time, whatever that clock says.
    due = timezone.now()
    now = now or due
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    rows = [
        Notification(recipient_id=rid, channel=channel, kind=kind[:48], title=str(title)[:200],
                     body=str(body), link=link[:300], object_type=object_type,
                     object_id=object_id, dedupe_key=_row_key(dedupe, rid, channel),
                     created_at=now, next_attempt_at=due)
        for rid in ids for channel in usable
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def backoff(attempts: int) -> timedelta:
    """Wait before retry `attempts` (1-based): 30 s, 1 min, 2 min … capped at an hour."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_CAP_SECONDS))


def notifications_deliver_pending(*, now=None, batch: int = 100, max_batches: int = 50) -> int:
    """Send what is due; return how many were sent.

    Each batch is claimed with SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL), so
    any number of workers share the outbox without sending a row twice; on
    SQLite the single writer lock serialises them. A failed send is retried
    with back-off and given up after MAX_ATTEMPTS.
    """
    sent = 0
    for _ in range(max_batches):
        moment = now or timezone.now()
        with transaction.atomic():
            claimed = list(
                Notification.objects.select_for_update(skip_locked=True)
                .select_related("recipient")
                .filter(status=Notification.Status.PENDING, next_attempt_at__lte=moment)
                .order_by("next_attempt_at", "id")[:batch]
            )
            for row in claimed:
                sent += _attempt(row, moment)
        if len(claimed) < batch:
            break
    return sent


def _attempt(row: Notification, now) -> int:
    channel = channel_for(row.channel)
    row.attempts += 1
    try:
        if channel is None:
            raise RuntimeError(f"channel {row.channel!r} is not configured")
        channel.send(row)
    except Exception as exc:  # any gateway fault: keep the row and retry later
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = Notification.Status.FAILED
            logger.error("notification %s gave up after %d attempts: %s", row.pk, row.attempts,
                         row.last_error)
        else:
            row.next_attempt_at = now + backoff(row.attempts)
        row.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
        return 0
    row.status = Notification.Status.SENT
    row.sent_at = now
    row.last_error = ""
    row.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    return 1


def notification_mark_read(*, actor, notification_id: int | None = None, now=None) -> int:
    """Mark one (or, with no id, every) unread in-app notification of the actor as read.

    Not audited: it changes nothing but the reader's own inbox.
    """
    from zhili.core.errors import NotFound

    now = now or timezone.now()
    mine = Notification.objects.filter(recipient=actor, channel="inapp")
    if notification_id is not None:
        if not mine.filter(pk=notification_id).exists():
            raise NotFound()
        mine = mine.filter(pk=notification_id)
    return mine.filter(read_at__isnull=True).update(read_at=now)
