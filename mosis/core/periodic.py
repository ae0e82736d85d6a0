"""Periodic work without a separate beat process, for the embedded mode (SPEC §2).

In production one ``celery beat`` sends the periodic tasks (download rollups, the upload sweeper...) from the
django-celery-beat schedule in the database, and workers run them. In the embedded mode there is no broker
and no beat: Celery runs tasks eagerly, in the calling process. There, the web process runs Celery's own
beat service (``celery.beat.Service``) in a daemon thread with the same database scheduler, so the same
schedule (editable in the admin under "Periodic tasks") fires the same tasks, and each runs eagerly in that
thread. A newcomer sees download counts and rollups appear as the docs describe, without starting
anything else.

``PERIODIC_IN_PROCESS`` (default: on exactly when tasks run eagerly) turns it on; ``mosis/wsgi.py`` calls
``start_periodic_work()`` once the application is loaded, so only processes that serve requests run it
(not ``manage.py`` commands, not the autoreloader's parent). Every periodic task is idempotent, so two
embedded web processes running the schedule at once only repeat work.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connections

logger = logging.getLogger("mosis.periodic")

# Beat re-reads the schedule at least this often (seconds): a changed interval applies within it.
MAX_INTERVAL = 5.0

_lock = threading.Lock()
_thread: BeatThread | None = None


class BeatThread(threading.Thread):
    """Celery beat's service in a daemon thread; its database connections are closed when it stops."""

    def __init__(self, app):
        from celery.beat import Service

        super().__init__(name="mosis-periodic", daemon=True)
        self.app = app
        self.service = Service(app, max_interval=MAX_INTERVAL, scheduler_cls=settings.CELERY_BEAT_SCHEDULER)

    def run(self) -> None:
        self.app.set_current()
        try:
            self.service.start()
        finally:
            connections.close_all()  # this thread's: a test database could not be dropped otherwise

    def stop(self) -> None:
        self.service.stop(wait=True)
        self.join(timeout=MAX_INTERVAL * 2)


def start_periodic_work() -> bool:
    """Start the in-process beat thread if ``PERIODIC_IN_PROCESS``; once per process. Returns whether it runs."""
    global _thread
    if not settings.PERIODIC_IN_PROCESS:
        return False
    with _lock:
        if _thread is None:
            from mosis.celery import app

            # Beat only runs tasks it knows; one it does not is *sent*, and with no broker it would vanish.
            # A worker imports every app's tasks module at start; nothing had, in a web process.
            app.autodiscover_tasks(force=True)
            _thread = BeatThread(app)
            _thread.start()
            logger.info("periodic tasks run in this process (%s)", settings.CELERY_BEAT_SCHEDULER)
    return True


def stop_periodic_work() -> None:
    """Stop the beat thread and wait for it (tests; the daemon thread otherwise ends with the process)."""
    global _thread
    with _lock:
        if _thread is not None:
            _thread.stop()
            _thread = None
