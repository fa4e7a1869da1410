from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("supervision", "0002_reports_problems"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reportrun",
            name="status",
            field=models.CharField(choices=[("queued", "queued"), ("running", "running"),
                                            ("succeeded", "succeeded"), ("failed", "failed")],
                                   db_index=True, default="running", max_length=10),
        ),
        migrations.AddField(
            model_name="reportrun",
            name="error_msgid",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="reportrun",
            name="error_params",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
