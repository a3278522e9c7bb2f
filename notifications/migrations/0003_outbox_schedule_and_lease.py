"""The outbox relay's schedule and lease: next_attempt_at, retry_window_from, a claim."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def start_schedule_at_creation(apps, schema_editor):
    # Existing rows: due since they were created, their day of retries counted from then.
    # (Notification is not a history-tracked model, so a bulk update is safe.)
    Notification = apps.get_model("notifications", "Notification")
    Notification.objects.update(
        next_attempt_at=F("created_at"), retry_window_from=F("created_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_copies_name_relationships"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="next_attempt_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="notification",
            name="retry_window_from",
            field=models.DateTimeField(default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="notification",
            name="claimed_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="claim_token",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.RunPython(start_schedule_at_creation, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="notification",
            name="email_status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting to be sent"),
                    ("sent", "Sent"),
                    ("failed", "Failed after a day of retries"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                fields=["email_status", "next_attempt_at"],
                name="notificatio_email_s_f2ed66_idx",
            ),
        ),
    ]
