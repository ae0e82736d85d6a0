"""Register telemetry's periodic work with django-celery-beat's DatabaseScheduler: the daily rollup of
downloads, active users and crashes (hourly, so today's row stays current) and the event partitions
(every 6 hours: created ahead, expired ones dropped). Editable in the admin under "Periodic tasks"."""

from django.db import migrations

SCHEDULES = (
    ("telemetry: roll up daily app stats", "telemetry.tasks.telemetry_rollup", 1, "hours"),
    ("telemetry: maintain event partitions", "telemetry.tasks.telemetry_partitions", 6, "hours"),
)


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "enabled": True}
        )


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("telemetry", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
