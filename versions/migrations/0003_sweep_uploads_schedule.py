"""Register the sweeper with django-celery-beat's DatabaseScheduler (every 5 minutes).

The schedule lives in the database (editable in the admin under "Periodic tasks"), so it is created here
rather than in CELERY_BEAT_SCHEDULE; see docs/api/versions.md.
"""

from django.db import migrations

TASK_NAME = "versions: sweep stale uploads and stuck validations"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5_minutes, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "versions.tasks.sweep_uploads_task", "interval": every_5_minutes, "enabled": True},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("versions", "0002_review_queue_and_validation_attempts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
