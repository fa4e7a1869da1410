"""The one write path of the audit log."""

from __future__ import annotations

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from zhili.audit.models import AuditEntry, AuditHead
from zhili.core import context

GENESIS = "0" * 64


def entry_digest(prev_hash: str, fields: dict) -> str:
    """SHA-256 over the previous hash and this entry's canonical JSON."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def hashed_fields(entry: AuditEntry) -> dict:
    return {
        "at": entry.at.isoformat(),
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
    """Append one entry. Call it inside the service's transaction: both commit or neither."""
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        area_path = area_path or getattr(obj, "area_path", "") or getattr(obj, "path", "")
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    entry = AuditEntry(
        at=timezone.now(),
        actor=actor if is_user else None,
        actor_label=actor.get_username() if is_user else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        area_path=area_path,
        purpose=purpose[:200],
        request_id=ctx.request_id,
        client_ip=ctx.client_ip,
        channel=ctx.channel,
        detail=detail or {},
    )
    with transaction.atomic():
        # The head row lock serialises appends so the chain has no forks.
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head, _ = AuditHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS})
            head = AuditHead.objects.select_for_update().get(pk=1)
        entry.prev_hash = head.last_hash
        entry.entry_hash = entry_digest(head.last_hash, hashed_fields(entry))
        entry.save()
        AuditHead.objects.filter(pk=1).update(last_hash=entry.entry_hash, last_id=entry.pk)
    return entry


def audit_verify(*, batch_size: int = 5000, progress=None) -> tuple[int, list[str]]:
    """Walk the chain from the start; return (entries checked, problems found)."""
    problems: list[str] = []
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        batch = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for entry in batch:
            if entry.prev_hash != prev:
                problems.append(f"entry {entry.pk}: previous hash does not match entry before it "
                                "(an entry was deleted or reordered)")
            expected = entry_digest(entry.prev_hash, hashed_fields(entry))
            if expected != entry.entry_hash:
                problems.append(f"entry {entry.pk}: content does not match its hash (edited)")
            prev = entry.entry_hash
            checked += 1
            last_id = entry.pk
        if progress:
            progress(len(batch))
    head = AuditHead.objects.filter(pk=1).first()
    if head and checked and head.last_hash != prev:
        problems.append("the newest entries are missing (chain head does not match the last entry)")
    return checked, problems
