"""The notifications outbox: one row per (message, recipient, channel), written in
the same transaction as the change that causes it, delivered by the worker.

`dedupe_key` is unique, so a retried write or a re-run sweep never notifies twice;
delivery marks `sent_at`, and a failed attempt is retried with back-off.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"  # gave up after MAX_ATTEMPTS

    # Indexes cost every write that notifies: (recipient, read_at) leads with
    # the recipient and notification_due with the status, so neither has its own.
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications", db_index=False)
    channel = models.CharField(max_length=16, default="inapp")  # inapp, sms, wechat, …
    kind = models.CharField(max_length=48)  # e.g. case.assigned, case.escalated
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(max_length=200)  # unique in Meta, without a LIKE index
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"]),
                   models.Index(fields=["status", "next_attempt_at"], name="notification_due")]
        constraints = [models.UniqueConstraint(fields=["dedupe_key"],
                                               name="notification_dedupe_unique")]

    def __str__(self):
        return f"{self.kind} → {self.recipient_id} ({self.status})"
