"""Prometheus metrics of the versions app: package validations (docs/operations.md, Metrics).

Counted from Celery's task signals around ``versions.tasks.validate_version_task``, so the task itself stays
as it is: each run is counted by the status it left the version in (``draft`` = passed, ``rejected``),
``skipped`` when the version was gone, ``retry`` when it is retried (storage or database unavailable) and
``error`` when the task itself failed; its duration is observed for every run.
"""

import threading
import time

from celery.signals import task_postrun, task_prerun
from prometheus_client import Counter, Histogram

VALIDATION_TASK = "versions.tasks.validate_version_task"

VALIDATIONS = Counter(
    "mosis_validations",
    "Package validation runs by outcome: the status the version ended in (draft = passed, rejected), skipped "
    "(the version was gone), retry (storage or database unavailable, retried with backoff) or error.",
    ["outcome"],
)
VALIDATION_SECONDS = Histogram(
    "mosis_validation_seconds",
    "Time of one package validation run (download from storage, every SPEC §7 check, recording the result).",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 180.0, 600.0),
)

_started: dict[str, float] = {}
_lock = threading.Lock()


@task_prerun.connect(dispatch_uid="mosis-validation-metrics-start")
def _validation_started(sender=None, task_id=None, **kwargs):
    if getattr(sender, "name", None) == VALIDATION_TASK:
        with _lock:
            _started[task_id] = time.perf_counter()


@task_postrun.connect(dispatch_uid="mosis-validation-metrics-end")
def _validation_finished(sender=None, task_id=None, retval=None, state=None, **kwargs):
    if getattr(sender, "name", None) != VALIDATION_TASK:
        return
    with _lock:
        started = _started.pop(task_id, None)
    if started is not None:
        VALIDATION_SECONDS.observe(time.perf_counter() - started)
    if state == "RETRY":
        outcome = "retry"
    elif state != "SUCCESS":
        outcome = "error"
    else:
        outcome = str(retval) if retval is not None else "skipped"
    VALIDATIONS.labels(outcome=outcome).inc()
