from django.db import migrations, models
from django.utils import timezone


def fail_left_running(apps, schema_editor):
    """Runs left `running` by a killed process before this migration: failed, so that the
    one-running constraint can be created."""
    CoverageRun = apps.get_model("emergency", "CoverageRun")
    CoverageRun.objects.filter(status="running").update(
        status="failed", finished_at=timezone.now(),
        error="left running by a stopped process (found when upgrading)")


class Migration(migrations.Migration):

    dependencies = [
        ("emergency", "0002_incidents"),
    ]

    operations = [
        migrations.AddField(
            model_name="coveragerun",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fail_left_running, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="coveragerun",
            constraint=models.UniqueConstraint(condition=models.Q(("status", "running")),
                                               fields=("status",),
                                               name="emergency_one_running_coverage_run"),
        ),
    ]
