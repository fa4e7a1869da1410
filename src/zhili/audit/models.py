"""The append-only audit log: who did or read what, when, from where, why.

Each entry carries the SHA-256 of its own content and of the entry before it,
so editing or deleting any row breaks the chain (`zhili audit verify`). In
the database, triggers (migration 0002) refuse UPDATE and DELETE outright, on
PostgreSQL TRUNCATE too; the only write path is `audit.services.audit_record`.
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
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        # Appends hold the chain lock to their commit, so each index here slows
        # every audited write: one per search the audit page offers, none twice.
        # varchar_pattern_ops serve LIKE 'prefix%' (action, area scope) and equality.
        indexes = [
            models.Index(fields=["action"], name="audit_action",
                         opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["area_path"], name="audit_area_path",
                         opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["request_id"], name="audit_request"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["entry_hash"], name="audit_entry_hash_unique"),
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


class AuditHead(models.Model):
    """One row holding the hash of the newest entry; locking it serialises appends."""

    last_hash = models.CharField(max_length=64)
    last_id = models.BigIntegerField(default=0)

    def __str__(self):
        return f"audit head at entry {self.last_id}"
