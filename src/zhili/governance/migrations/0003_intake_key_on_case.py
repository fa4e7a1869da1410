"""The Idempotency-Key moves onto the case it created (one INSERT fewer per intake)."""

from django.db import migrations, models


def copy_keys(apps, schema_editor):
    IntakeKey = apps.get_model("governance", "IntakeKey")
    Case = apps.get_model("governance", "Case")
    db = schema_editor.connection.alias
    for key in IntakeKey.objects.using(db).order_by("id").iterator(chunk_size=2000):
        Case.objects.using(db).filter(pk=key.case_id).update(intake_key=key.key,
                                                             intake_scope=key.scope)


def copy_back(apps, schema_editor):
    IntakeKey = apps.get_model("governance", "IntakeKey")
    Case = apps.get_model("governance", "Case")
    db = schema_editor.connection.alias
    rows = Case.objects.using(db).exclude(intake_key="").values_list(
        "pk", "intake_key", "intake_scope", "created_at")
    IntakeKey.objects.using(db).bulk_create(
        [IntakeKey(case_id=pk, key=key, scope=scope, created_at=at) for pk, key, scope, at in rows],
        batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0002_lean_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='intake_key',
            field=models.CharField(blank=True, editable=False, max_length=128),
        ),
        migrations.AddField(
            model_name='case',
            name='intake_scope',
            field=models.CharField(blank=True, editable=False, max_length=80),
        ),
        migrations.RunPython(copy_keys, copy_back),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.UniqueConstraint(condition=models.Q(('intake_key', ''), _negated=True), fields=('intake_key', 'intake_scope'), name='case_intake_key_unique'),
        ),
        migrations.DeleteModel(
            name='IntakeKey',
        ),
    ]
