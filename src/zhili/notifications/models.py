"""Notifications: a message stored once, and one small delivery row per recipient and channel.

A `Message` holds what is said (kind, title, body, link, the object it is
about) and a unique `dedupe_key`, so a retried write or a re-run sweep never
says it twice. A `Delivery` is one recipient on one channel: a user (the
in-app inbox, a staff member's SMS), a registry person reached at the
address snapshot taken at fan-out (a responsible person needs no login to be
warned by SMS), or a bare address that is neither (a rescue team's contact
phone: `notify_addresses`). Partial unique indexes keep one delivery per
(message, recipient, channel), so a fan-out rerun adds nothing.

`person_id` is a plain column, not a foreign key: notifications sit below the
registry in the app layering and never name it; the fan-out copies the
address it needs, so a delivery never reads the registry again.

The row is its own queue entry. `next_attempt_at` is also the claim's lease:
a worker claiming a row pushes it `LEASE` into the future, so a worker that
dies mid-batch leaves rows that simply fall due again (see delivery.py).
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Message(models.Model):
    class Fanout(models.TextChoices):
        NONE = "", "none"  # written with its deliveries by notify()
        RUNNING = "running"
        DONE = "done"

    kind = models.CharField(max_length=48)  # e.g. case.assigned, case.escalated
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(max_length=200)  # unique in Meta, without a LIKE index
    created_at = models.DateTimeField(default=timezone.now)
    # A fan-out's progress: the last recipient id whose chunk is committed, so a
    # rerun after a crash continues after it (and ON CONFLICT covers the rest).
    fanout_state = models.CharField(max_length=8, choices=Fanout.choices, blank=True, default="")
    fanout_cursor = models.BigIntegerField(default=0)
    fanout_count = models.BigIntegerField(default=0)
    # Who holds the fan-out: a runner takes it while this is past and pushes it on
    # per chunk, so a dead runner's fan-out is resumed by the next worker loop.
    fanout_lease_until = models.DateTimeField(null=True, blank=True)
    # The recipients: {"kind": "person"|"user", "channels": [...], "sql": …, "params": […]},
    # SQL compiled by Django from the caller's queryset (never text from a request).
    fanout_query = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        # The poller looks for stalled fan-outs every loop: only running ones are indexed.
        indexes = [models.Index(fields=["fanout_lease_until"], name="message_fanout_running",
                                condition=Q(fanout_state="running"))]
        constraints = [models.UniqueConstraint(fields=["dedupe_key"],
                                               name="notification_message_dedupe")]

    def __str__(self):
        return f"{self.kind}: {self.title}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"  # due at next_attempt_at (claimed while that is a lease)
        SENT = "sent"
        FAILED = "failed"  # gave up after MAX_ATTEMPTS

    # Rows are kept small: a fan-out writes a million of them. The message FK
    # and the user FK have no index of their own; the unique indexes lead with them.
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries",
                                db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                             blank=True, related_name="deliveries", db_index=False)
    person_id = models.BigIntegerField(null=True, blank=True)  # registry.Person, see above
    channel = models.CharField(max_length=16, default="inapp")  # inapp, sms, wechat, …
    address = models.CharField(max_length=64, blank=True)  # e.g. the phone at fan-out
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_via = models.CharField(max_length=16, blank=True)
    provider_ref = models.CharField(max_length=64, blank=True)  # the gateway's message id
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["user", "read_at"], name="delivery_inbox",
                         condition=Q(user__isnull=False)),
            # Only what is still to send is indexed: sent rows leave the index.
            models.Index(fields=["channel", "next_attempt_at"], name="delivery_due",
                         condition=Q(status="pending")),
        ]
        constraints = [
            # One recipient: a user, a person, or (neither) an address of its own.
            models.CheckConstraint(
                condition=(Q(user__isnull=False, person_id__isnull=True)
                           | Q(user__isnull=True, person_id__isnull=False)
                           | (Q(user__isnull=True, person_id__isnull=True) & ~Q(address=""))),
                name="delivery_one_recipient"),
            models.UniqueConstraint(fields=["message", "user", "channel"],
                                    condition=Q(user__isnull=False),
                                    name="delivery_user_unique"),
            models.UniqueConstraint(fields=["message", "person_id", "channel"],
                                    condition=Q(person_id__isnull=False),
                                    name="delivery_person_unique"),
            models.UniqueConstraint(fields=["message", "address", "channel"],
                                    condition=Q(user__isnull=True, person_id__isnull=True),
                                    name="delivery_address_unique"),
        ]

    def __str__(self):
        if self.user_id or self.person_id:
            who = f"user {self.user_id}" if self.user_id else f"person {self.person_id}"
        else:  # an address alone (a phone: personal data, masked as in the logs)
            from zhili.notifications.channels import mask_address

            who = mask_address(self.address)
        return f"{self.message_id} → {who} ({self.channel}, {self.status})"
