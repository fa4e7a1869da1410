"""Intake pays for every index on a case: drop those no query needs or another index leads with; index the duplicate check."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('geo', '0001_initial'),
        ('governance', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='case',
            name='case_area_recent',
        ),
        migrations.AlterField(
            model_name='case',
            name='area_path',
            field=models.CharField(editable=False, max_length=96),
        ),
        migrations.AlterField(
            model_name='case',
            name='category',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='governance.category'),
        ),
        migrations.AlterField(
            model_name='case',
            name='due_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='case',
            name='duplicate_of',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='duplicates', to='governance.case'),
        ),
        migrations.AlterField(
            model_name='case',
            name='is_dispute',
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name='case',
            name='reopen_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='case',
            name='status',
            field=models.CharField(choices=[('reported', 'Reported'), ('accepted', 'Accepted'), ('dispatched', 'Dispatched'), ('on_site', 'On site'), ('resolved', 'Resolved'), ('verified', 'Verified'), ('closed', 'Closed'), ('reopened', 'Reopened'), ('rejected', 'Rejected')], default='reported', max_length=10),
        ),
        migrations.AlterField(
            model_name='case',
            name='tracking_no',
            field=models.CharField(max_length=24),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['area_path', '-created_at'], name='case_area_path_recent', opclasses=['varchar_pattern_ops', 'timestamptz_ops']),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('duplicate_of__isnull', True), ('status__in', ['reported', 'accepted', 'dispatched', 'on_site', 'reopened'])), fields=['category', 'lat'], name='case_open_nearby'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('duplicate_of__isnull', False)), fields=['duplicate_of'], name='case_duplicates'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('reopen_until__isnull', False)), fields=['reopen_until'], name='case_reopen_until'),
        ),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.UniqueConstraint(fields=('tracking_no',), name='case_tracking_no_unique'),
        ),
    ]
