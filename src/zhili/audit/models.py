"""The append-only audit log: who did or read what, when, from where, why.

Appending and sequencing are separate (the Certificate Transparency design):

- `AuditEntry`: one row per audited act, inserted by `audit_record` in the
  caller's transaction with the SHA-256 of its own content, and nothing else,
  so writers never wait for each other.
- `AuditSequence`: the worker's sequencer gives committed entries their place
  in one hash chain, in batches: position `seq`, and `chain_hash` over the
  previous chain hash, the position, the entry id and the entry's hash.
- `AuditTreeHead`: one per batch, the chain hash at its last position, signed
  (HMAC-SHA256 with a key derived from SECRET_KEY).
- `AuditHead`: one row, the newest position and chain hash; only the
  sequencer locks it.

Triggers refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of entries,
positions and tree heads, and any backward move or deletion of the head
(migrations 0002 and 0005). `zhili audit verify` checks it all.
"""

import json

from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    actor_label = models.CharField(max_length=150, help_text="username at the time, or 'system'")
    action = models.CharField(max_length=64)  # e.g. "person.reveal"
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    area_path = models.CharField(max_length=96, blank=True)
    purpose = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=64)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=16, default="system")
    detail = models.JSONField(default=dict, blank=True)
    # Entries from before the sequencer (migration 0005) keep their old link:
    # entry_hash = SHA-256(prev_hash + content). New ones have prev_hash "" and
    # entry_hash = SHA-256(content); the chain lives in AuditSequence.
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        # Each index here is written by every audited write: one per search the
        # audit page offers, none twice (the entry hash needs none: the chain
        # finds entries by id).
        # varchar_pattern_ops serve LIKE 'prefix%' (action, area scope) and equality.
        indexes = [
            models.Index(fields=["action"], name="audit_action",
                         opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["area_path"], name="audit_area_path",
                         opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["request_id"], name="audit_request"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        # Append only: the one write path is audit.services.audit_record.
        if self.pk is not None:
            raise ValueError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit entries cannot be deleted")

    @property
    def detail_json(self) -> str:
        return json.dumps(self.detail, ensure_ascii=False, indent=1, sort_keys=True)


class AuditSequence(models.Model):
    """An entry's place in the chain, written by the sequencer only (append-only)."""

    seq = models.BigIntegerField(primary_key=True)
    # No foreign-key constraint: a deleted entry must show up in verify, not
    # be prevented by a constraint an attacker can drop anyway.
    entry = models.OneToOneField(AuditEntry, on_delete=models.DO_NOTHING, db_constraint=False,
                                 related_name="sequence")
    chain_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self):
        return f"position {self.seq}: entry {self.entry_id}"


class AuditTreeHead(models.Model):
    """One sequenced batch: the chain hash at its last position, signed (append-only)."""

    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField(unique=True)
    chain_hash = models.CharField(max_length=64)
    at = models.DateTimeField(help_text="when the batch was sequenced")
    # The highest entry id sequenced so far, this batch included: the
    # sequencer's low-water mark (services.tail_floor). Not signed.
    max_entry_id = models.BigIntegerField()
    signature = models.CharField(max_length=64, help_text="HMAC-SHA256 of the head")

    class Meta:
        ordering = ["-last_seq"]
        indexes = [models.Index(fields=["at"], name="audit_treehead_at")]

    def __str__(self):
        return f"tree head at position {self.last_seq}"


class AuditHead(models.Model):
    """One row: the newest position and chain hash. Only the sequencer locks it."""

    last_hash = models.CharField(max_length=64)
    last_seq = models.BigIntegerField(default=0)

    def __str__(self):
        return f"audit head at position {self.last_seq}"
