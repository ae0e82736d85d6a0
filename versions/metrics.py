"""Prometheus metrics of the versions app: package validations (docs/operations.md, Metrics)."""

from prometheus_client import Counter, Histogram

VALIDATIONS = Counter(
    "mosis_validations",
    "Package validation runs by outcome: the status the version ended in (draft = passed, rejected), retry "
    "(storage unavailable, retried with backoff) or skipped (the version was not validating any more).",
    ["outcome"],
)
VALIDATION_SECONDS = Histogram(
    "mosis_validation_seconds",
    "Time to validate one package (download from storage, every SPEC §7 check, recording the result).",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 180.0, 600.0),
)
