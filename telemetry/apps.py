from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_partitions(sender, using="default", **kwargs):
    """After every ``migrate`` (test databases too): the monthly event partitions ingestion needs now."""
    from django.db import connections

    from .services.partitions import telemetry_partitions_ensure

    if (
        connections[using].vendor == "postgresql"
        and "telemetry_event" in connections[using].introspection.table_names()
    ):
        telemetry_partitions_ensure()


class TelemetryConfig(AppConfig):
    name = "telemetry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(_ensure_partitions, sender=self, dispatch_uid="telemetry-partitions")
