"""The Celery app: the same image runs web, worker (`celery -A mosis worker`) and beat (`celery -A mosis beat`)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mosis.settings.local")

app = Celery("mosis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
