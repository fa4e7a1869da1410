"""The one write path of the audit log, and the chain check.

Every entry stores SHA-256(previous entry's hash + its own canonical JSON), so
editing a row breaks its own hash and deleting one breaks its successor's
link. Appends are serialised by a row lock on the single `AuditHead` row: the
chain has no forks, and entry ids grow in chain order (an id is drawn only
while the lock is held). The database itself moves the head on each INSERT
(a trigger, migration 0003). See docs/security.md for what that costs and how
to shard it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Callable
from datetime import UTC

from django.db import connection, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from zhili.audit.models import AuditEntry, AuditHead
from zhili.core import context

GENESIS = "0" * 64
HEAD_ID = 1
HEAD_SQL = "SELECT last_hash FROM audit_audithead WHERE id = %s"
MAX_PROBLEMS = 10_000  # a wholesale rewrite would otherwise list millions


def entry_digest(prev_hash: str, fields: dict) -> str:
    """SHA-256 over the previous hash and this entry's canonical JSON."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def hashed_fields(entry: AuditEntry) -> dict:
    return {
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "area_path": entry.area_path,
        "purpose": entry.purpose,
        "request_id": entry.request_id,
        "client_ip": entry.client_ip,
        "channel": entry.channel,
        "detail": entry.detail,
    }


def _text(value, limit: int) -> str:
    # PostgreSQL refuses NUL in text and overlong values; SQLite would keep
    # them. Cut both the same way so the hash covers what is stored.
    return str(value).replace("\x00", "")[:limit]


def _canonical_ip(value: str | None) -> str | None:
    """The address as the database will hand it back (so the hash still matches)."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None  # a garbled REMOTE_ADDR must not turn a write into an error
    if address.version == 6:
        return clean_ipv6_address(str(address))
    return str(address)


def _canonical_detail(detail: dict | None) -> dict:
    """What the JSON column will return: plain JSON types, string keys."""
    if not detail:
        return {}
    return json.loads(json.dumps(detail, default=str, ensure_ascii=False).replace("\\u0000", ""))


def _locked_head_hash() -> str:
    """Lock the chain head and return its hash (every audited write passes here:
    one short statement, not a compiled queryset)."""
    # SQLite has no row locks; its writers are serialised by IMMEDIATE transactions.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(HEAD_SQL + lock, [HEAD_ID])
        row = cursor.fetchone()
    if row is None:
        # The migration creates the head; a flushed database may lack it.
        # INSERT … ON CONFLICT DO NOTHING: two racing writers create one row.
        AuditHead.objects.bulk_create([AuditHead(pk=HEAD_ID, last_hash=GENESIS)],
                                      ignore_conflicts=True)
        return _locked_head_hash()
    return row[0]


def audit_record(
    *,
    actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    area_path: str = "",
    purpose: str = "",
    detail: dict | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the service's transaction: both commit or neither.

    Call it as late as possible in that transaction: the head lock it takes
    is held until the commit, and every other audited write waits for it.
    """
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        area_path = area_path or getattr(obj, "area_path", "") or getattr(obj, "path", "")
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_obj, label = actor, actor.get_username()
    else:
        actor_obj, label = None, "system" if actor is None else "anonymous"
    entry = AuditEntry(
        actor=actor_obj,
        actor_label=_text(label, 150),
        action=_text(action, 64),
        object_type=_text(object_type, 64),
        object_id=_text(object_id if object_id is not None else "", 64),
        area_path=_text(area_path or "", 96),
        purpose=_text(purpose or "", 200),
        request_id=_text(ctx.request_id, 64),
        client_ip=_canonical_ip(ctx.client_ip),
        channel=_text(ctx.channel, 16),
        detail=_canonical_detail(detail),
    )
    # savepoint=False: a failed audit must fail the caller's whole transaction.
    with transaction.atomic(savepoint=False):
        prev_hash = _locked_head_hash()
        # Stamped under the lock, so time order and chain order agree.
        entry.at = timezone.now()
        entry.prev_hash = prev_hash
        entry.entry_hash = entry_digest(prev_hash, hashed_fields(entry))
        entry.save()  # a trigger (migration 0003) moves the head to this entry
    return entry


def audit_verify(
    *, batch_size: int = 5000, progress: Callable[[int, int], None] | None = None
) -> tuple[int, list[str]]:
    """Walk the chain from the start; return (entries checked, problems found).

    The head is read first and the walk stops at its entry, so appends made
    while the walk runs are neither checked nor reported as problems.
    `progress(checked, total)` is called after each batch.
    """
    problems: list[str] = []

    def problem(text: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(text)
        elif len(problems) == MAX_PROBLEMS:
            problems.append(f"… more problems not listed (stopped at {MAX_PROBLEMS})")

    head = AuditHead.objects.filter(pk=HEAD_ID).first()
    last_id = head.last_id if head else None
    entries = AuditEntry.objects.order_by("id")
    if last_id is not None:
        entries = entries.filter(id__lte=last_id)
    total = entries.count()
    prev = GENESIS
    checked = 0
    cursor = 0
    newest = None
    while True:
        batch = list(entries.filter(id__gt=cursor)[:batch_size])
        if not batch:
            break
        for entry in batch:
            if entry.prev_hash != prev:
                problem(f"entry {entry.pk}: its link to the entry before it is broken "
                        "(an entry before it was deleted, inserted or rewritten)")
            if entry_digest(entry.prev_hash, hashed_fields(entry)) != entry.entry_hash:
                problem(f"entry {entry.pk}: its content does not match its hash (edited)")
            prev = entry.entry_hash
            checked += 1
            newest = entry
        cursor = batch[-1].pk
        if progress:
            progress(checked, total)
    if head is None:
        if checked:
            problem("the chain head is missing (it was deleted)")
    elif head.last_id and newest is None:
        problem(f"every entry up to {head.last_id} is missing (the log was emptied)")
    elif newest is not None and (newest.pk != head.last_id or newest.entry_hash != head.last_hash):
        problem(f"the newest entries are missing: the head names entry {head.last_id}, "
                f"the last one found is {newest.pk}")
    return checked, problems
