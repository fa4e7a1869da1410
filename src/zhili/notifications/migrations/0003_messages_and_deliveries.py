"""Notifications become a message stored once plus one delivery per recipient and channel.

The old outbox rows are moved over: rows that shared a dedupe key (the old
per-row key was `<dedupe>|u<user id>|<channel>`) become one message with a
delivery each; status, attempts, times and read marks are kept.
"""

import re

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


SUFFIX = re.compile(r"\|u\d+\|[a-z0-9_-]+$")


def move_notifications(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Message = apps.get_model("notifications", "Message")
    Delivery = apps.get_model("notifications", "Delivery")
    messages = {}
    batch = []
    for old in Notification.objects.order_by("id").iterator(chunk_size=2000):
        key = SUFFIX.sub("", old.dedupe_key) or old.dedupe_key
        if key not in messages:
            messages[key] = Message.objects.create(
                kind=old.kind, title=old.title, body=old.body, link=old.link,
                object_type=old.object_type, object_id=old.object_id, dedupe_key=key,
                created_at=old.created_at).pk
        batch.append(Delivery(message_id=messages[key], user_id=old.recipient_id,
                              channel=old.channel, status=old.status, attempts=old.attempts,
                              next_attempt_at=old.next_attempt_at, sent_at=old.sent_at,
                              read_at=old.read_at, last_error=old.last_error))
        if len(batch) >= 2000:
            Delivery.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Delivery.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0002_lean_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Message',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=48)),
                ('title', models.CharField(max_length=200)),
                ('body', models.TextField(blank=True)),
                ('link', models.CharField(blank=True, max_length=300)),
                ('object_type', models.CharField(blank=True, max_length=64)),
                ('object_id', models.CharField(blank=True, max_length=64)),
                ('dedupe_key', models.CharField(max_length=200)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('fanout_state', models.CharField(blank=True, choices=[('', 'none'), ('running', 'Running'), ('done', 'Done')], default='', max_length=8)),
                ('fanout_cursor', models.BigIntegerField(default=0)),
                ('fanout_count', models.BigIntegerField(default=0)),
                ('fanout_lease_until', models.DateTimeField(blank=True, null=True)),
                ('fanout_query', models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('dedupe_key',), name='notification_message_dedupe')],
            },
        ),
        migrations.CreateModel(
            name='Delivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('person_id', models.BigIntegerField(blank=True, null=True)),
                ('channel', models.CharField(default='inapp', max_length=16)),
                ('address', models.CharField(blank=True, max_length=64)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed')], default='pending', max_length=8)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('read_at', models.DateTimeField(blank=True, null=True)),
                ('acknowledged_at', models.DateTimeField(blank=True, null=True)),
                ('acknowledged_via', models.CharField(blank=True, max_length=16)),
                ('provider_ref', models.CharField(blank=True, max_length=64)),
                ('last_error', models.TextField(blank=True)),
                ('user', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to=settings.AUTH_USER_MODEL)),
                ('message', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='notifications.message')),
            ],
            options={
                'verbose_name_plural': 'deliveries',
            },
        ),
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(condition=models.Q(('user__isnull', False)), fields=['user', 'read_at'], name='delivery_inbox'),
        ),
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(condition=models.Q(('status', 'pending')), fields=['channel', 'next_attempt_at'], name='delivery_due'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('person_id__isnull', True), ('user__isnull', False)), models.Q(('person_id__isnull', False), ('user__isnull', True)), _connector='OR'), name='delivery_one_recipient'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', False)), fields=('message', 'user', 'channel'), name='delivery_user_unique'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(condition=models.Q(('person_id__isnull', False)), fields=('message', 'person_id', 'channel'), name='delivery_person_unique'),
        ),
        migrations.RunPython(move_notifications, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='Notification',
        ),
    ]
