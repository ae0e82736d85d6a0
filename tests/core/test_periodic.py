"""``mosis.core.periodic``: the embedded mode runs the database beat schedule in a thread of the web process,
and each due task runs there (eagerly), with no beat or worker process."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from celery.signals import task_postrun
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from mosis.core import periodic
from tests.factories import AppFactory, AppVersionFactory
from versions.constants import VersionStatus
from versions.models import AppVersion


def test_nothing_starts_when_periodic_work_is_off(settings):
    settings.PERIODIC_IN_PROCESS = False
    assert periodic.start_periodic_work() is False


@pytest.mark.django_db(transaction=True)
def test_a_due_task_of_the_database_schedule_runs_in_this_process(settings):
    settings.PERIODIC_IN_PROCESS = True
    abandoned = AppVersionFactory(app=AppFactory(), status=VersionStatus.UPLOADING)
    AppVersion.objects.filter(pk=abandoned.pk).update(created_at=timezone.now() - timedelta(days=3))
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name="sweep (test)", defaults={"task": "versions.tasks.sweep_uploads_task", "interval": every_second}
    )
    ran = threading.Event()

    def on_postrun(sender=None, **kwargs):
        if sender is not None and sender.name == "versions.tasks.sweep_uploads_task":
            ran.set()

    task_postrun.connect(on_postrun, weak=False)
    try:
        assert periodic.start_periodic_work() is True
        assert periodic.start_periodic_work() is True  # once per process: a second call starts nothing
        assert ran.wait(timeout=30), "the sweep never ran"
    finally:
        periodic.stop_periodic_work()
        task_postrun.disconnect(on_postrun)
    assert not AppVersion.objects.filter(pk=abandoned.pk).exists()
