"""One index per search the audit page offers, none twice.

Every append holds the chain lock until its commit, so each index on
audit_auditentry slows every audited write. `db_index=True` on a CharField
gives PostgreSQL two indexes (plain and LIKE); these are replaced by one each,
and the object's type and id share one.

SQLite rebuilds the table for these AlterFields, and the rebuild drops the
table's triggers (see 0002): they are created again at the end, written out
here as in 0002 and 0003.
"""

from django.conf import settings
from django.db import migrations, models

SQLITE_ENTRY_TRIGGERS = [
    """
    CREATE TRIGGER IF NOT EXISTS zhili_audit_no_update BEFORE UPDATE ON audit_auditentry
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on audit_auditentry refused'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS zhili_audit_no_delete BEFORE DELETE ON audit_auditentry
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_auditentry refused'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS zhili_audit_advance_head AFTER INSERT ON audit_auditentry
    BEGIN UPDATE audit_audithead SET last_hash = NEW.entry_hash, last_id = NEW.id WHERE id = 1; END
    """,
]


def reinstall_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_ENTRY_TRIGGERS:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_head_follows_entries'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='area_path',
            field=models.CharField(blank=True, max_length=96),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='entry_hash',
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='object_id',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='object_type',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='request_id',
            field=models.CharField(max_length=64),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['action'], name='audit_action', opclasses=['varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['object_type', 'object_id'], name='audit_object'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['area_path'], name='audit_area_path', opclasses=['varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['request_id'], name='audit_request'),
        ),
        migrations.AddConstraint(
            model_name='auditentry',
            constraint=models.UniqueConstraint(fields=('entry_hash',), name='audit_entry_hash_unique'),
        ),
        migrations.RunPython(reinstall_sqlite_triggers, migrations.RunPython.noop),
    ]
